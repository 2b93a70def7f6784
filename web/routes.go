package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web/conversation"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// The console's whole URL surface, with the middleware of each part, is in
// this file: routes builds the router, the functions below it add one part
// each. Paths are relative to BASE_PATH.

// customerPages are the handlers of the customer pages.
type customerPages struct {
	list    *handlers.EndUsers
	profile *handlers.Profile
	edit    *handlers.Edit
	create  *handlers.Create
	convs   *handlers.Conversations
}

// routes is the console's router.
func (s *Server) routes() (http.Handler, error) {
	r := chi.NewRouter()
	r.Use(s.requestContext, s.recoverPanics, s.securityHeaders, s.bodyLimit(1<<20), cacheContext)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		// Outside the signed-in routes, but a signed-in person still gets
		// the header and navigation to find their way back.
		if id, ok, _ := s.identify(w, r); ok && id.Role != "" {
			r = r.WithContext(withIdentity(r.Context(), id))
		}
		respond.Error(w, r, respond.NotFound("There is no page at this address."))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		respond.Error(w, r, &respond.Err{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Message: "This address does not accept that kind of request."})
	})

	base := s.cfg.BasePath
	if base == "" {
		base = "/"
	}
	pages := s.customerPages()
	r.Route(base, func(r chi.Router) {
		r.Get("/healthz", s.healthz)
		r.Get("/readyz", s.readyz)
		r.Method(http.MethodGet, "/metrics", s.metrics.handler())
		r.Mount("/static", http.StripPrefix(s.cfg.BasePath+"/static", s.assets))
		s.signInRoutes(r)
		r.Group(func(r chi.Router) {
			r.Use(s.crossOrigin, s.signedIn, s.limitPerson)
			r.Get("/", func(w http.ResponseWriter, r *http.Request) { respond.Redirect(w, r, "/endusers") })
			s.customerRoutes(r, pages)
			s.importRoutes(r)
			if s.store != nil {
				s.erasureRoutes(r)
				s.auditRoutes(r)
			}
		})
	})
	return r, nil
}

// customerPages wires the customer pages to Dixa (through the read cache),
// the write guard, the audit log and the erasure marks.
func (s *Server) customerPages() customerPages {
	writes := s.writeGuard()
	// A nil *store.Store inside the interface would not be nil to Record:
	// without a store the handlers get a nil interface and log nothing.
	var auditLog handlers.AuditLogger
	if s.store != nil {
		auditLog = s.store
	}
	// Likewise the erasure marks: without the workflow nobody is erased.
	var marks handlers.ErasureMarks
	if s.erasures != nil {
		marks = s.erasures
	}
	region := s.cfg.PhoneDefaultRegion
	return customerPages{
		list: &handlers.EndUsers{API: s.reads, PhoneRegion: region, Erased: marks},
		profile: &handlers.Profile{API: s.reads, Defs: customer.NewDefinitions(s.api, customer.DefinitionTTL), Guard: writes, Audit: auditLog, Erased: marks,
			Convs: conversation.NewLister(s.reads, s.cfg.ConversationsPageLimit), Agents: s.agents},
		edit:   &handlers.Edit{API: s.reads, Guard: writes, PhoneRegion: region, Audit: auditLog, Erased: marks},
		create: &handlers.Create{API: s.reads, Guard: writes, PhoneRegion: region, Audit: auditLog, Erased: marks},
		convs:  &handlers.Conversations{API: s.api, Agents: s.agents, Audit: auditLog, DixaAppURL: s.cfg.DixaAppURL},
	}
}

// signInRoutes: sign-in and sign-out (signin.go), cross-origin protected,
// no identity needed; oidc sign-in attempts limited per client address.
func (s *Server) signInRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.crossOrigin)
		r.With(s.limitSignIn).Get("/login", s.loginPage)
		r.With(s.limitSignIn).Post("/login", s.login)
		r.Post("/logout", s.logout)
		r.With(s.limitSignIn).Get("/auth/callback", s.callback)
	})
}

// customerRoutes: everyone signed in with a role reads; agents and leads
// create and edit customers.
func (s *Server) customerRoutes(r chi.Router, p customerPages) {
	r.Group(func(r chi.Router) {
		r.Use(s.requireRole(role.Viewer), requestTimeout(pageTimeout))
		r.Get("/endusers", p.list.List)
		r.Get("/endusers/{id}", p.profile.Show)
		r.Get("/endusers/{id}/conversations", p.profile.Conversations)
		r.Get("/endusers/{id}/conversations/{conversationId}", p.convs.Show)
		r.Get("/endusers/{id}/conversations/{conversationId}/messages", p.convs.Messages)
		r.Get("/endusers/{id}/conversations/{conversationId}/messages/{messageId}", p.convs.Message)
	})
	r.Group(func(r chi.Router) {
		r.Use(s.requireRole(role.Agent), requestTimeout(pageTimeout))
		r.Get("/endusers/new", p.create.Form)
		r.Post("/endusers", p.create.Create)
		r.Get("/endusers/{id}/edit", p.edit.Form)
		r.Post("/endusers/{id}", p.edit.Save)
		r.Post("/endusers/{id}/custom-attributes", p.profile.SaveAttributes)
	})
}

// importRoutes: leads import customers from CSV and export them (wired in
// imports.go). chi prefers the static export.csv segment to {id}, whatever
// the order (tested).
func (s *Server) importRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.requireRole(role.Lead))
		r.Get("/endusers/export.csv", s.imports.export.CSV)
		r.Get("/imports", s.imports.h.Index)
		r.Get("/imports/template.csv", s.imports.h.Template)
		r.Post("/imports", s.imports.h.Upload)
		r.Get("/imports/{jid}", s.imports.h.Show)
		r.Post("/imports/{jid}/start", s.imports.h.Start)
		r.Post("/imports/{jid}/pause", s.imports.h.Pause)
		r.Post("/imports/{jid}/cancel", s.imports.h.Cancel)
		r.Get("/imports/{jid}/results.csv", s.imports.h.Results)
		r.Get("/imports/{jid}/problems.csv", s.imports.h.Problems)
	})
}

// erasureRoutes: GDPR erasure with four-eyes approval. Agents hand a GDPR
// request they received to the leads; the rest is for leads. A denied
// attempt at a lead's erasure route is audited (erasure.denied) before the
// role check answers 403; the handlers check the role again.
func (s *Server) erasureRoutes(r chi.Router) {
	erasures := s.erasureHandlers()
	r.Group(func(r chi.Router) {
		r.Use(s.requireRole(role.Agent), requestTimeout(pageTimeout))
		r.Get("/endusers/{id}/erasure/handover", erasures.HandoverForm)
		r.Post("/endusers/{id}/erasure/handover", erasures.Handover)
	})
	r.Group(func(r chi.Router) {
		r.Use(s.auditErasureDenied, s.requireRole(role.Lead))
		r.Get("/endusers/{id}/erasure", erasures.Preview)
		r.Post("/endusers/{id}/erasure", erasures.Request)
		r.Get("/erasures", erasures.List)
		r.Get("/erasures/{rid}", erasures.Show)
		r.Post("/erasures/{rid}/approve", erasures.Approve)
		r.Post("/erasures/{rid}/reject", erasures.Reject)
		r.Post("/erasures/{rid}/extend", erasures.Extend)
		r.Get("/erasures/{rid}/receipt", erasures.ReceiptPage)
		r.Get("/erasures/{rid}/receipt.json", erasures.ReceiptJSON)
	})
}

// auditRoutes: leads read the audit log.
func (s *Server) auditRoutes(r chi.Router) {
	audit := &handlers.Audit{Store: s.store}
	r.Group(func(r chi.Router) {
		r.Use(s.requireRole(role.Lead))
		r.Get("/audit", audit.List)
		r.Get("/audit.csv", audit.CSV)
	})
}
