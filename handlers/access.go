package handlers

import (
	"net/http"

	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// ActAccessDenied is the audit action of a refusal by role (the same as
// the route middleware's).
const ActAccessDenied = audit.ActionAccessDenied

// allowed checks again, where the action happens, that the signed-in
// person has at least role min. A role is checked by the middleware of the
// route group and again where the action happens, so a route wired into
// the wrong group still refuses. Below min it answers 403 naming the role,
// writes one access.denied entry (a may be nil) and returns false: nothing
// reaches Dixa or the store.
func allowed(w http.ResponseWriter, r *http.Request, a audit.Recorder, min role.Role) bool {
	id, _ := reqctx.IdentityFrom(r.Context())
	if id.Allows(min) {
		return true
	}
	ctx := r.Context()
	if !DenialAudited(ctx) {
		audit.Record(ctx, a, audit.ActionAccessDenied, "route", routePattern(r), audit.OutcomeDenied, map[string]string{
			"method": r.Method, "need": string(min), "checkedBy": "handler"})
	}
	reqctx.Logger(ctx).Warn("request denied by the handler's role check", "status", http.StatusForbidden,
		"actor", id.ID, "role", id.Role, "need", min, "method", r.Method)
	respond.Error(w, r, respond.Forbidden("This needs the "+string(min)+" role; you are signed in as "+roleName(id.Role)+"."))
	return false
}

func roleName(r role.Role) string {
	if r.Rank() == 0 {
		return "someone without a console role"
	}
	return string(r)
}
