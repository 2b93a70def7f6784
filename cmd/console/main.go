// Command console is the Dixa end-user console: a server-rendered admin
// console for the customers held in Dixa. With no configuration it runs
// against an embedded Dixa simulator with demo data.
//
//	console               serve (configuration from the environment and flags)
//	console healthcheck   exit 0 when the console at LISTEN_ADDR is healthy
//	console verify        check the audit log's hash chain (exit 1 if broken)
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "console:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is the whole program, testable: args without the program name.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		return healthcheck(ctx, args[1:], getenv, stderr)
	}
	if len(args) > 0 && args[0] == "verify" {
		return verify(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	defer ln.Close()

	upstreamURL, key := cfg.DixaAPIURL, cfg.DixaAPIKey
	var simSrv *http.Server
	if cfg.Embedded {
		// The demo talks to the simulator over loopback HTTP through the same
		// client as production, so it exercises the real code path.
		key = randomKey()
		sim := dixasim.New(dixasim.Options{APIKey: key, RateLimit: 10, Burst: 4})
		sln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("start the embedded simulator: %w", err)
		}
		simSrv = &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
		go simSrv.Serve(sln)
		defer simSrv.Close()
		upstreamURL = "http://" + sln.Addr().String()
		log.Info("embedded Dixa simulator started", "url", upstreamURL, "endusers", sim.UserCount())
	}

	db, err := store.Open(ctx, cfg.DataDir, cfg.DatabaseURL)
	if err != nil {
		return storeErr(err)
	}
	defer db.Close()
	lim, err := newLimiter(ctx, cfg, db, key)
	if err != nil {
		return err
	}
	metrics := web.NewMetrics()
	api, err := apiclient.New(upstreamURL,
		apiclient.WithAPIKey(key),
		apiclient.WithVersion(cfg.DixaAPIVersion),
		apiclient.WithLimiter(lim),
		apiclient.WithTimeout(cfg.UpstreamTimeout),
		apiclient.WithQueueMax(cfg.UpstreamQueueMax),
		apiclient.WithLogger(log.With("component", "apiclient")),
		apiclient.WithObserver(metrics.ObserveUpstream),
	)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	// On PostgreSQL the server takes the store's cache bus by itself:
	// each replica's writes invalidate every replica's cache.
	deps := web.Deps{API: api, Logger: log, Metrics: metrics, Store: db}
	srv, err := web.New(cfg, deps)
	if err != nil {
		return err
	}
	srv.Start(ctx)

	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // CSV uploads
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String() + cfg.BasePath + "/"
	fmt.Fprintf(stdout, "Dixa end-user console listening on %s\n", url)
	if cfg.Embedded {
		fmt.Fprintln(stdout, "Running against the embedded Dixa simulator with demo data (dev sign-in).")
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newLimiter returns the Dixa rate limiter: on PostgreSQL one bucket in the
// database shared by every replica using the key, else one in this process.
func newLimiter(ctx context.Context, cfg web.Config, db *store.Store, key string) (*apiclient.Limiter, error) {
	if db.Dialect() != store.Postgres {
		return apiclient.NewLimiter(cfg.UpstreamRPS, cfg.UpstreamBurst), nil
	}
	b, err := db.RateBucket(ctx, key, cfg.UpstreamRPS, cfg.UpstreamBurst)
	if err != nil {
		return nil, err
	}
	return apiclient.NewSharedLimiter(b), nil
}

// storeErr makes a bad key file a configuration error (exit code 2): the
// operator must restore it; starting again will not help.
func storeErr(err error) error {
	if errors.Is(err, store.ErrKeyFile) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}

func newLogger(cfg web.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func randomKey() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// healthcheck asks the console at LISTEN_ADDR for /healthz; for container
// health checks that have no shell or curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, func(k string) string {
		// Only the address and prefix matter here; a container may not
		// carry the rest of the configuration into the check.
		if k == "LISTEN_ADDR" || k == "BASE_PATH" {
			return getenv(k)
		}
		return ""
	}, stderr)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(cfg.ListenAddr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	u := "http://" + net.JoinHostPort(host, port) + cfg.BasePath + "/healthz"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "ok") {
		return fmt.Errorf("healthcheck: %s", resp.Status)
	}
	return nil
}
