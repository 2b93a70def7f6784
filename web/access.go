package web

import (
	"context"
	"github.com/example/dixa-console/web/audit"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
	"github.com/example/dixa-console/web/store"
)

// requireRole refuses (403, no upstream call) anyone below min, and
// appends one access.denied entry to the audit log (unless a middleware
// before it, such as the erasure routes' AuditDenied, already wrote the
// entry for this refusal). Handlers check again where the action happens
// (reqctx.IdentityFrom(ctx).Allows).
func (s *Server) requireRole(min role.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, _ := reqctx.IdentityFrom(r.Context())
			if !id.Allows(min) {
				if !handlers.DenialAudited(r.Context()) {
					s.audit(r.Context(), actAccessDenied, "route", s.routeID(r), store.OutcomeDenied, map[string]string{
						"method": r.Method, "need": string(min)})
				}
				s.forbidden(w, r, min, "")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Audit actions of sign-in and access control.
const (
	actSignIn       = "signin"
	actSignOut      = "signout"
	actAccessDenied = "access.denied"
)

// audit appends one entry to the audit log; without a store (some test
// setups) it does nothing. The actor comes from the identity in ctx (for a
// sign-in or sign-out, the session's person, put there by the caller); the
// store writes a hash of Identity.SessionID, never the id itself.
func (s *Server) audit(ctx context.Context, action, targetType, targetID string, outcome audit.Outcome, details map[string]string) {
	if s.store == nil {
		return
	}
	audit.Record(ctx, s.store, action, targetType, targetID, outcome, details)
}

// routeID names the route a request matched for the audit log: its
// pattern without the base path ("/endusers/{id}/edit"), never the URL
// with its ids or query.
func (s *Server) routeID(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		if rc := chi.RouteContext(r.Context()); rc != nil {
			p = rc.RoutePattern()
		}
	}
	if p == "" {
		return "unknown"
	}
	if s.cfg.BasePath != "" {
		p = strings.TrimPrefix(p, s.cfg.BasePath)
	}
	if len(p) > 200 {
		p = p[:200]
	}
	return p
}

// forbidden writes the 403 page: which role is needed, which the person
// has, and whom to ask.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, need role.Role, reason string) {
	id, _ := reqctx.IdentityFrom(r.Context())
	reqctx.Logger(r.Context()).Warn("request denied", "status", http.StatusForbidden, "actor", id.ID, "role", id.Role, "need", need, "method", r.Method, "path", r.URL.Path)
	v := views.ForbiddenView{
		Need: need, Have: id.Role, Who: id.Name, Reason: reason,
		Groups:        auth.GroupsFor(need, s.cfg.RoleGroups),
		DevLogin:      s.auth.mode == "dev",
		CorrelationID: reqctx.RequestID(r.Context()),
	}
	if v.Who == "" {
		v.Who = id.Email
	}
	if v.Who == "" {
		v.Who = id.ID
	}
	respond.Page(w, r, http.StatusForbidden, "Not allowed", views.ForbiddenPage(v))
}

// limitPerson gives each signed-in person a small request budget; over it
// they get a 429 page with Retry-After (and nothing reaches Dixa).
func (s *Server) limitPerson(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := reqctx.IdentityFrom(r.Context())
		if ok, wait := s.auth.limiter.Allow(id.ID); !ok {
			reqctx.Logger(r.Context()).Warn("per-person request limit reached", "actor", id.ID)
			respond.Error(w, r, &respond.Err{
				Status: http.StatusTooManyRequests, Title: "Too many requests",
				Message:    "You are sending requests faster than the console allows for one person, so that everyone shares the company's Dixa budget fairly.",
				RetryAfter: max(wait, time.Second),
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Route is one registered route.
type Route struct{ Method, Pattern string }

// Routes lists every registered route (for tests that walk them all).
func (s *Server) Routes() []Route {
	var out []Route
	if cr, ok := s.handler.(chi.Routes); ok {
		chi.Walk(cr, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			out = append(out, Route{method, route})
			return nil
		})
	}
	return out
}
