package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/example/dixa-console/web/dixacache"
)

// result is what the agents saw and what Dixa received.
type result struct {
	pages        []time.Duration
	searches     []time.Duration
	profiles     []time.Duration
	tasks        int // a search and then the profile, both answered
	failed       int // pages not answered 200
	failedRetry  int // of which 503 with Retry-After
	slowFail     int // failed pages that took 2.5 s or more
	stale        int // pages served from held data with a notice
	upstream     int
	tooMany      int
	maxPerSecond int

	started       atomic.Int64 // tasks begun, while the agents work
	maxEntries    int          // the read cache's largest size
	maxCacheBytes int64
	maxHeap       uint64 // the process's largest heap (console, simulator, agents)
	// The live heap after a collection, before the agents start (empty
	// cache) and after they stop (full cache, as it ends).
	liveBefore, liveAfter uint64
}

func (r *result) add(w work) {
	r.tasks += w.tasks
	for _, p := range w.pages {
		r.pages = append(r.pages, p.took)
		if p.profile {
			r.profiles = append(r.profiles, p.took)
		} else {
			r.searches = append(r.searches, p.took)
		}
		if p.stale {
			r.stale++
		}
		if p.status == http.StatusOK {
			continue
		}
		r.failed++
		if p.retry {
			r.failedRetry++
		}
		if p.took >= 2500*time.Millisecond {
			r.slowFail++
		}
	}
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return d[i]
}

func (r *result) print(w io.Writer, o options) {
	slices.Sort(r.pages)
	slices.Sort(r.searches)
	slices.Sort(r.profiles)
	secs := o.duration.Seconds()
	demand := float64(o.agents) * secs / (o.think.Seconds() + 0.2)
	budget := o.rps*secs + float64(o.burst)
	fmt.Fprintf(w, "agents %d, customers %d, hot share %.0f%% on %d, latency %s, think %s, duration %s\n",
		o.agents, o.customers, o.hotShare*100, o.hotCount, o.latency, o.think, o.duration)
	fmt.Fprintf(w, "pages %d: p50 %s, p95 %s, p99 %s\n", len(r.pages), rnd(pct(r.pages, .50)), rnd(pct(r.pages, .95)), rnd(pct(r.pages, .99)))
	fmt.Fprintf(w, "  searches p50 %s, p95 %s; profiles p50 %s, p95 %s\n", rnd(pct(r.searches, .50)), rnd(pct(r.searches, .95)),
		rnd(pct(r.profiles, .50)), rnd(pct(r.profiles, .95)))
	perTask := 0.0
	if r.tasks > 0 {
		perTask = float64(r.upstream) / float64(r.tasks)
	}
	fmt.Fprintf(w, "tasks done %d; upstream calls %d (%.2f per task), busiest second %d, 429 from Dixa %d\n", r.tasks, r.upstream, perTask, r.maxPerSecond, r.tooMany)
	fmt.Fprintf(w, "failed pages %d (503 with Retry-After %d, slower than 2.5 s %d); pages shown stale with a notice %d\n", r.failed, r.failedRetry, r.slowFail, r.stale)
	fmt.Fprintf(w, "tasks asked for ≈%.0f; the budget (%.0f calls) allows %.0f uncached tasks at 3 calls each; done = %.0f%% of min(asked, budget)\n",
		demand, budget, budget/3, 100*float64(r.tasks)/min(demand, budget/3))
	fmt.Fprintf(w, "read cache at most %d entries, %.1f MB (bounds: %d entries, %d MB); process heap at most %.1f MB\n",
		r.maxEntries, float64(r.maxCacheBytes)/(1<<20), dixacache.DefaultMaxEntries, dixacache.DefaultMaxBytes>>20, float64(r.maxHeap)/(1<<20))
	fmt.Fprintf(w, "live heap after a collection: %.1f MB before the agents, %.1f MB after (%+.1f MB)\n",
		float64(r.liveBefore)/(1<<20), float64(r.liveAfter)/(1<<20), (float64(r.liveAfter)-float64(r.liveBefore))/(1<<20))
	fmt.Fprintf(w, "| %d | %d | %.2f | %s | %d | %d | %d of ≈%.0f |\n", o.agents, o.customers, perTask, rnd(pct(r.pages, .95)), r.tooMany, r.failed, r.tasks, min(demand, budget/3))
}

func rnd(d time.Duration) string { return d.Round(time.Millisecond).String() }
