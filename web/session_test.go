package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// Over HTTP: the session cookie as a browser receives it, over TLS
// (terminated by a local proxy) and plain.
func TestSessionCookieOverHTTP(t *testing.T) {
	for _, tc := range []struct {
		sameSite, proto, name, path string
		secure, partitioned         bool
		want                        http.SameSite
	}{
		{"lax", "https", "__Host-console", "/", true, false, http.SameSiteLaxMode},
		{"strict", "https", "__Host-console", "/", true, false, http.SameSiteStrictMode},
		{"none", "https", "__Host-console", "/", true, true, http.SameSiteNoneMode},
		{"lax", "", "console", "/support/console/", false, false, http.SameSiteLaxMode},
	} {
		t.Run(tc.sameSite+tc.proto, func(t *testing.T) {
			env := webtest.New(t, webtest.Options{Config: func(c *web.Config) { c.CookieSameSite = tc.sameSite; c.BasePath = "/support/console" }})
			resp, _ := env.PostForm(t, env.Client(), "/login", url.Values{"name": {"Ada"}, "role": {"viewer"}}, "X-Forwarded-Proto", tc.proto)
			raw := resp.Header.Values("Set-Cookie")
			if len(raw) != 1 {
				t.Fatalf("Set-Cookie %q", raw)
			}
			c := resp.Cookies()[0]
			if c.Name != tc.name || c.Path != tc.path || c.Domain != "" || !c.HttpOnly || c.Secure != tc.secure || c.SameSite != tc.want || c.Partitioned != tc.partitioned || c.MaxAge <= 0 || c.MaxAge > 12*3600 {
				t.Errorf("Set-Cookie: %s", raw[0])
			}
			if resp.Header.Get("Location") != "/support/console/endusers" {
				t.Errorf("redirect %q, want under the base path", resp.Header.Get("Location"))
			}
		})
	}
}

func startOIDC(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

func oidcEnv(t *testing.T, m *mockoidc.MockOIDC, adjust ...func(*web.Config)) *webtest.Env {
	return webtest.New(t, webtest.Options{Config: func(c *web.Config) {
		for _, f := range adjust {
			f(c)
		}
		c.AuthMode = "oidc"
		c.OIDCIssuer = m.Issuer()
		c.OIDCClientID = m.ClientID
		c.OIDCClientSecret = m.ClientSecret
		c.OIDCRedirectURL = "http://" + c.ListenAddr + "/auth/callback"
		c.OIDCGroupsClaim = "groups"
	}})
}

// follow does one GET and returns the response's Location.
func follow(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if loc != "" && strings.HasPrefix(loc, "/") {
		base, _ := url.Parse(u)
		ref, _ := base.Parse(loc)
		loc = ref.String()
	}
	return resp, loc
}

// The oidc sign-in end to end against a real (mock) provider: code flow
// with PKCE S256, state and nonce; groups from the token.
func TestOIDCSignIn(t *testing.T) {
	m := startOIDC(t)
	env := oidcEnv(t, m)
	m.QueueUser(&mockoidc.MockUser{Subject: "u-1", Email: "ada@example.com", EmailVerified: true, PreferredUsername: "ada", Groups: []string{"engineering", "support-leads"}})

	c := env.Client()
	resp, authURL := follow(t, c, env.URL+"/login?next=/endusers%3Fq%3Dx")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(authURL, m.AuthorizationEndpoint()) {
		t.Fatalf("GET /login: %d → %q", resp.StatusCode, authURL)
	}
	q := mustQuery(t, authURL)
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || len(q.Get("state")) < 32 || len(q.Get("nonce")) < 32 || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorization request lacks PKCE/state/nonce: %v", q)
	}
	_, cb := follow(t, c, authURL)
	if !strings.HasPrefix(cb, env.URL+"/auth/callback?") {
		t.Fatalf("provider sent the browser to %q", cb)
	}

	// The callback in another browser (no sign-in in progress there) fails.
	if resp, _ := follow(t, env.Client(), cb); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("callback in another browser: %d, want 401", resp.StatusCode)
	}
	// A forged state fails, and the attempt is used up: the same
	// browser's cookie then finds no sign-in in progress.
	forged := strings.Replace(cb, "state="+url.QueryEscape(q.Get("state")), "state=forged", 1)
	cc := cloneJar(t, env, c)
	if resp, _ := follow(t, cc, forged); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged state: %d, want 401", resp.StatusCode)
	}
	if resp, _ := follow(t, c, cb); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("callback after the attempt was used up: %d, want 401", resp.StatusCode)
	}

	// Starting again signs in.
	m.QueueUser(&mockoidc.MockUser{Subject: "u-1", Email: "ada@example.com", EmailVerified: true, PreferredUsername: "ada", Groups: []string{"engineering", "support-leads"}})
	_, authURL = follow(t, c, env.URL+"/login?next=/endusers%3Fq%3Dx")
	_, cb = follow(t, c, authURL)
	resp, next := follow(t, c, cb)
	if resp.StatusCode != http.StatusSeeOther || next != env.URL+"/endusers?q=x" {
		t.Fatalf("callback: %d → %q", resp.StatusCode, next)
	}
	resp, body := env.Get(t, c, "/endusers")
	if who := doc(t, body).Find("[data-testid=whoami]").Text(); resp.StatusCode != 200 || !strings.Contains(who, "ada") || !strings.Contains(who, "lead") {
		t.Errorf("after sign-in: %d, whoami %q", resp.StatusCode, who)
	}
	// Replaying the callback does not sign anyone in again.
	if resp, _ := follow(t, c, cb); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed callback: %d, want 401", resp.StatusCode)
	}

	// Someone whose groups map to no role is signed in but refused.
	m.QueueUser(&mockoidc.MockUser{Subject: "u-2", Email: "bo@example.com", Groups: []string{"engineering"}})
	c2 := env.Client()
	_, a2 := follow(t, c2, env.URL+"/login")
	_, cb2 := follow(t, c2, a2)
	follow(t, c2, cb2)
	resp, body = env.Get(t, c2, "/endusers")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "support-viewers") {
		t.Errorf("no mapped group: %d, want 403 naming the group to ask for", resp.StatusCode)
	}
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
}

// cloneJar returns a client holding the same cookies as c.
func cloneJar(t *testing.T, env *webtest.Env, c *http.Client) *http.Client {
	u, _ := url.Parse(env.URL)
	cc := env.Client()
	cc.Jar.SetCookies(u, c.Jar.Cookies(u))
	return cc
}

// A person removed from the lead group loses the role within
// the freshness bound (here: at once), because the groups are re-read from
// the provider with the refresh token; the role is never cached beyond it.
func TestOIDCGroupsRefresh(t *testing.T) {
	m := startOIDC(t)
	env := oidcEnv(t, m, func(c *web.Config) { c.RoleFreshness = time.Nanosecond })
	user := &mockoidc.MockUser{Subject: "u-3", Email: "lea@example.com", Groups: []string{"support-leads"}}
	m.QueueUser(user)
	c := env.Client()
	_, a := follow(t, c, env.URL+"/login")
	_, cb := follow(t, c, a)
	follow(t, c, cb)
	if resp, body := env.Get(t, c, "/endusers"); resp.StatusCode != 200 || !strings.Contains(doc(t, body).Find("[data-testid=whoami]").Text(), "lead") {
		t.Fatalf("before: %d", resp.StatusCode)
	}
	user.Groups = []string{"support-viewers"} // removed from the leads at the provider
	resp, body := env.Get(t, c, "/endusers")
	if who := doc(t, body).Find("[data-testid=whoami]").Text(); resp.StatusCode != 200 || !strings.Contains(who, "viewer") {
		t.Errorf("after removal: %d, whoami %q, want viewer", resp.StatusCode, who)
	}
	// The provider failing for another reason keeps the session, with the
	// groups it has; the next refresh is tried later (here: at once).
	m.QueueError(&mockoidc.ServerError{Code: http.StatusInternalServerError, Error: "server_error", Description: "down"})
	if resp, body := env.Get(t, c, "/endusers"); resp.StatusCode != http.StatusOK || !strings.Contains(doc(t, body).Find("[data-testid=whoami]").Text(), "viewer") {
		t.Errorf("provider error at refresh: %d, want still signed in as a viewer", resp.StatusCode)
	}
	if !strings.Contains(env.Logs.String(), "could not refresh the groups") {
		t.Error("the failed refresh was not logged")
	}
	// Only the provider saying the grant is invalid ends it.
	m.QueueError(&mockoidc.ServerError{Code: http.StatusBadRequest, Error: mockoidc.InvalidGrant, Description: "revoked"})
	if resp, _ := env.Get(t, c, "/endusers"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("refresh refused by the provider: %d, want signed out", resp.StatusCode)
	}
}

// Finding: the import and erasure pages poll every few seconds, which kept
// a forgotten tab's session alive for ever. A poll (X-Console-Poll: 1) is
// served but does not move the idle deadline; using the console does.
func TestPollDoesNotExtendSession(t *testing.T) {
	clock := webtest.NewClock()
	env := webtest.New(t, webtest.Options{Now: clock.Now, Config: func(c *web.Config) { c.SessionIdle = 30 * time.Minute }})
	poll := []string{"HX-Request", "true", views.PollHeader, "1"}

	idle, busy := env.Login(t, "lead"), env.Login(t, "lead")
	for minute := 5; minute <= 35; minute += 5 { // polling every 5 minutes
		clock.Advance(5 * time.Minute)
		want := http.StatusOK // served while the session lives...
		if minute > 30 {
			want = http.StatusUnauthorized // ...but it ends 30 minutes after the last real use
		}
		if resp, _ := env.Get(t, idle, "/imports", poll...); resp.StatusCode != want || want != http.StatusOK && resp.Header.Get("HX-Redirect") == "" {
			t.Fatalf("poll of the idle tab at minute %d: %d, want %d", minute, resp.StatusCode, want)
		}
		if resp, _ := env.Get(t, busy, "/imports", poll...); resp.StatusCode != http.StatusOK {
			t.Fatalf("poll of the busy tab at minute %d: %d", minute, resp.StatusCode)
		}
		if resp, _ := env.Get(t, busy, "/endusers"); resp.StatusCode != http.StatusOK {
			t.Fatalf("someone using the console was signed out at minute %d: %d", minute, resp.StatusCode)
		}
	}
	if resp, _ := env.Get(t, idle, "/endusers"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a tab that only polled for 35 minutes: %d, want signed out (303 to sign in)", resp.StatusCode)
	}
}

// The polling elements mark their requests as polls.
func TestPollingElementsSendPollHeader(t *testing.T) {
	for name, c := range map[string]templ.Component{
		"import job":     views.ImportJobFragment(views.ImportJob{ID: "j1", Poll: true}),
		"erasure status": views.ErasureStatusPanel(views.ErasureDetail{}),
	} {
		var b strings.Builder
		if err := c.Render(t.Context(), &b); err != nil {
			t.Fatal(err)
		}
		d := doc(t, b.String())
		el := d.Find("[hx-trigger^=every]")
		h, _ := el.Attr("hx-headers")
		var hdr map[string]string
		if el.Length() != 1 || json.Unmarshal([]byte(h), &hdr) != nil || hdr[views.PollHeader] != "1" {
			t.Errorf("%s: polling element with hx-headers %q, want {%q: \"1\"}", name, h, views.PollHeader)
		}
	}
}

// A database that does not answer does not sign anybody out: the request
// is answered 503 with Retry-After and a message that says the person is
// still signed in, and the same cookie works again once it answers.
func TestSessionStoreDownIs503(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	c := env.Login(t, "agent")
	env.Store.Close()
	for _, h := range [][]string{nil, {"HX-Request", "true"}} {
		resp, body := env.Get(t, c, "/endusers", h...)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("database down (%v): %d, Retry-After %q; want 503 with Retry-After", h, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if !strings.Contains(body, "You are still signed in") || resp.Header.Get("HX-Redirect") != "" {
			t.Errorf("database down (%v): the answer does not say the person is still signed in, or sends them to sign in", h)
		}
	}
}
