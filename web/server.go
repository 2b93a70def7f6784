// Package web is the console's HTTP server: the routes (routes.go), the
// middleware chain, sign-in and sessions, and the wiring of handlers to the
// Dixa client and the store.
package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/static"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/agents"
	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/dixacache"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/store"
)

// Deps are the collaborators the server is built from.
type Deps struct {
	API     *apiclient.Client
	Logger  *slog.Logger
	Metrics *Metrics // nil: a fresh registry
	// Store is the console's database (erasures, audit log, jobs); nil
	// leaves out the routes that need it.
	Store *store.Store
	// ErasureTracking tunes the erasure tracker (tests shorten its
	// intervals); nil means the defaults.
	ErasureTracking *erasure.Tracking
	// Now is the console's clock: sessions, sign-ins in progress, the
	// sign-in limit and the erasure workflow; nil: time.Now. Tests move it
	// instead of waiting.
	Now func() time.Time
	// CacheBus carries cache invalidations to the other replicas; nil:
	// the PostgreSQL store's bus, or none with SQLite (one process).
	CacheBus dixacache.Bus
}

// Server is the console's HTTP handler and what it holds.
type Server struct {
	cfg      Config
	log      *slog.Logger
	api      *apiclient.Client
	cache    *dixacache.Cache // shared Dixa reads (readcache.go)
	cacheBus dixacache.Bus    // the cache's invalidations to and from other replicas
	reads    dixacache.Reader // the client for pages: reads through the cache
	writes   dixacache.Writer // the client for background work: writes drop what they touch
	assets   *static.Assets
	metrics  *Metrics
	handler  http.Handler
	ready    singleflight.Group
	htmxCfg  string
	auth     *authState // sign-in, sessions, per-person limit (session.go, signin.go, access.go)
	store    *store.Store
	erasures *erasure.Service  // the erasure workflow and its tracker (erasures.go)
	imports  *importsState     // bulk import runner and handlers (imports.go)
	agents   *agents.Directory // agent names, shared by every request
}

// New builds the server and its routes.
func New(cfg Config, d Deps) (*Server, error) {
	assets, err := static.New(cfg.BasePath + "/static/")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: d.Logger, api: d.API, assets: assets, metrics: d.Metrics, store: d.Store}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.htmxCfg = htmxConfig()
	s.cache, s.cacheBus = s.newCache(cfg, d)
	s.reads = dixacache.NewReader(d.API, s.cache)
	s.writes = s.reads.Writer
	if s.store != nil {
		if s.erasures, err = s.newErasures(d); err != nil {
			return nil, err
		}
	}
	s.imports = s.newImports()
	s.agents = agents.New(s.api, agents.Options{Log: s.log.With("component", "agent-directory")})
	var sessionStore auth.Store
	if s.store != nil {
		sessionStore = s.store.Sessions()
	}
	if s.auth, err = newAuthState(cfg, d.Now, sessionStore); err != nil {
		return nil, err
	}
	h, err := s.routes()
	if err != nil {
		return nil, err
	}
	s.handler = h
	return s, nil
}

// Start runs the background work (the erasure tracker, the import runner,
// the agent directory's refresh) until ctx is cancelled; it returns at
// once.
func (s *Server) Start(ctx context.Context) {
	if s.erasures != nil {
		go s.erasures.Run(ctx)
	}
	if l, ok := s.cacheBus.(dixacache.Listener); ok {
		go l.Listen(ctx, s.cache.Apply)
	}
	s.imports.start(ctx)
	go s.agents.Run(ctx)
}

// AgentDirectory is the shared directory of agent names (tests wait for
// its first read).
func (s *Server) AgentDirectory() *agents.Directory { return s.agents }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// htmxConfig is the htmx-config meta tag: no eval (so the CSP needs no
// unsafe-eval), no inserted scripts, requests only to ourselves, no history
// snapshots in localStorage (pages hold personal data), and error responses
// swapped in so that 409/422/429/5xx pages are seen instead of dropped.
func htmxConfig() string {
	type rh struct {
		Code  string `json:"code"`
		Swap  bool   `json:"swap"`
		Error bool   `json:"error,omitempty"`
	}
	cfg := map[string]any{
		"allowEval":              false,
		"allowScriptTags":        false,
		"selfRequestsOnly":       true,
		"historyCacheSize":       0,
		"refreshOnHistoryMiss":   true,
		"includeIndicatorStyles": false,
		"responseHandling": []rh{
			{Code: "204", Swap: false},
			{Code: "[23]..", Swap: true},
			{Code: "(400|403|404|409|413|422|429|500|502|503|504)", Swap: true},
			{Code: "[45]..", Swap: false, Error: true},
		},
	}
	b, _ := json.Marshal(cfg)
	return string(b)
}

// chrome is the frame of pages for this request.
func (s *Server) chrome(r *http.Request) views.Chrome {
	c := views.Chrome{
		BasePath:   s.cfg.BasePath,
		CSSURL:     s.assets.URL(static.CSS),
		JSURL:      s.assets.URL(static.JS),
		HTMXURL:    s.assets.URL(static.HTMX),
		HTMXConfig: s.htmxCfg,
		Demo:       s.cfg.AuthMode == "dev",
		PhoneHint:  customer.PhoneHint(s.cfg.PhoneDefaultRegion),
		Zone:       viewerZone(r),
	}
	if s.erasures != nil {
		c.Awaiting = s.awaitingCount
	}
	if id, ok := reqctx.IdentityFrom(r.Context()); ok {
		c.UserName, c.UserID, c.Role = id.Name, id.ID, id.Role
	}
	return c
}

// healthz is liveness: the process serves. No upstream call.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz is readiness: the upstream answered recently; when that is stale
// it makes at most one light call (shared by concurrent probes).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	const fresh = 30 * time.Second
	if time.Since(s.api.LastSuccess()) < fresh {
		w.Write([]byte("ready\n"))
		return
	}
	_, err, _ := s.ready.Do("ping", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		return nil, s.api.Ping(ctx)
	})
	if err != nil {
		reqctx.Logger(r.Context()).Warn("not ready: upstream did not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("upstream not answering\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// CacheStats reports the size of the read cache (entries, estimated bytes).
func (s *Server) CacheStats() dixacache.Stats { return s.cache.Stats() }
