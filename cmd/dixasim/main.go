// Command dixasim serves the in-memory Dixa API simulator on its own, for
// running the console locally without a Dixa account:
//
//	go run ./cmd/dixasim -addr 127.0.0.1:8081 -key dev-key
//
// Every flag can also be set through the environment (DIXASIM_ADDR,
// DIXASIM_KEY, DIXASIM_USERS, DIXASIM_SEED, DIXASIM_RPS, DIXASIM_BURST,
// DIXASIM_LATENCY, DIXASIM_RETRY_AFTER, DIXASIM_ANONYMIZE_DELAY,
// DIXASIM_MAX_PAGE); a flag wins over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/example/dixa-console/apiclient/dixasim"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dixasim:", err)
		os.Exit(1)
	}
}

// config is the command line, after the environment's defaults.
type config struct {
	addr           string
	key            string
	users          int
	seed           int64
	rps            float64
	burst          int
	latencyMin     time.Duration
	latencyMax     time.Duration
	retryAfter     bool
	anonymizeDelay time.Duration
	maxPage        int
}

// run serves until ctx ends or SIGINT/SIGTERM arrives, then shuts down
// gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	sim := dixasim.New(dixasim.Options{
		APIKey:         cfg.key,
		Seed:           cfg.seed,
		Users:          cfg.users,
		RateLimit:      cfg.rps,
		Burst:          cfg.burst,
		RetryAfter:     cfg.retryAfter,
		AnonymizeDelay: cfg.anonymizeDelay,
		MaxPageSize:    cfg.maxPage,
	})
	seeded := time.Since(start)
	if cfg.latencyMax > 0 {
		sim.SetLatency(dixasim.AllRoutes, cfg.latencyMin, cfg.latencyMax)
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           sim,
		ReadHeaderTimeout: 10 * time.Second,
	}
	rate := "off"
	if cfg.rps > 0 {
		rate = fmt.Sprintf("%g req/s, burst %d", cfg.rps, cfg.burst)
	}
	latency := "none"
	switch {
	case cfg.latencyMax > 0 && cfg.latencyMin == cfg.latencyMax:
		latency = cfg.latencyMax.String()
	case cfg.latencyMax > 0:
		latency = cfg.latencyMin.String() + "–" + cfg.latencyMax.String()
	}
	fmt.Fprintf(stdout, "dixasim: simulated Dixa API on http://%s (/v1 and /beta)\n", ln.Addr())
	fmt.Fprintf(stdout, "dixasim: API key: %s\n", cfg.key)
	fmt.Fprintf(stdout, "dixasim: %d end users (seed %d, seeded in %v); rate limit %s; latency %s; Retry-After %t; anonymize delay %v\n",
		sim.UserCount(), cfg.seed, seeded.Round(time.Millisecond), rate, latency, cfg.retryAfter, cfg.anonymizeDelay)
	for _, d := range []dixasim.DemoConversation{dixasim.DemoHugeMessage, dixasim.DemoHostileEmail, dixasim.DemoRTLChat} {
		if id, ok := sim.DemoConversationID(d); ok {
			fmt.Fprintf(stdout, "dixasim: demo conversation %s: %d\n", d, id)
		}
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "dixasim: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// parseConfig reads the flags, with defaults taken from the environment.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var errs []error
	envInt := func(name string, def int) int {
		v, err := strconv.Atoi(env(name, strconv.Itoa(def)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return v
	}
	envFloat := func(name string, def float64) float64 {
		v, err := strconv.ParseFloat(env(name, strconv.FormatFloat(def, 'g', -1, 64)), 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return v
	}
	envBool := func(name string) bool {
		v, err := strconv.ParseBool(env(name, "false"))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return v
	}
	envDuration := func(name string, def time.Duration) time.Duration {
		v, err := time.ParseDuration(env(name, def.String()))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return v
	}

	name := "dixasim"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var latency string
	fs.StringVar(&cfg.addr, "addr", env("DIXASIM_ADDR", "127.0.0.1:8081"), "listen address")
	fs.StringVar(&cfg.key, "key", env("DIXASIM_KEY", dixasim.DefaultAPIKey), "API key to accept (raw or as \"Bearer <key>\")")
	fs.IntVar(&cfg.users, "users", envInt("DIXASIM_USERS", 1200), "demo end users (-1: an empty organisation)")
	seed := fs.Int64("seed", int64(envInt("DIXASIM_SEED", 1)), "seed of the demo data")
	fs.Float64Var(&cfg.rps, "rps", envFloat("DIXASIM_RPS", 10), "rate limit in requests/second per key (0: off)")
	fs.IntVar(&cfg.burst, "burst", envInt("DIXASIM_BURST", 4), "rate limit burst")
	fs.StringVar(&latency, "latency", env("DIXASIM_LATENCY", ""), "added latency: fixed (50ms) or a range (20ms-200ms)")
	fs.BoolVar(&cfg.retryAfter, "retry-after", envBool("DIXASIM_RETRY_AFTER"), "send Retry-After on 429 answers")
	fs.DurationVar(&cfg.anonymizeDelay, "anonymize-delay", envDuration("DIXASIM_ANONYMIZE_DELAY", 2*time.Second), "time until an anonymization is processed")
	fs.IntVar(&cfg.maxPage, "max-page", envInt("DIXASIM_MAX_PAGE", 100), "largest pageLimit (an end user's conversations refuse more with 400)")
	if err := errors.Join(errs...); err != nil {
		return config{}, err
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg.seed = *seed
	var err error
	if cfg.latencyMin, cfg.latencyMax, err = parseLatency(latency); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// parseLatency reads "" (none), "50ms" (fixed) or "20ms-200ms" (a range).
func parseLatency(s string) (lo, hi time.Duration, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = time.ParseDuration(a); err != nil {
		return 0, 0, fmt.Errorf("-latency %q: %w", s, err)
	}
	hi = lo
	if isRange {
		if hi, err = time.ParseDuration(b); err != nil {
			return 0, 0, fmt.Errorf("-latency %q: %w", s, err)
		}
	}
	if lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("-latency %q: want 0 ≤ min ≤ max", s)
	}
	return lo, hi, nil
}
