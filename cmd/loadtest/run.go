package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/dixacache"
	"github.com/example/dixa-console/web/role"
	"github.com/example/dixa-console/web/store"
)

const apiKey = "loadtest-key"

// env is the console and the simulator under test.
type env struct {
	sim     *dixasim.Sim
	console string // base URL
	emails  []string
	ids     []string
	close   func()
	cache   func() dixacache.Stats
}

// start runs the simulator (Dixa's limit and latency on) and the console
// in front of it, and reads every customer's id and email (before the
// measured run).
func start(ctx context.Context, o options, dir string) (*env, error) {
	sim := dixasim.New(dixasim.Options{APIKey: apiKey, Users: o.customers, RateLimit: o.rps, Burst: o.burst, RetryAfter: true})
	simSrv := httptest.NewServer(sim)
	api, err := apiclient.New(simSrv.URL,
		apiclient.WithAPIKey(apiKey),
		apiclient.WithLimiter(apiclient.NewLimiter(o.rps, o.burst)),
		apiclient.WithTimeout(10*time.Second),
		apiclient.WithMaxWait(o.queueMax))
	if err != nil {
		simSrv.Close()
		return nil, err
	}
	e := &env{sim: sim}
	if e.ids, e.emails, err = customers(ctx, simSrv.URL, o); err != nil {
		simSrv.Close()
		return nil, err
	}
	db, err := store.Open(ctx, dir, "")
	if err != nil {
		simSrv.Close()
		return nil, err
	}
	srv, err := web.New(consoleConfig(o), web.Deps{API: api, Logger: slog.New(slog.DiscardHandler), Store: db})
	if err != nil {
		db.Close()
		simSrv.Close()
		return nil, err
	}
	bg, stop := context.WithCancel(ctx)
	srv.Start(bg)
	ts := httptest.NewServer(srv)
	e.console = ts.URL
	e.cache = srv.CacheStats
	e.close = func() { ts.Close(); stop(); db.Close(); simSrv.Close() }
	sim.SetLatency(dixasim.AllRoutes, o.latency, o.latency)
	// Listing the customers drained Dixa's bucket for the token; the
	// agents start once it is full again, as on any ordinary morning.
	time.Sleep(time.Duration(float64(o.burst)/o.rps*float64(time.Second)) + time.Second)
	sim.ResetStats()
	return e, nil
}

// customers lists every customer through a client of its own.
func customers(ctx context.Context, simURL string, o options) (ids, emails []string, err error) {
	c, err := apiclient.New(simURL, apiclient.WithAPIKey(apiKey), apiclient.WithLimiter(apiclient.NewLimiter(o.rps, o.burst)))
	if err != nil {
		return nil, nil, err
	}
	key := ""
	for {
		p, err := c.ListEndUsers(ctx, apiclient.ListOptions{PageLimit: 100, PageKey: key})
		if err != nil {
			return nil, nil, fmt.Errorf("listing customers: %w", err)
		}
		for _, u := range p.Items {
			if u.Email != "" {
				ids, emails = append(ids, u.ID), append(emails, u.Email)
			}
		}
		if p.NextKey == "" || len(p.Items) == 0 {
			return ids, emails, nil
		}
		key = p.NextKey
	}
}

func consoleConfig(o options) web.Config {
	return web.Config{
		ListenAddr: "127.0.0.1:0", DixaAPIVersion: "v1",
		UpstreamRPS: o.rps, UpstreamBurst: o.burst, UpstreamTimeout: 10 * time.Second,
		AuthMode: "dev", AuthHeaderUser: "X-Forwarded-Email", AuthHeaderName: "X-Forwarded-User", AuthHeaderGroups: "X-Forwarded-Groups",
		AuthTrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		OIDCGroupsClaim:    "groups",
		RoleGroups:         map[role.Role][]string{role.Viewer: {"v"}, role.Agent: {"a"}, role.Lead: {"l"}},
		CookieSameSite:     "lax", FrameAncestors: "'self'", ErasureApproval: "required",
		PhoneDefaultRegion: "DK", LogFormat: "text", LogLevel: "error", Embedded: true,
		CacheTTL: o.cacheTTL, StaleMax: 5 * time.Minute,
	}
}

// page is one page an agent loaded.
type page struct {
	took   time.Duration
	status int
	stale  bool
	retry  bool // a 503 with Retry-After
	// profile: a profile page (else a search)
	profile bool
}

// agent signs in as its own person and works until the deadline.
func agent(ctx context.Context, e *env, o options, n int, until time.Time, started *atomic.Int64, out chan<- work) {
	rng := rand.New(rand.NewPCG(uint64(o.seed), uint64(n)))
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if _, err := c.PostForm(e.console+"/login", url.Values{"name": {fmt.Sprintf("Agent %d", n)}, "role": {"agent"}}); err != nil {
		out <- work{}
		return
	}
	var w work
	// Each agent is already at work when the run starts: its first task
	// comes after a think time drawn like the others (exponential, so
	// memoryless), and tasks arrive at the steady rate from the first
	// second. Spreading the first tasks evenly over one think time would
	// add the early agents' second tasks on top: about 1.4 times the
	// steady rate for the first think time.
	sleep(ctx, time.Duration(rng.ExpFloat64()*float64(o.think)), until)
	for time.Now().Before(until) && ctx.Err() == nil {
		started.Add(1)
		i := rng.IntN(len(e.ids))
		if rng.Float64() < o.hotShare {
			i = rng.IntN(min(o.hotCount, len(e.ids)))
		}
		search := get(c, e.console+"/endusers?by=auto&q="+url.QueryEscape(e.emails[i]))
		w.pages = append(w.pages, search)
		if search.status == http.StatusOK {
			profile := get(c, e.console+"/endusers/"+e.ids[i])
			profile.profile = true
			w.pages = append(w.pages, profile)
			if profile.status == http.StatusOK {
				w.tasks++
			}
		}
		sleep(ctx, time.Duration(rng.ExpFloat64()*float64(o.think)), until)
	}
	out <- w
}

// work is what one agent did.
type work struct {
	pages []page
	tasks int
}

func get(c *http.Client, u string) page {
	t0 := time.Now()
	resp, err := c.Get(u)
	if err != nil {
		return page{took: time.Since(t0), status: 0}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return page{took: time.Since(t0), status: resp.StatusCode, stale: bytes.Contains(body, []byte(`data-testid="stale-notice"`)),
		retry: resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""}
}

func sleep(ctx context.Context, d time.Duration, until time.Time) {
	if r := time.Until(until); d > r {
		d = max(r, 0)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// run starts everything, lets the agents work and collects the result.
func run(ctx context.Context, o options) (*result, error) {
	dir, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	e, err := start(ctx, o, dir)
	if err != nil {
		return nil, err
	}
	defer e.close()
	res := &result{liveBefore: liveHeap()}
	until := time.Now().Add(o.duration)
	out := make(chan work, o.agents)
	var wg sync.WaitGroup
	for n := range o.agents {
		wg.Add(1)
		go func() { defer wg.Done(); agent(ctx, e, o, n, until, &res.started, out) }()
	}
	watched := make(chan struct{})
	go func() { defer close(watched); watchMemory(ctx, e, o, until, res) }()
	wg.Wait()
	<-watched
	res.liveAfter = liveHeap()
	close(out)
	for w := range out {
		res.add(w)
	}
	st := e.sim.Stats()
	res.upstream, res.tooMany, res.maxPerSecond = st.Total.Requests, st.Total.TooManyRequests, st.Total.MaxPerSecond
	return res, nil
}

// watchMemory samples the console's read cache and the process's heap
// every second until the deadline, keeping the largest values, and prints
// a line every o.report (0: never).
func watchMemory(ctx context.Context, e *env, o options, until time.Time, res *result) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := time.Now()
	for time.Now().Before(until) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cs := e.cache()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		res.maxEntries = max(res.maxEntries, cs.Entries)
		res.maxCacheBytes = max(res.maxCacheBytes, cs.Bytes)
		res.maxHeap = max(res.maxHeap, ms.HeapAlloc)
		if o.report > 0 && time.Since(last) >= o.report {
			last = time.Now()
			fmt.Printf("%s cache %d entries, %.1f MB; heap %.1f MB; tasks so far %d\n", time.Now().Format("15:04:05"),
				cs.Entries, float64(cs.Bytes)/(1<<20), float64(ms.HeapAlloc)/(1<<20), res.started.Load())
		}
	}
}

// liveHeap is the heap still in use after a collection: what the process
// holds, without the garbage not yet collected.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
