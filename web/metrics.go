package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/example/dixa-console/web/erasure"
)

// Metrics is the console's own Prometheus registry (no global registry):
// console requests, upstream calls and the erasure poller.
//
// /metrics is served to anyone, so no label may take a value a client
// chooses: the request metric's method is one of a fixed few and its route
// is a registered pattern or "unmatched", whatever was sent.
type Metrics struct {
	reg               *prometheus.Registry
	requests          *prometheus.HistogramVec
	upstream          *prometheus.HistogramVec
	erasurePollErrors prometheus.Counter

	// patterns holds each router's registered route patterns, read once
	// per router (there is one in a process).
	patternsMu sync.Mutex
	patterns   map[chi.Routes]map[string]bool
}

// unmatchedRoute is the route label of every request that reached no
// registered route (404, 405, a path outside the base path).
const unmatchedRoute = "unmatched"

// NewMetrics registers the console's collectors in a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "console_http_request_duration_seconds",
			Help:    "Console HTTP requests by route pattern, method and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "console_upstream_request_duration_seconds",
			Help:    "Requests to Dixa by route, method and status (0 when no answer came).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		erasurePollErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "console_erasure_poll_errors_total",
			Help: "Failed checks of submitted erasures (Dixa's request status, the verification reads) and failed poller passes.",
		}),
	}
	m.reg.MustRegister(m.requests, m.upstream, m.erasurePollErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) observeRequest(r *http.Request, status int, d time.Duration) {
	m.requests.WithLabelValues(m.routeLabel(r, status), methodLabel(r.Method), strconv.Itoa(status)).Observe(d.Seconds())
}

// methodLabel bounds the method label: the methods the console serves,
// and "other" for any other, made-up ones included.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
		return method
	}
	return "other"
}

// routeLabel is the chi pattern of the route that served r when it is one
// the router registered, else unmatchedRoute: chi's not-found and
// method-not-allowed answers carry the pattern of a mount ("/base/*"),
// which is no route of ours.
func (m *Metrics) routeLabel(r *http.Request, status int) string {
	rc := chi.RouteContext(r.Context())
	if rc == nil || rc.Routes == nil || status == http.StatusMethodNotAllowed {
		return unmatchedRoute
	}
	if p := rc.RoutePattern(); p != "" && m.registered(rc.Routes)[p] {
		return p
	}
	return unmatchedRoute
}

// registered returns the route patterns of router, walking it on first use.
func (m *Metrics) registered(router chi.Routes) map[string]bool {
	m.patternsMu.Lock()
	defer m.patternsMu.Unlock()
	if p, ok := m.patterns[router]; ok {
		return p
	}
	p := map[string]bool{}
	chi.Walk(router, func(_, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		p[route] = true
		return nil
	})
	if m.patterns == nil {
		m.patterns = map[chi.Routes]map[string]bool{}
	}
	m.patterns[router] = p
	return p
}

// ObserveUpstream records one upstream call; pass it to apiclient.WithObserver.
func (m *Metrics) ObserveUpstream(method, route string, status int, d time.Duration, err error) {
	m.upstream.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// erasurePollError counts one failure of the erasure poller; it is the
// tracker's OnError.
func (m *Metrics) erasurePollError(error) { m.erasurePollErrors.Inc() }

var (
	erasuresUnprocessedOverdueDesc = prometheus.NewDesc("console_erasures_unprocessed_overdue",
		"Erasures submitted to Dixa whose request has had no processedAt for longer than the alert threshold (default 24h).", nil, nil)
	erasuresPastDeadlineDesc = prometheus.NewDesc("console_erasures_past_deadline",
		"Erasure requests not verified (nor rejected) after their legal deadline.", nil, nil)
)

// watchErasures registers the erasure alert gauges, read from snapshot at
// every scrape (one query for both).
func (m *Metrics) watchErasures(snapshot func(context.Context) (erasure.Snapshot, error), log *slog.Logger) error {
	return m.reg.Register(erasureCollector{snapshot: snapshot, log: log})
}

// erasureCollector is a collector rather than two GaugeFuncs so that a
// scrape reads the database once. When it cannot, the gauges are left out
// of that scrape (alert on their absence too) rather than reported as 0.
type erasureCollector struct {
	snapshot func(context.Context) (erasure.Snapshot, error)
	log      *slog.Logger
}

func (c erasureCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- erasuresUnprocessedOverdueDesc
	ch <- erasuresPastDeadlineDesc
}

func (c erasureCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.snapshot(ctx)
	if err != nil {
		c.log.Error("erasure metrics not available", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(erasuresUnprocessedOverdueDesc, prometheus.GaugeValue, float64(s.UnprocessedOverdue))
	ch <- prometheus.MustNewConstMetric(erasuresPastDeadlineDesc, prometheus.GaugeValue, float64(s.PastDeadline))
}
