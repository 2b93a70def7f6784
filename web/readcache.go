package web

import (
	"net/http"
	"strings"

	"github.com/example/dixa-console/web/dixacache"
)

// newCache makes the shared Dixa read cache and the bus that carries its
// invalidations between replicas: d.CacheBus, else the store's when it is
// PostgreSQL (several replicas may share it), else none (SQLite serves one
// process, whose own invalidations suffice).
func (s *Server) newCache(cfg Config, d Deps) (*dixacache.Cache, dixacache.Bus) {
	bus := d.CacheBus
	if bus == nil && s.store != nil {
		if b := s.store.CacheBus(cfg.DatabaseURL, s.log.With("component", "cache-bus")); b != nil {
			bus = b
		}
	}
	return dixacache.New(dixacache.Options{TTL: cfg.CacheTTL, StaleMax: cfg.StaleMax, Bus: bus, Now: d.Now}), bus
}

// cacheContext sets how a request may use the shared Dixa read cache. A
// reload (Cache-Control: no-cache or max-age=0, Pragma: no-cache), a
// "refresh" link (fresh=1) and every write (its conflict check) read
// Dixa's current data; other reads may be served from the cache, and
// from older data with a notice when Dixa's budget is spent. A request's
// reads of one person share one check of the person's write count.
func cacheContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _ := dixacache.WithStaleNote(dixacache.WithChecks(r.Context()))
		if wantsFresh(r) {
			ctx = dixacache.WithFresh(ctx)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func wantsFresh(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	cc := strings.ToLower(r.Header.Get("Cache-Control"))
	return strings.Contains(cc, "no-cache") || strings.Contains(cc, "max-age=0") ||
		strings.Contains(strings.ToLower(r.Header.Get("Pragma")), "no-cache") ||
		r.URL.Query().Get("fresh") == "1"
}
