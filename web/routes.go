package web

import (
	"github.com/example/dixa-console/web/role"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web/conversation"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/respond"
)

// routes is the console's whole URL surface, with the middleware of each
// part. Paths are relative to BASE_PATH.
func (s *Server) routes() (http.Handler, error) {
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
	endusers := &handlers.EndUsers{API: s.reads, PhoneRegion: s.cfg.PhoneDefaultRegion, Erased: marks}
	profile := &handlers.Profile{API: s.reads, Defs: customer.NewDefinitions(s.api, customer.DefinitionTTL), Guard: writes, Audit: auditLog, Erased: marks,
		Convs: conversation.NewLister(s.reads, s.cfg.ConversationsPageLimit), Agents: s.agents}
	edit := &handlers.Edit{API: s.reads, Guard: writes, PhoneRegion: s.cfg.PhoneDefaultRegion, Audit: auditLog, Erased: marks}
	create := &handlers.Create{API: s.reads, Guard: writes, PhoneRegion: s.cfg.PhoneDefaultRegion, Audit: auditLog, Erased: marks}
	convs := &handlers.Conversations{API: s.api, Agents: s.agents, Audit: auditLog, DixaAppURL: s.cfg.DixaAppURL}

	r := chi.NewRouter()
	r.Use(s.requestContext, s.recoverPanics, s.securityHeaders, s.bodyLimit(1<<20), cacheContext)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		// Outside the signed-in routes, but a signed-in person still gets
		// the header and navigation to find their way back.
		if id, ok := s.identify(w, r); ok && id.Role != "" {
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
	r.Route(base, func(r chi.Router) {
		r.Get("/healthz", s.healthz)
		r.Get("/readyz", s.readyz)
		r.Method(http.MethodGet, "/metrics", s.metrics.handler())
		r.Mount("/static", http.StripPrefix(s.cfg.BasePath+"/static", s.assets))

		// Sign-in and sign-out (signin.go): cross-origin protected, no identity
		// needed; oidc sign-in attempts limited per client address.
		r.Group(func(r chi.Router) {
			r.Use(s.crossOrigin)
			r.With(s.limitSignIn).Get("/login", s.loginPage)
			r.With(s.limitSignIn).Post("/login", s.login)
			r.Post("/logout", s.logout)
			r.With(s.limitSignIn).Get("/auth/callback", s.callback)
		})

		r.Group(func(r chi.Router) {
			r.Use(s.crossOrigin, s.signedIn, s.limitPerson)
			r.Get("/", func(w http.ResponseWriter, r *http.Request) { respond.Redirect(w, r, "/endusers") })

			// Everyone signed in with a role: read.
			r.Group(func(r chi.Router) {
				r.Use(s.requireRole(role.Viewer), requestTimeout(pageTimeout))
				r.Get("/endusers", endusers.List)
				r.Get("/endusers/{id}", profile.Show)
				r.Get("/endusers/{id}/conversations", profile.Conversations)
				r.Get("/endusers/{id}/conversations/{conversationId}", convs.Show)
				r.Get("/endusers/{id}/conversations/{conversationId}/messages", convs.Messages)
				r.Get("/endusers/{id}/conversations/{conversationId}/messages/{messageId}", convs.Message)
			})

			// Agents and leads: create and edit customers.
			r.Group(func(r chi.Router) {
				r.Use(s.requireRole(role.Agent), requestTimeout(pageTimeout))
				r.Get("/endusers/new", create.Form)
				r.Post("/endusers", create.Create)
				r.Get("/endusers/{id}/edit", edit.Form)
				r.Post("/endusers/{id}", edit.Save)
				r.Post("/endusers/{id}/custom-attributes", profile.SaveAttributes)
			})

			// Leads: bulk import from CSV and export (wired in
			// imports.go). chi prefers the static export.csv segment to
			// {id}, whatever the order (tested).
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

			// Leads: GDPR erasure with four-eyes approval, and the audit
			// log. A denied attempt at an erasure route is audited
			// (erasure.denied) before the role check answers 403; the
			// handlers check the role again.
			if s.store != nil {
				erasures := s.erasureHandlers()
				audit := &handlers.Audit{Store: s.store}
				// Agents hand a GDPR request they received to the leads.
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
				r.Group(func(r chi.Router) {
					r.Use(s.requireRole(role.Lead))
					r.Get("/audit", audit.List)
					r.Get("/audit.csv", audit.CSV)
				})
			}
		})
	})
	return r, nil
}
