package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
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
	// refresher reads a session's groups again at the provider: oidc
	// (tests put a fake here). refreshes runs one refresh per session.
	refresher groupRefresher
	refreshes singleflight.Group
	limiter   *auth.PersonLimiter
	// signIns limits sign-in attempts per client address.
	signIns *auth.AddrLimiter
	// roleFresh: see defaultRoleFreshness.
	roleFresh time.Duration
	now       func() time.Time
}

// newAuthState builds sign-in; sessions are kept in sessionStore when it
// is not nil (the database, shared by replicas), else in memory.
func newAuthState(cfg Config, now func() time.Time, sessionStore auth.Store) (*authState, error) {
	if now == nil {
		now = time.Now
	}
	a := &authState{
		mode: cfg.AuthMode,
		sessions: auth.NewSessions(auth.SessionConfig{
			Keys:     cfg.SessionKeys,
			SameSite: cfg.CookieSameSite,
			BasePath: cfg.BasePath,
			Idle:     cfg.SessionIdle,
			Absolute: cfg.SessionAbsolute,
			Store:    sessionStore,
			Now:      now,
		}),
		limiter:   auth.NewPersonLimiter(cfg.PersonRate, cfg.PersonBurst),
		signIns:   auth.NewAddrLimiter(0, 0, 0, now),
		roleFresh: cfg.RoleFreshness,
		now:       now,
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
		h, err := newHeaderAuth(cfg)
		if err != nil {
			return nil, err
		}
		a.header = h
	case "oidc":
		stepUp := cfg.StepUpMaxAge
		if stepUp <= 0 {
			stepUp = erasure.DefaultStepUp
		}
		a.oidc = auth.NewOIDC(auth.OIDCConfig{
			Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: cfg.OIDCRedirectURL, GroupsClaim: cfg.OIDCGroupsClaim, StepUpMaxAge: stepUp, Now: now,
		})
		a.refresher = a.oidc
	default:
		return nil, errors.New("unknown AUTH_MODE " + strconv.Quote(cfg.AuthMode))
	}
	return a, nil
}

// newHeaderAuth reads the identity a sign-on proxy sends: plain headers
// with a shared secret, or a signed assertion.
func newHeaderAuth(cfg Config) (*auth.Header, error) {
	h := &auth.Header{
		UserHeader:   cfg.AuthHeaderUser,
		NameHeader:   cfg.AuthHeaderName,
		GroupsHeader: cfg.AuthHeaderGroups,
		Secret:       cfg.AuthProxySecret,
		Trusted:      cfg.AuthTrustedProxies,
	}
	if cfg.AuthJWKSURL != "" {
		h.Assertion = auth.NewVerifier(auth.VerifierConfig{
			JWKSURL: cfg.AuthJWKSURL, Issuer: cfg.AuthJWTIssuer, Audience: cfg.AuthJWTAudience,
			GroupsClaim: cfg.OIDCGroupsClaim,
		})
		h.AssertionHeader = cfg.AuthJWTHeader
	}
	if h.Secret == "" && h.Assertion == nil {
		return nil, errors.New("header mode needs AUTH_PROXY_SECRET or a signed assertion verifier")
	}
	if len(h.Trusted) == 0 {
		return nil, errors.New("header mode needs AUTH_TRUSTED_PROXIES")
	}
	return h, nil
}

// signedIn establishes who is asking, on every request: from the sealed
// session cookie and the server-side session (dev, oidc) or from the
// sign-on proxy's headers or signed assertion (header). Nobody → 401 (a
// redirect to the sign-in page for a browser's GET). Somebody whose groups
// grant no role → 403 that says whom to ask. No upstream call happens
// before this has decided.
func (s *Server) signedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok, err := s.identify(w, r)
		if err != nil {
			// Not knowing who is asking is not the same as nobody: the
			// person stays signed in and is asked to try again.
			respond.Error(w, r, &respond.Err{Status: http.StatusServiceUnavailable, Title: "The console cannot check your sign-in",
				Message:    "The console's database is not answering just now, so your sign-in cannot be checked. You are still signed in: try again in a few seconds.",
				RetryAfter: 5 * time.Second, Cause: err})
			return
		}
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

// withIdentity puts the signed-in person in the context, for handlers, for
// the page header, and for the Dixa client's per-person fair queue.
func withIdentity(ctx context.Context, id reqctx.Identity) context.Context {
	ctx = reqctx.WithIdentity(ctx, id)
	ctx = apiclient.WithCaller(ctx, id.ID)
	c := views.ChromeFrom(ctx)
	c.UserName, c.UserID, c.Role = id.Name, id.ID, id.Role
	return views.WithChrome(ctx, c)
}

// isPoll reports whether the browser made the request on its own: an
// htmx poll of a page that follows a job or an erasure. A poll is served
// but does not count as the person using the console.
func isPoll(r *http.Request) bool { return r.Header.Get(views.PollHeader) == "1" }

// identify returns the identity of the request, if any; an error when the
// session store could not be read (the person may well be signed in).
func (s *Server) identify(w http.ResponseWriter, r *http.Request) (reqctx.Identity, bool, error) {
	if s.auth.mode == "header" {
		id, ok := s.identifyHeader(r)
		return id, ok, nil
	}
	log := reqctx.Logger(r.Context())
	rec, err := s.auth.sessions.Load(r, s.isTLS(r), !isPoll(r))
	switch {
	case errors.Is(err, auth.ErrBadCookie):
		log.Warn("session cookie rejected; treating the request as signed out", "reason", err.Error())
		return reqctx.Identity{}, false, nil
	case err != nil:
		return reqctx.Identity{}, false, fmt.Errorf("session store: %w", err)
	case rec == nil:
		return reqctx.Identity{}, false, nil
	}
	if s.auth.mode == "oidc" && s.auth.now().Sub(rec.GroupsAt) > s.auth.roleFresh {
		if rec = s.auth.refreshGroups(r.Context(), rec); rec == nil {
			return reqctx.Identity{}, false, nil
		}
	}
	return s.identityOf(rec), true, nil
}

// identifyHeader reads the identity the sign-on proxy sent with the
// request.
func (s *Server) identifyHeader(r *http.Request) (reqctx.Identity, bool) {
	ctx := r.Context()
	log := reqctx.Logger(ctx)
	h := s.auth.header
	c, err := h.Identify(ctx, r)
	if err != nil {
		if errors.Is(err, auth.ErrNoIdentity) && r.Header.Get(h.UserHeader) == "" {
			log.Debug("not signed in: no identity header")
		} else {
			log.Warn("identity refused", "reason", err.Error(), "remote", r.RemoteAddr)
		}
		return reqctx.Identity{}, false
	}
	role, via := auth.RoleFor(c.Groups, s.cfg.RoleGroups)
	// AuthTime is known only from a signed assertion (auth_time, else
	// iat); plain headers leave it zero and the proxy's schedule applies.
	return reqctx.Identity{ID: c.ID, Email: c.Email, Name: c.Name, Role: role, Groups: c.Groups, Via: via, AuthTime: c.AuthTime}, true
}

// identityOf is the person of a session, with the role of its groups (or
// the one picked on the demo sign-in page).
func (s *Server) identityOf(rec *auth.Record) reqctx.Identity {
	id := reqctx.Identity{ID: rec.Claims.ID, Email: rec.Claims.Email, Name: rec.Claims.Name, Groups: rec.Claims.Groups,
		SessionID: rec.ID, AuthTime: rec.AuthTime}
	if rec.DevRole != "" {
		id.Role, id.Via = rec.DevRole, "dev sign-in"
	} else {
		id.Role, id.Via = auth.RoleFor(rec.Claims.Groups, s.cfg.RoleGroups)
	}
	return id
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

// Sessions is the number of live sign-in sessions (tests).
func (s *Server) Sessions() int { return s.auth.sessions.Len() }
