package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
	"github.com/example/dixa-console/web/store"
)

// loginPage serves GET /login: the demo sign-in form (dev), the start of
// the provider's sign-in (oidc), or, behind a sign-on proxy, the console.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	nxt := safeNext(r.URL.Query().Get("next"))
	switch s.auth.mode {
	case "dev":
		s.renderLogin(w, r, http.StatusOK, views.LoginView{Next: nxt})
	case "oidc":
		u, p, err := s.auth.oidc.Begin(r.Context(), nxt)
		if err != nil {
			respond.Error(w, r, &respond.Err{Status: http.StatusServiceUnavailable, Title: "Sign-in is not available",
				Message: "The company's identity provider did not answer. Please try again in a moment.", RetryAfter: 10 * time.Second, Cause: err})
			return
		}
		if err := s.auth.sessions.SavePending(w, r, isTLS(r), p); err != nil {
			respond.Error(w, r, err)
			return
		}
		http.Redirect(w, r, u, http.StatusFound)
	default:
		respond.Redirect(w, r, nxt)
	}
}

// devRoles are the roles offered on the demo sign-in page.
var devRoles = []views.RoleChoice{
	{Role: role.Viewer, Label: "Viewer", Can: "search and read customers"},
	{Role: role.Agent, Label: "Agent", Can: "also create and edit customers"},
	{Role: role.Lead, Label: "Team lead", Can: "also import, export, erase, and read the audit log"},
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, v views.LoginView) {
	v.Roles = devRoles
	respond.Page(w, r, status, "Sign in", views.LoginPage(v))
}

// login serves POST /login: the demo sign-in. It starts a new session
// (a fresh id, the old one revoked) and returns to where the person was.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.auth.mode != "dev" {
		respond.Error(w, r, respond.NotFound("There is no sign-in form here: the console signs you in through the company's sign-on."))
		return
	}
	f, err := parseLoginForm(r)
	if err != nil {
		respond.Error(w, r, respond.FormError(err, "The sign-in form could not be read."))
		return
	}
	v := views.LoginView{Name: f.Name, Role: f.Role, Next: f.Next}
	if msg := f.Validate(); msg != "" {
		v.Error = msg
		s.renderLogin(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	rec := auth.Record{
		Claims:  auth.Claims{ID: devID(f.Name), Name: f.Name, Groups: firstGroup(s.cfg.RoleGroups[f.Role])},
		DevRole: f.Role, Via: "dev",
	}
	sid, err := s.auth.sessions.Create(w, r, isTLS(r), rec)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	reqctx.Logger(r.Context()).Info("signed in", "actor", rec.Claims.ID, "role", f.Role, "via", "dev")
	s.audit(reqctx.WithIdentity(r.Context(), reqctx.Identity{ID: rec.Claims.ID, Name: rec.Claims.Name, Role: f.Role,
		Groups: rec.Claims.Groups, Via: "dev sign-in", SessionID: sid}),
		actSignIn, "session", store.HashSession(sid), store.OutcomeOK, map[string]string{"method": "dev"})
	respond.Redirect(w, r, f.Next)
}

// loginForm is the demo sign-in form.
type loginForm struct {
	Name, Next string
	Role       role.Role
}

func parseLoginForm(r *http.Request) (loginForm, error) {
	if err := r.ParseForm(); err != nil {
		return loginForm{}, err
	}
	return loginForm{
		Name: strings.TrimSpace(r.PostForm.Get("name")),
		Role: role.Role(r.PostForm.Get("role")),
		Next: safeNext(r.PostForm.Get("next")),
	}, nil
}

// Validate returns what is wrong with the form, or "".
func (f loginForm) Validate() string {
	switch {
	case f.Name == "":
		return "Type your name."
	case len(f.Name) > 80:
		return "Use at most 80 characters."
	case auth.CleanText(f.Name, 80) != f.Name:
		return "Use letters, digits, spaces and punctuation only."
	case f.Role.Rank() == 0:
		return "Pick a role."
	}
	return ""
}

// devID turns a demo name into a stable identity ("Ada Lovelace" →
// "ada-lovelace@demo.invalid").
func devID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	local := strings.TrimSuffix(b.String(), "-")
	if local == "" {
		local = "demo"
	}
	return local + "@demo.invalid"
}

func firstGroup(gs []string) []string {
	if len(gs) == 0 {
		return nil
	}
	return gs[:1:1]
}

// safeNext keeps a return path only when it is a path of this console
// ("/endusers?q=x"): never another host, scheme or a protocol-relative URL,
// and no dot segments ("/../", also percent-encoded, which browsers
// resolve too), which would lead out from under BASE_PATH.
func safeNext(p string) string {
	if p == "" || len(p) > 2048 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\\\r\n\t") {
		return "/endusers"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path == "/login" || strings.HasPrefix(u.Path, "/auth/") || u.Path == "/logout" {
		return "/endusers"
	}
	if strings.HasPrefix(u.Path, "//") {
		return "/endusers"
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." || strings.ContainsAny(seg, "\\") {
			return "/endusers"
		}
	}
	return p
}

// logout serves POST /logout: the server forgets the session (a replayed
// cookie no longer works), expires its cookie, and the browser is told to
// drop the console's cache and storage.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if s.auth.mode != "header" {
		if rec, _ := s.auth.sessions.Load(r, isTLS(r)); rec != nil {
			reqctx.Logger(r.Context()).Info("signed out", "actor", rec.Claims.ID)
			id := reqctx.Identity{ID: rec.Claims.ID, Name: rec.Claims.Name, Groups: rec.Claims.Groups, SessionID: rec.ID, AuthTime: rec.AuthTime}
			if rec.DevRole != "" {
				id.Role, id.Via = rec.DevRole, "dev sign-in"
			} else {
				id.Role, id.Via = auth.RoleFor(rec.Claims.Groups, s.cfg.RoleGroups)
			}
			s.audit(reqctx.WithIdentity(r.Context(), id), actSignOut, "session", store.HashSession(rec.ID), store.OutcomeOK,
				map[string]string{"method": rec.Via})
		}
		s.auth.sessions.Destroy(w, r, isTLS(r))
	}
	// Not "cookies": browsers apply it to the cookies of the whole
	// registrable domain (corp.example), not just this host, which would
	// also sign people out of the intranet portal next to the console
	// (console.corp.example beside portal.corp.example, the recommended
	// topology). Nothing is lost without it: the session is revoked on the
	// server above and its cookie expired explicitly.
	w.Header().Set("Clear-Site-Data", `"cache", "storage"`)
	respond.Page(w, r, http.StatusOK, "Signed out", views.SignedOutPage(views.SignedOutView{Proxy: s.auth.mode == "header"}))
}

// callback serves GET /auth/callback: the end of the oidc sign-in.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	if s.auth.mode != "oidc" {
		respond.Error(w, r, respond.NotFound("There is no page at this address."))
		return
	}
	log := reqctx.Logger(r.Context())
	tls := isTLS(r)
	p, ok := s.auth.sessions.TakePending(w, r, tls)
	q := r.URL.Query()
	// fail refuses the sign-in; code is the short reason in the audit log
	// (never the provider's or Go's error text).
	fail := func(code, reason string, err error) {
		if err != nil {
			log.Warn("oidc sign-in failed", "reason", reason, "err", err.Error())
		} else {
			log.Warn("oidc sign-in failed", "reason", reason)
		}
		if code != "no_signin_in_progress" {
			// Only a sign-in this browser started is audited: anyone can
			// call the callback URL, and a stray or replayed call must not
			// be able to flood the hash-chained log (it is in the request
			// log above).
			s.audit(r.Context(), actSignIn, "session", "", store.OutcomeDenied, map[string]string{"method": "oidc", "reason": code})
		}
		respond.Page(w, r, http.StatusUnauthorized, "Please sign in", views.SignInRequired(views.SignInView{Next: p.Next, CorrelationID: reqctx.RequestID(r.Context())}))
	}
	if !ok {
		fail("no_signin_in_progress", "no sign-in in progress in this browser (expired or replayed)", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		fail("provider_refused", "the identity provider refused: "+auth.CleanText(e, 64), nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	c, tok, err := s.auth.oidc.Finish(ctx, p, q.Get("state"), q.Get("code"))
	if err != nil {
		code := "token_rejected"
		switch {
		case errors.Is(err, auth.ErrState):
			code = "bad_state"
		case errors.Is(err, auth.ErrNonce):
			code = "bad_nonce"
		}
		fail(code, "token", err)
		return
	}
	rec := auth.Record{Claims: c, Via: "oidc", Token: tok}
	sid, err := s.auth.sessions.Create(w, r, tls, rec)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	role, via := auth.RoleFor(c.Groups, s.cfg.RoleGroups)
	log.Info("signed in", "actor", c.ID, "role", role, "via", "oidc", "granted_by", via)
	// Someone whose groups grant no role keeps the session (every page then
	// answers 403 saying whom to ask), but the sign-in counts as refused.
	outcome, details := store.OutcomeOK, map[string]string{"method": "oidc"}
	if role == "" {
		outcome, details["reason"] = store.OutcomeDenied, "no_mapped_group"
	}
	s.audit(reqctx.WithIdentity(r.Context(), reqctx.Identity{ID: c.ID, Name: c.Name, Role: role, Groups: c.Groups, Via: via, SessionID: sid}),
		actSignIn, "session", store.HashSession(sid), outcome, details)
	respond.Redirect(w, r, safeNext(p.Next))
}
