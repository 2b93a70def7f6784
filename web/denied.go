package web

import (
	"net/http"
	"strings"

	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/role"
	"github.com/example/dixa-console/web/store"
)

// auditErasureDenied is middleware for the erasure routes, placed before
// the role check: it writes the erasure.denied entry for anyone who is not
// a lead and lets the role check answer 403 (the handlers check again). It
// marks the request (reqctx.DenialAudited) so that the role check does not
// write a second, generic access.denied entry for the same refusal. An
// agent who opens a customer's erasure page gets the 403 with the form to
// hand the request to the leads in its place.
func (s *Server) auditErasureDenied(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, _ := reqctx.IdentityFrom(r.Context()); !id.Allows(role.Lead) {
			tt, tid := handlers.ErasureTarget(r)
			s.audit(r.Context(), erasure.ActDenied, tt, tid, store.OutcomeDenied, map[string]string{
				"reason": "role " + string(id.Role) + " is not lead", "route": r.Method + " " + r.URL.Path})
			r = r.WithContext(reqctx.WithDenialAudited(r.Context()))
			if id.Allows(role.Agent) && r.Method == http.MethodGet && tt == "enduser" && strings.HasSuffix(r.URL.Path, "/erasure") {
				s.erasureHandlers().HandoverInstead(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
