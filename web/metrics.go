package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the console's own Prometheus registry (no global registry):
// console requests and upstream calls.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	upstream *prometheus.HistogramVec
}

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
	}
	m.reg.MustRegister(m.requests, m.upstream,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) observeRequest(r *http.Request, status int, d time.Duration) {
	route := "unmatched"
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		route = rc.RoutePattern()
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Observe(d.Seconds())
}

// ObserveUpstream records one upstream call; pass it to apiclient.WithObserver.
func (m *Metrics) ObserveUpstream(method, route string, status int, d time.Duration, err error) {
	m.upstream.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}
