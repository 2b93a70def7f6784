package web_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/webtest"
)

// tokenUser is a mockoidc user whose ID token carries claims MockUser
// cannot set: auth_time, or email_verified false (MockUser omits a false
// one). nil in extra removes a claim.
type tokenUser struct {
	*mockoidc.MockUser
	extra map[string]any
}

func (u *tokenUser) Claims(scope []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c, err := u.MockUser.Claims(scope, base)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	m := jwt.MapClaims{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range u.extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m, nil
}

func leadUser(sub string, extra map[string]any) *tokenUser {
	return &tokenUser{MockUser: &mockoidc.MockUser{Subject: sub, Email: sub + "@example.com", EmailVerified: true,
		PreferredUsername: sub, Groups: []string{"support-leads"}}, extra: extra}
}

// oidcSignIn runs a whole sign-in in c's browser for the next queued user
// and returns the provider's authorization URL and the callback's answer.
func oidcSignIn(t *testing.T, env *webtest.Env, c *http.Client, loginPath string) (authURL string, resp *http.Response) {
	t.Helper()
	r, authURL := follow(t, c, env.URL+loginPath)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %d", loginPath, r.StatusCode)
	}
	_, cb := follow(t, c, authURL)
	resp, _ = follow(t, c, cb)
	return authURL, resp
}

// startOIDCCounting starts a mock provider that counts its token
// endpoint calls.
func startOIDCCounting(t *testing.T) (*mockoidc.MockOIDC, *atomic.Int64) {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, mockoidc.TokenEndpoint) {
				n.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m, &n
}

// Finding: one pending sign-in cookie replayed in a loop wrote an audit
// entry (and called the token endpoint) every time. A pending sign-in is
// now taken from the server once: replays find nothing, write nothing,
// call nobody.
func TestOIDCPendingSignInIsSingleUse(t *testing.T) {
	m, tokenCalls := startOIDCCounting(t)
	env := oidcEnv(t, m)
	// One sign-in first: the client learns how the provider wants its
	// credentials, so that afterwards one code exchange is one call.
	m.QueueUser(leadUser("warm-up", nil))
	if _, resp := oidcSignIn(t, env, env.Client(), "/login"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}

	// A forged state, replayed with the same cookie: one entry.
	c := env.Client()
	_, authURL := follow(t, c, env.URL+"/login")
	q := mustQuery(t, authURL)
	_, cb := follow(t, c, authURL)
	forged := strings.Replace(cb, "state="+url.QueryEscape(q.Get("state")), "state=forged", 1)
	for range 20 {
		if resp, _ := follow(t, cloneJar(t, env, c), forged); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged callback: %d", resp.StatusCode)
		}
	}
	if es := aaEntries(t, env, "signin"); len(es) != 2 || es[1].Details["reason"] != "bad_state" {
		t.Errorf("%d signin entries after a sign-in and 20 replays of one pending sign-in, want 2, the second bad_state", len(es))
	}

	// The right state, replayed: one sign-in, one token call.
	m.QueueUser(leadUser("replayed", nil))
	c = env.Client()
	_, authURL = follow(t, c, env.URL+"/login")
	_, cb = follow(t, c, authURL)
	jars := make([]*http.Client, 20)
	for i := range jars {
		jars[i] = cloneJar(t, env, c)
	}
	before := tokenCalls.Load()
	ok := 0
	for _, cc := range jars {
		if resp, _ := follow(t, cc, cb); resp.StatusCode == http.StatusSeeOther {
			ok++
		}
	}
	if ok != 1 || tokenCalls.Load()-before != 1 {
		t.Errorf("20 replays of one callback: %d sign-ins, %d token calls; want 1 and 1", ok, tokenCalls.Load()-before)
	}
	if es := aaEntries(t, env, "signin"); len(es) != 3 {
		t.Errorf("%d signin entries, want 3 (the two above and this sign-in)", len(es))
	}
}

// Finding: unauthenticated sign-in attempts are limited per client address
// (behind a trusted proxy: the address it forwards). Over the budget:
// 429, no provider call, no audit entry; other addresses are unaffected.
func TestOIDCSignInLimitPerAddress(t *testing.T) {
	m := startOIDC(t)
	clock := webtest.NewClock() // stands still: no refill during the test
	env := webtest.New(t, webtest.Options{Now: clock.Now, Config: func(c *web.Config) {
		c.AuthMode, c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = "oidc", m.Issuer(), m.ClientID, m.ClientSecret
		c.OIDCRedirectURL = "http://" + c.ListenAddr + "/auth/callback"
	}})
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
	c := env.Client()
	for i := range 30 {
		if resp, _ := env.Get(t, c, "/login", from("198.51.100.7")...); resp.StatusCode != http.StatusFound {
			t.Fatalf("attempt %d: %d, want 302 to the provider", i+1, resp.StatusCode)
		}
	}
	resp, _ := env.Get(t, c, "/login", from("198.51.100.7")...)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("31st attempt: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	before := len(aaEntries(t, env, "signin"))
	if resp, _ := env.Get(t, c, "/auth/callback?state=x&code=y", from("198.51.100.7")...); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("callback over the limit: %d, want 429", resp.StatusCode)
	}
	if n := len(aaEntries(t, env, "signin")) - before; n != 0 {
		t.Errorf("%d audit entries for refused attempts", n)
	}
	if resp, _ := env.Get(t, c, "/login", from("203.0.113.9")...); resp.StatusCode != http.StatusFound {
		t.Errorf("another address: %d, want 302", resp.StatusCode)
	}
	clock.Advance(time.Minute)
	if resp, _ := env.Get(t, c, "/login", from("198.51.100.7")...); resp.StatusCode != http.StatusFound {
		t.Errorf("after a minute: %d, want 302", resp.StatusCode)
	}
}

// Finding: the person's identity is issuer and subject, not an email that
// can be written differently; a token with email_verified false is not an
// identity and gets a clear page, no session.
func TestOIDCIdentityAndUnverifiedEmail(t *testing.T) {
	m := startOIDC(t)
	env := oidcEnv(t, m)
	m.QueueUser(&mockoidc.MockUser{Subject: "u-9", Email: "Lead.Nine@Example.com", EmailVerified: true, Groups: []string{"support-leads"}})
	if _, resp := oidcSignIn(t, env, env.Client(), "/login"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	if e := aaOnly(t, env, "signin"); e.ActorID != m.Issuer()+"|u-9" || e.ActorName != "lead.nine@example.com" {
		t.Errorf("signin actor %q (%q), want issuer|subject and the lower-cased email for display", e.ActorID, e.ActorName)
	}

	m.QueueUser(&tokenUser{MockUser: &mockoidc.MockUser{Subject: "u-10", Email: "eve@example.com", Groups: []string{"support-leads"}},
		extra: map[string]any{"email_verified": false}})
	c := env.Client()
	_, authURL := follow(t, c, env.URL+"/login")
	_, cb := follow(t, c, authURL)
	resp, body := env.Do(t, c, mustGet(t, cb))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Email address not verified") {
		t.Errorf("unverified email: %d, want 403 saying so", resp.StatusCode)
	}
	if resp, _ := env.Get(t, c, "/endusers"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after an unverified sign-in: %d, want no session", resp.StatusCode)
	}
	es := aaEntries(t, env, "signin")
	if last := es[len(es)-1]; len(es) != 2 || last.Outcome != store.OutcomeDenied || last.Details["reason"] != "email_unverified" {
		t.Errorf("signin entries %+v, want a second one denied for email_unverified", es)
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Finding: step-up did not make anyone sign in again. The session's
// sign-in time is the token's auth_time; a sign-in from a browser that
// still has a session is a step-up that sends max_age and prompt=login and
// refuses a token whose auth_time is missing or older than the window.
func TestOIDCStepUp(t *testing.T) {
	const window = 10 * time.Minute
	m := startOIDC(t)
	env := oidcEnv(t, m, func(c *web.Config) { c.StepUpMaxAge = window })
	u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Stefan Stepup", Email: "stefan.stepup@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	erase := func(c *http.Client, ref string) *http.Response {
		resp, _ := env.PostForm(t, c, "/endusers/"+u.ID+"/erasure", url.Values{"reference": {ref}, "reason": {"Art. 17(1)(a) GDPR"},
			"receivedAt": {time.Now().Format("2006-01-02")}, "confirm": {u.Email}})
		return resp
	}

	// The provider's session is an hour old: the sign-in completes
	// silently, and does not count as recent.
	c := env.Client()
	m.QueueUser(leadUser("stefan", map[string]any{"auth_time": time.Now().Add(-time.Hour).Unix()}))
	authURL, resp := oidcSignIn(t, env, c, "/login")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", resp.StatusCode)
	}
	if q := mustQuery(t, authURL); q.Has("max_age") || q.Has("prompt") {
		t.Errorf("a first sign-in asked for %v", q)
	}
	if resp := erase(c, "DSAR-OIDC-1"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("erasure with a sign-in an hour old: %d, want 403 (step-up)", resp.StatusCode)
	}

	// Signing in again from this browser is a step-up.
	refused := func(name string, authTime any) {
		t.Helper()
		m.QueueUser(leadUser("stefan", map[string]any{"auth_time": authTime}))
		authURL, resp := oidcSignIn(t, env, c, "/login?next=/endusers/"+u.ID+"/erasure")
		q := mustQuery(t, authURL)
		if q.Get("max_age") != strconv.Itoa(int(window/time.Second)) || q.Get("prompt") != "login" {
			t.Errorf("%s: step-up asked for max_age=%q prompt=%q, want %d and login", name, q.Get("max_age"), q.Get("prompt"), int(window/time.Second))
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, resp.StatusCode)
		}
		if es := aaEntries(t, env, "signin"); es[len(es)-1].Details["reason"] != "stale_authentication" {
			t.Errorf("%s: last signin entry %+v, want stale_authentication", name, es[len(es)-1])
		}
		if resp, _ := env.Get(t, c, "/endusers"); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: the session before the step-up ended: %d", name, resp.StatusCode)
		}
	}
	refused("no auth_time", nil)
	refused("auth_time older than the window", time.Now().Add(-window-time.Minute).Unix())

	m.QueueUser(leadUser("stefan", map[string]any{"auth_time": time.Now().Unix()}))
	if _, resp := oidcSignIn(t, env, c, "/login?next=/endusers/"+u.ID+"/erasure"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("step-up with a fresh auth_time: %d", resp.StatusCode)
	}
	if resp := erase(c, "DSAR-OIDC-2"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("erasure after the step-up: %d, want 303", resp.StatusCode)
	}
}
