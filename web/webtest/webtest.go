// Package webtest starts the whole console for tests: the Dixa simulator,
// the real client talking to it over loopback HTTP, and the real router,
// exactly as `go run ./cmd/console` wires them.
package webtest

import (
	"context"
	"github.com/example/dixa-console/web/role"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/store"
)

// Key is the API key the test simulator expects. Tests that scan for leaks
// look for it.
const Key = "canary-key-0f9e8d7c6b5a4f3e2d1c"

// Env is a running console in front of a simulator.
type Env struct {
	Sim    *dixasim.Sim
	API    *apiclient.Client
	Server *web.Server
	// Store is the console's database (SQLite in a temporary directory).
	Store *store.Store
	// URL is the console's root (with the base path), without a trailing slash.
	URL string
	Cfg web.Config
	// Logs holds every log line the console wrote.
	Logs   *LogBuffer
	ts     *httptest.Server
	stopBG context.CancelFunc

	logins atomic.Int64 // numbers the people Login makes up
}

// Options adjust the environment.
type Options struct {
	Sim    dixasim.Options    // APIKey is forced to Key
	Config func(*web.Config)  // adjust the console's configuration
	Client []apiclient.Option // extra client options
	// Tracker tunes the erasure tracker; nil: fast test intervals.
	Tracker *erasure.Tracking
	// Now is the console's clock (sessions, sign-in limits, the erasure
	// workflow; a Clock's Now); nil: time.Now.
	Now func() time.Time
	// SharedLimit takes the console's Dixa request slots from one bucket in
	// the database (PostgreSQL only) at the configured UpstreamRPS and
	// UpstreamBurst, as the server does on PostgreSQL; false: an
	// in-process limiter roomy enough never to hold a test back. A
	// WithLimiter in Client replaces either.
	SharedLimit bool
}

// Config is the configuration `go run ./cmd/console` uses with no
// environment, with the address left to the test server.
func Config() web.Config {
	return web.Config{
		ListenAddr:         "127.0.0.1:0",
		DixaAPIVersion:     "v1",
		UpstreamRPS:        10,
		UpstreamBurst:      4,
		UpstreamTimeout:    10 * time.Second,
		AuthMode:           "dev",
		AuthHeaderUser:     "X-Forwarded-Email",
		AuthHeaderName:     "X-Forwarded-User",
		AuthHeaderGroups:   "X-Forwarded-Groups",
		AuthTrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")},
		OIDCGroupsClaim:    "groups",
		RoleGroups:         map[role.Role][]string{role.Viewer: {"support-viewers"}, role.Agent: {"support-agents"}, role.Lead: {"support-leads"}},
		CookieSameSite:     "lax",
		FrameAncestors:     "'self'",
		ErasureApproval:    "required",
		PhoneDefaultRegion: "DK",
		LogFormat:          "text",
		LogLevel:           "debug",
		Embedded:           true,
	}
}

// New starts a simulator and a console for the test; both stop with it.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	sim, simURL := startSim(t, o)
	return startConsole(t, o, sim, simURL, nil)
}

// startSim starts the simulator of o; it stops with the test.
func startSim(t testing.TB, o Options) (*dixasim.Sim, string) {
	so := o.Sim
	so.APIKey = Key // the simulator's own rate limit stays off unless a test asks for it
	sim := dixasim.New(so)
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	return sim, simSrv.URL
}

// startConsole starts a console in front of the simulator at simURL;
// shared, when set, adjusts its configuration after o.Config (what the
// replicas of one deployment share).
func startConsole(t testing.TB, o Options, sim *dixasim.Sim, simURL string, shared func(*web.Config)) *Env {
	t.Helper()
	// The console's listener exists before its configuration is final, so
	// that Options.Config can use the address (cfg.ListenAddr), e.g. for an
	// OIDC redirect URL.
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	cfg := Config()
	cfg.ListenAddr = ts.Listener.Addr().String()
	cfg.DataDir = t.TempDir()
	if o.Config != nil {
		o.Config(&cfg)
	}
	if shared != nil {
		shared(&cfg)
	}
	logs := &LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	metrics := web.NewMetrics()
	db, err := store.Open(t.Context(), cfg.DataDir, cfg.DatabaseURL)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	lim := apiclient.NewLimiter(1000, 50)
	if o.SharedLimit {
		b, err := db.RateBucket(t.Context(), Key, cfg.UpstreamRPS, cfg.UpstreamBurst)
		if err != nil {
			t.Fatalf("shared rate limit: %v", err)
		}
		lim = apiclient.NewSharedLimiter(b)
	}
	opts := append([]apiclient.Option{
		apiclient.WithAPIKey(Key),
		apiclient.WithVersion(cfg.DixaAPIVersion),
		apiclient.WithLimiter(lim),
		apiclient.WithTimeout(cfg.UpstreamTimeout),
		apiclient.WithQueueMax(cfg.UpstreamQueueMax),
		apiclient.WithLogger(log),
		apiclient.WithObserver(metrics.ObserveUpstream),
	}, o.Client...)
	api, err := apiclient.New(simURL, opts...)
	if err != nil {
		t.Fatalf("apiclient.New: %v", err)
	}
	tracker := o.Tracker
	if tracker == nil {
		// Quick enough for tests that wait for an erasure to finish.
		tracker = &erasure.Tracking{Tick: 50 * time.Millisecond, Base: 100 * time.Millisecond, Max: time.Second, StaleAfter: 100 * time.Millisecond}
	}
	srv, err := web.New(cfg, web.Deps{API: api, Logger: log, Metrics: metrics, Store: db, ErasureTracking: tracker, Now: o.Now})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	bg, stopBG := context.WithCancel(context.Background())
	t.Cleanup(stopBG) // runs before the store closes
	srv.Start(bg)
	// The agent directory's first read is the console's own background
	// work: wait for it, and start the test with a clean record of what
	// Dixa received.
	select {
	case <-srv.AgentDirectory().Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the agent directory's first read did not end within 10s")
	}
	sim.ResetStats()
	ts.Config.Handler = srv
	ts.Start()
	return &Env{Sim: sim, API: api, Server: srv, Store: db, URL: ts.URL + cfg.BasePath, Cfg: cfg, Logs: logs, ts: ts, stopBG: stopBG}
}

// Stop ends this console as a lost replica ends: its background work (the
// erasure tracker, the import runner) stops where it is and it serves no
// more requests. Its leases are left to expire.
func (e *Env) Stop() {
	e.stopBG()
	e.ts.CloseClientConnections()
	e.ts.Close()
}

// Client returns an HTTP client with its own cookie jar that does not
// follow redirects (tests look at them).
func (e *Env) Client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Get fetches a console path ("/endusers?q=x") and returns the response
// with its body read.
func (e *Env) Get(t testing.TB, c *http.Client, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.Do(t, c, req)
}

// Do sends a request and reads the body.
func (e *Env) Do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

// PostForm posts a form as a same-origin browser would (Origin and
// Sec-Fetch-Site set) and returns the response with its body read.
func (e *Env) PostForm(t testing.TB, c *http.Client, path string, form map[string][]string, header ...string) (*http.Response, string) {
	t.Helper()
	body := encodeForm(form)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.Do(t, c, req)
}

// Origin is the scheme://host:port of the console.
func (e *Env) Origin() string { return e.ts.URL }

// LogBuffer is a concurrency-safe log sink for tests.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
