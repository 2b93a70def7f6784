// Command loadtest measures how many agents one Dixa token serves: it runs
// the console in process in front of the Dixa simulator with Dixa's rate
// limit and latency on, and simulates agents, each a distinct person, who
// repeatedly search a customer by email and open the profile, with a think
// time between tasks. It prints page latency percentiles, upstream calls
// per task, 429s from the simulator, failed pages, the tasks done against
// what the budget allows, and the read cache's size and the heap (with
// -report, also while it runs: a soak).
//
// The agents are already at work when the run starts (each one's first
// task comes after an ordinary think time), so tasks arrive at the steady
// rate from the first second. A 75 s run holds few busy spells: compare
// percentiles over runs of a few minutes.
//
//	go run ./cmd/loadtest -agents 30 -duration 300s -customers 5000 -hot-share 0.3 -hot-count 20
//	go run ./cmd/loadtest -agents 60 -duration 10m -customers 200000 -rps 5000 -burst 200 -latency 5ms -think 200ms -report 60s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

// options are the command's flags.
type options struct {
	agents    int
	duration  time.Duration
	think     time.Duration
	latency   time.Duration
	customers int
	hotShare  float64
	hotCount  int
	rps       float64
	burst     int
	queueMax  time.Duration
	cacheTTL  time.Duration
	seed      int64
	report    time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.agents, "agents", 30, "agents working at once, each a distinct person")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long the agents work")
	flag.DurationVar(&o.think, "think", 10*time.Second, "mean think time between tasks (exponential)")
	flag.DurationVar(&o.latency, "latency", 80*time.Millisecond, "Dixa's answer latency")
	flag.IntVar(&o.customers, "customers", 5000, "customers in the simulated organisation")
	flag.Float64Var(&o.hotShare, "hot-share", 0, "share of tasks on a few hot customers (0 to 1)")
	flag.IntVar(&o.hotCount, "hot-count", 20, "number of hot customers")
	flag.Float64Var(&o.rps, "rps", 10, "Dixa's rate limit per second for the token")
	flag.IntVar(&o.burst, "burst", 4, "Dixa's burst")
	flag.DurationVar(&o.queueMax, "queue-max", 2*time.Second, "how long a page waits for a Dixa token before it is served stale or refused")
	flag.DurationVar(&o.cacheTTL, "cache-ttl", 15*time.Second, "the console's CACHE_TTL")
	flag.Int64Var(&o.seed, "seed", 1, "random seed of the agents")
	flag.DurationVar(&o.report, "report", 0, "print the read cache's size and the heap this often while running (0: only at the end)")
	flag.Parse()
	if o.agents < 1 || o.customers < 1 || o.duration <= 0 || o.hotShare < 0 || o.hotShare > 1 {
		fmt.Fprintln(os.Stderr, "loadtest: -agents and -customers must be at least 1, -duration positive, -hot-share from 0 to 1")
		os.Exit(2)
	}
	res, err := run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	res.print(os.Stdout, o)
}
