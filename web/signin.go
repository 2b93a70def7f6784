package web

import (
	"context"
	"errors"
	"github.com/example/dixa-console/web/audit"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

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
		s.beginOIDC(w, r, nxt)
	default:
		respond.Redirect(w, r, nxt)
	}
}

// beginOIDC sends the browser to the provider, and keeps the sign-in in
// progress on the server. It is a step-up sign-in (the provider must
// authenticate the person again) when the browser still has a live
// session, which happens when a page asked for a more recent sign-in, or
// when the link says stepup=1.
func (s *Server) beginOIDC(w http.ResponseWriter, r *http.Request, nxt string) {
	tls := s.isTLS(r)
	stepUp := r.URL.Query().Get("stepup") == "1"
	if !stepUp {
		rec, _ := s.auth.sessions.Load(r, tls, false)
		stepUp = rec != nil
	}
	u, p, err := s.auth.oidc.Begin(r.Context(), nxt, stepUp)
	if err != nil {
		respond.Error(w, r, &respond.Err{Status: http.StatusServiceUnavailable, Title: "Sign-in is not available",
			Message: "The company's identity provider did not answer. Please try again in a moment.", RetryAfter: 10 * time.Second, Cause: err})
		return
	}
	if err := s.auth.sessions.SavePending(w, r, tls, p); err != nil {
		if errors.Is(err, auth.ErrStoreFull) {
			err = &respond.Err{Status: http.StatusServiceUnavailable, Title: "Sign-in is busy",
				Message: "Too many sign-ins are in progress. Please try again in a minute.", RetryAfter: time.Minute, Cause: err}
		}
		respond.Error(w, r, err)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// limitSignIn gives each client address a budget of oidc sign-in
// attempts (starting one, the callback), which anyone may make without
// being signed in and which reach the identity provider and the audit
// log. Over it: 429 with Retry-After, and nothing happens. The demo
// sign-in (dev, only with the embedded simulator) and header mode (no
// sign-in here) are not limited.
func (s *Server) limitSignIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.auth.mode != "oidc" {
			next.ServeHTTP(w, r)
			return
		}
		addr := auth.ClientAddr(r, s.cfg.AuthTrustedProxies)
		if ok, wait := s.auth.signIns.Allow(addr); !ok {
			// The access log has every refused request; this says why.
			reqctx.Logger(r.Context()).Debug("sign-in attempts over the limit for the address", "addr", addr.String())
			respond.Error(w, r, &respond.Err{
				Status: http.StatusTooManyRequests, Title: "Too many sign-in attempts",
				Message:    "There have been too many sign-in attempts from your network. Please wait a moment and try again.",
				RetryAfter: max(wait, time.Second),
			})
			return
		}
		next.ServeHTTP(w, r)
	})
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
	id := devID(f.Name)
	rec := auth.Record{
		Claims:  auth.Claims{ID: id, Email: id, Name: f.Name, Groups: firstGroup(s.cfg.RoleGroups[f.Role])},
		DevRole: f.Role, Via: "dev",
	}
	sid, err := s.auth.sessions.Create(w, r, s.isTLS(r), rec)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	reqctx.Logger(r.Context()).Info("signed in", "actor", rec.Claims.ID, "role", f.Role, "via", "dev")
	rec.ID = sid
	s.audit(reqctx.WithIdentity(r.Context(), s.identityOf(&rec)), actSignIn, "session", store.HashSession(sid), store.OutcomeOK, map[string]string{"method": "dev"})
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

// devID turns a demo name into a stable identity, a lower-case email
// address like every identity from plain headers ("Ada Lovelace" →
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
		tls := s.isTLS(r)
		if rec, _ := s.auth.sessions.Load(r, tls, false); rec != nil {
			reqctx.Logger(r.Context()).Info("signed out", "actor", rec.Claims.ID)
			s.audit(reqctx.WithIdentity(r.Context(), s.identityOf(rec)), actSignOut, "session", store.HashSession(rec.ID), store.OutcomeOK,
				map[string]string{"method": rec.Via})
		}
		if err := s.auth.sessions.Destroy(w, r, tls); err != nil {
			reqctx.Logger(r.Context()).Error("session store failed to revoke a session at sign-out", "err", err.Error())
		}
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

// callback serves GET /auth/callback: the end of the oidc sign-in. The
// sign-in in progress is taken from the server in one step, so a
// replayed callback (the same cookie again) finds nothing: each sign-in
// ends once, and writes at most one audit entry, ok or denied.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	if s.auth.mode != "oidc" {
		respond.Error(w, r, respond.NotFound("There is no page at this address."))
		return
	}
	p, ok, err := s.auth.sessions.TakePending(w, r, s.isTLS(r))
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if !ok {
		// Not audited: anyone can call this URL, and a stray or replayed
		// call must not be able to flood the hash-chained log (it is in the
		// request log).
		s.refuseSignIn(w, r, p, "no_signin_in_progress", "no sign-in in progress in this browser (expired or replayed)", nil)
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.refuseSignIn(w, r, p, "provider_refused", "the identity provider refused: "+auth.CleanText(e, 64), nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	c, tok, err := s.auth.oidc.Finish(ctx, p, q.Get("state"), q.Get("code"))
	if err != nil {
		s.refuseSignIn(w, r, p, refusalCode(err), "token", err)
		return
	}
	s.startOIDCSession(w, r, p, c, tok)
}

// refusalCode is the short reason of a refused oidc sign-in in the audit
// log (never the provider's or Go's error text).
func refusalCode(err error) string {
	switch {
	case errors.Is(err, auth.ErrState):
		return "bad_state"
	case errors.Is(err, auth.ErrNonce):
		return "bad_nonce"
	case errors.Is(err, auth.ErrEmailUnverified):
		return "email_unverified"
	case errors.Is(err, auth.ErrStaleAuth):
		return "stale_authentication"
	}
	return "token_rejected"
}

// refuseSignIn answers a refused oidc sign-in: logged always, audited
// (once: the sign-in in progress is used up) unless no sign-in was in
// progress, and a page that says what to do.
func (s *Server) refuseSignIn(w http.ResponseWriter, r *http.Request, p auth.Pending, code, reason string, err error) {
	log := reqctx.Logger(r.Context())
	if err != nil {
		log.Warn("oidc sign-in failed", "reason", reason, "err", err.Error())
	} else {
		log.Warn("oidc sign-in failed", "reason", reason)
	}
	if code != "no_signin_in_progress" {
		details := map[string]string{"method": "oidc", "reason": code}
		if p.StepUp {
			details["stepUp"] = "true"
		}
		s.audit(r.Context(), actSignIn, "session", "", store.OutcomeDenied, details)
	}
	switch code {
	case "email_unverified":
		respond.Error(w, r, &respond.Err{Status: http.StatusForbidden, Title: "Email address not verified",
			Message: "The company's sign-on says your email address is not verified, so the console cannot tell who you are. Ask the IT service desk to verify it, then sign in again."})
	case "stale_authentication":
		respond.Error(w, r, &respond.Err{Status: http.StatusUnauthorized, Title: "Please sign in again",
			Message: "The company's sign-on did not confirm that you signed in just now, which this step needs. Go back and sign in again; if it keeps happening, ask IT whether the sign-on honours max_age."})
	default:
		respond.Page(w, r, http.StatusUnauthorized, "Please sign in", views.SignInRequired(views.SignInView{Next: p.Next, CorrelationID: reqctx.RequestID(r.Context())}))
	}
}

// startOIDCSession ends a sign-in the provider confirmed: a new session
// whose sign-in time is the token's auth_time, and one audit entry.
// Someone whose groups grant no role keeps the session (every page then
// answers 403 saying whom to ask), but the sign-in counts as refused.
func (s *Server) startOIDCSession(w http.ResponseWriter, r *http.Request, p auth.Pending, c auth.Claims, tok *oauth2.Token) {
	rec := auth.Record{Claims: c, Via: "oidc", Token: tok, AuthTime: c.AuthTime}
	sid, err := s.auth.sessions.Create(w, r, s.isTLS(r), rec)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	rec.ID = sid
	id := s.identityOf(&rec)
	reqctx.Logger(r.Context()).Info("signed in", "actor", c.ID, "role", id.Role, "via", "oidc", "granted_by", id.Via, "step_up", p.StepUp)
	outcome, details := audit.OutcomeOK, map[string]string{"method": "oidc"}
	if p.StepUp {
		details["stepUp"] = "true"
	}
	if id.Role == "" {
		outcome, details["reason"] = audit.OutcomeDenied, "no_mapped_group"
	}
	s.audit(reqctx.WithIdentity(r.Context(), id), actSignIn, "session", store.HashSession(sid), outcome, details)
	respond.Redirect(w, r, safeNext(p.Next))
}
