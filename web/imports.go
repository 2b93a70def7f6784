package web

import (
	"context"
	"net/http"

	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web/importjob"
)

// importsState wires the bulk import and export: the job store,
// the background runner and the handlers.
type importsState struct {
	store  importjob.Store
	runner *importjob.Runner
	h      *handlers.Imports
	export *handlers.Export
}

// newImports builds the import and export wiring. Jobs live in the
// console's database; without one (a server built without a store) they
// are kept in memory and do not survive a restart.
func (s *Server) newImports() *importsState {
	var st importjob.Store
	var audit handlers.AuditLogger
	if s.store != nil {
		st, audit = s.store.ImportJobs(), s.store
	} else {
		st = importjob.NewMemStore()
	}
	in := &importsState{store: st}
	in.h = &handlers.Imports{Store: st, Defs: s.api, Audit: audit, PhoneRegion: s.cfg.PhoneDefaultRegion,
		MaxBytes: handlers.DefaultImportMaxBytes, RPS: s.cfg.UpstreamRPS}
	in.runner = importjob.NewRunner(st, s.writes, s.log.With("component", "import-runner"))
	in.runner.Retention = s.cfg.ImportRetention // zero: the runner's default, 30 days
	in.runner.OnFinish = in.h.OnFinish
	in.h.Runner = in.runner
	in.export = &handlers.Export{API: s.api, Audit: audit, PhoneRegion: s.cfg.PhoneDefaultRegion, RPS: s.cfg.UpstreamRPS}
	return in
}

// start runs the import runner until ctx is cancelled. A request in
// flight at shutdown is re-checked by the next start before anything is
// resent.
func (in *importsState) start(ctx context.Context) { go in.runner.Run(ctx) }

// bodyLimit caps request bodies at def bytes, except an import upload
// (POST /imports), which may carry a file up to the import limit plus the
// multipart envelope (its handler answers an oversized file with the form
// and the reason, so it is not refused early).
func (s *Server) bodyLimit(def int64) func(http.Handler) http.Handler {
	importPath := s.cfg.BasePath + "/imports"
	small, big := limitBody(def, true), limitBody(handlers.DefaultImportMaxBytes+1<<20, false)
	return func(next http.Handler) http.Handler {
		sh, bh := small(next), big(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == importPath {
				bh.ServeHTTP(w, r)
				return
			}
			sh.ServeHTTP(w, r)
		})
	}
}
