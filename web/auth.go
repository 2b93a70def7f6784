package web

import (
	"context"
	"errors"
	"github.com/example/dixa-console/web/role"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/store"
)

// defaultRoleFreshness bounds how long groups read at an oidc sign-in are
// trusted: after it the session's tokens are refreshed and the groups read
// again, so removing someone from the lead group takes effect within it.
const defaultRoleFreshness = 5 * time.Minute

// authState is everything sign-in needs, owned by the Server.
type authState struct {
	mode     string
	sessions *auth.Sessions
	header   *auth.Header
	oidc     *auth.OIDC
	limiter  *auth.PersonLimiter
	// roleFresh: see defaultRoleFreshness.
	roleFresh time.Duration
}

func newAuthState(cfg Config) (*authState, error) {
	a := &authState{
		mode: cfg.AuthMode,
		sessions: auth.NewSessions(auth.SessionConfig{
			Keys:     cfg.SessionKeys,
			SameSite: cfg.CookieSameSite,
			BasePath: cfg.BasePath,
			Idle:     cfg.SessionIdle,
			Absolute: cfg.SessionAbsolute,
		}),
		limiter:   auth.NewPersonLimiter(cfg.PersonRate, cfg.PersonBurst),
		roleFresh: cfg.RoleFreshness,
	}
	if a.roleFresh <= 0 {
		a.roleFresh = defaultRoleFreshness
	}
	switch cfg.AuthMode {
	case "dev":
		if !cfg.Embedded {
			return nil, errors.New("dev sign-in is only allowed with the embedded simulator")
		}
	case "header":
		a.header = &auth.Header{
			UserHeader:   cfg.AuthHeaderUser,
			NameHeader:   cfg.AuthHeaderName,
			GroupsHeader: cfg.AuthHeaderGroups,
			Secret:       cfg.AuthProxySecret,
			Trusted:      cfg.AuthTrustedProxies,
		}
		if cfg.AuthJWKSURL != "" {
			a.header.Assertion = auth.NewVerifier(auth.VerifierConfig{
				JWKSURL: cfg.AuthJWKSURL, Issuer: cfg.AuthJWTIssuer, Audience: cfg.AuthJWTAudience,
				GroupsClaim: cfg.OIDCGroupsClaim,
			})
			a.header.AssertionHeader = cfg.AuthJWTHeader
		}
		if a.header.Secret == "" && a.header.Assertion == nil {
			return nil, errors.New("header mode needs AUTH_PROXY_SECRET or a signed assertion verifier")
		}
		if len(a.header.Trusted) == 0 {
			return nil, errors.New("header mode needs AUTH_TRUSTED_PROXIES")
		}
	case "oidc":
		a.oidc = auth.NewOIDC(auth.OIDCConfig{
			Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: cfg.OIDCRedirectURL, GroupsClaim: cfg.OIDCGroupsClaim,
		})
	default:
		return nil, errors.New("unknown AUTH_MODE " + strconv.Quote(cfg.AuthMode))
	}
	return a, nil
}

// signedIn establishes who is asking, on every request: from the sealed
// session cookie and the server-side session (dev, oidc) or from the
// sign-on proxy's headers or signed assertion (header). Nobody → 401 (a
// redirect to the sign-in page for a browser's GET). Somebody whose groups
// grant no role → 403 that says whom to ask. No upstream call happens
// before this has decided.
func (s *Server) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.identify(w, r)
		if !ok {
			s.notSignedIn(w, r)
			return
		}
		r = r.WithContext(withIdentity(r.Context(), id))
		if id.Role == "" {
			s.forbidden(w, r, role.Viewer, "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withIdentity puts the signed-in person in the context, for handlers and
// for the page header.
func withIdentity(ctx context.Context, id reqctx.Identity) context.Context {
	ctx = reqctx.WithIdentity(ctx, id)
	c := views.ChromeFrom(ctx)
	c.UserName, c.UserID, c.Role = id.Name, id.ID, id.Role
	return views.WithChrome(ctx, c)
}

// identify returns the identity of the request, if any.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) (reqctx.Identity, bool) {
	ctx := r.Context()
	log := reqctx.Logger(ctx)
	a := s.auth
	if a.mode == "header" {
		c, err := a.header.Identify(ctx, r)
		if err != nil {
			if errors.Is(err, auth.ErrNoIdentity) && r.Header.Get(a.header.UserHeader) == "" {
				log.Debug("not signed in: no identity header")
			} else {
				log.Warn("identity refused", "reason", err.Error(), "remote", r.RemoteAddr)
			}
			return reqctx.Identity{}, false
		}
		role, via := auth.RoleFor(c.Groups, s.cfg.RoleGroups)
		// AuthTime is known only from a signed assertion (auth_time, else
		// iat); plain headers leave it zero and the proxy's schedule applies.
		return reqctx.Identity{ID: c.ID, Name: c.Name, Role: role, Groups: c.Groups, Via: via, AuthTime: c.AuthTime}, true
	}

	tls := isTLS(r)
	rec, err := a.sessions.Load(r, tls)
	if err != nil {
		log.Warn("session cookie rejected; treating the request as signed out", "reason", err.Error())
		return reqctx.Identity{}, false
	}
	if rec == nil {
		return reqctx.Identity{}, false
	}
	if a.mode == "oidc" && time.Since(rec.GroupsAt) > a.roleFresh {
		c, tok, err := a.oidc.Refresh(ctx, rec.Token)
		if err != nil {
			log.Warn("session ended: could not refresh the groups at the identity provider", "reason", err.Error(), "actor", rec.Claims.ID)
			a.sessions.Revoke(rec.ID)
			return reqctx.Identity{}, false
		}
		now := time.Now()
		a.sessions.Update(rec.ID, func(r *auth.Record) { r.Claims.Groups, r.Claims.Name, r.Token, r.GroupsAt = c.Groups, c.Name, tok, now })
		rec.Claims.Groups, rec.Claims.Name = c.Groups, c.Name
	}
	id := reqctx.Identity{ID: rec.Claims.ID, Name: rec.Claims.Name, Groups: rec.Claims.Groups, SessionID: rec.ID, AuthTime: rec.AuthTime}
	if rec.DevRole != "" {
		id.Role, id.Via = rec.DevRole, "dev sign-in"
	} else {
		id.Role, id.Via = auth.RoleFor(rec.Claims.Groups, s.cfg.RoleGroups)
	}
	return id, true
}

// notSignedIn answers a request without a valid sign-in: 401, or for a
// browser's GET in dev/oidc mode a redirect to the sign-in page that
// returns here afterwards.
func (s *Server) notSignedIn(w http.ResponseWriter, r *http.Request) {
	nxt := strings.TrimPrefix(r.URL.Path, s.cfg.BasePath)
	if r.URL.RawQuery != "" {
		nxt += "?" + r.URL.RawQuery
	}
	proxy := s.auth.mode == "header"
	if !proxy {
		login := views.WithQuery(views.Path(r.Context(), "/login"), "next", safeNext(nxt))
		if respond.IsFragment(r) {
			w.Header().Set("HX-Redirect", login)
		} else if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, login, http.StatusSeeOther)
			return
		}
	}
	reqctx.Logger(r.Context()).Info("not signed in", "method", r.Method, "path", r.URL.Path)
	w.Header().Set("Cache-Control", "no-store")
	respond.Page(w, r, http.StatusUnauthorized, "Please sign in", views.SignInRequired(views.SignInView{
		Proxy: proxy, Next: safeNext(nxt), CorrelationID: reqctx.RequestID(r.Context()),
	}))
}

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
func (s *Server) audit(ctx context.Context, action, targetType, targetID, outcome string, details map[string]string) {
	if s.store == nil {
		return
	}
	handlers.Record(ctx, s.store, action, targetType, targetID, outcome, details)
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

// Sessions is the number of live sign-in sessions (tests).
func (s *Server) Sessions() int { return s.auth.sessions.Len() }
