package web_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/example/dixa-console/apiclient"

	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

func doc(t testing.TB, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func simCalls(env *webtest.Env) int { return env.Sim.Stats().Total.Requests }

// publicRoute reports whether a route is served without sign-in.
func publicRoute(p string) bool {
	for _, s := range []string{"/healthz", "/readyz", "/metrics", "/static/", "/login", "/logout", "/auth/callback"} {
		if strings.HasSuffix(p, s) || strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// fillPattern turns a route pattern into a path with plausible ids.
func fillPattern(env *webtest.Env, pattern string) string {
	id, _ := env.Sim.AnyUserID(func(apiclient.EndUser) bool { return true })
	p := strings.TrimPrefix(pattern, env.Cfg.BasePath)
	p = strings.TrimSuffix(p, "/*")
	var b strings.Builder
	for part := range strings.SplitSeq(p, "/") {
		if part == "" {
			continue
		}
		b.WriteString("/")
		if strings.HasPrefix(part, "{") {
			b.WriteString(id)
		} else {
			b.WriteString(part)
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// Without a session (dev, oidc) every route but the public
// ones sends a browser to sign in (GET) or answers 401, and Dixa hears
// nothing.
func TestSignedOutGetsNothing(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	c := env.Client()
	before := simCalls(env)
	for _, rt := range env.Server.Routes() {
		if publicRoute(rt.Pattern) {
			continue
		}
		p := fillPattern(env, rt.Pattern)
		switch rt.Method {
		case http.MethodGet:
			resp, _ := env.Get(t, c, p)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
				t.Errorf("GET %s: %d → %q, want 303 to the sign-in page", p, resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, _ = env.Get(t, c, p, "HX-Request", "true")
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("HX-Redirect") == "" {
				t.Errorf("htmx GET %s: %d, want 401 with HX-Redirect", p, resp.StatusCode)
			}
		case http.MethodPost:
			resp, _ := env.PostForm(t, c, p, url.Values{"role": {"lead"}})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST %s: %d, want 401", p, resp.StatusCode)
			}
		}
	}
	if n := simCalls(env) - before; n != 0 {
		t.Errorf("Dixa received %d requests from signed-out people", n)
	}
}

func TestDevSignIn(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	c := env.Client()

	resp, body := env.Get(t, c, "/login?next=/endusers%3Fq%3Dx")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	d := doc(t, body)
	if d.Find("[data-testid=demo-notice]").Length() != 1 || !strings.Contains(d.Find("h1").Text(), "Demo") {
		t.Error("the sign-in page does not say it is a demo")
	}
	if v, _ := d.Find("input[name=next]").Attr("value"); v != "/endusers?q=x" {
		t.Errorf("next = %q", v)
	}

	for _, f := range []url.Values{
		{"name": {""}, "role": {"agent"}},
		{"name": {"Ada"}, "role": {"admin"}},
		{"name": {"Ada"}},
		{"name": {"Ada\x00"}, "role": {"lead"}},
		{"name": {strings.Repeat("a", 81)}, "role": {"lead"}},
	} {
		resp, body := env.PostForm(t, c, "/login", f)
		if resp.StatusCode != http.StatusUnprocessableEntity || doc(t, body).Find("[data-testid=login-error]").Length() != 1 {
			t.Errorf("POST /login %v: %d, want 422 with the error shown", f, resp.StatusCode)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("POST /login %v set a cookie", f)
		}
	}

	resp, _ = env.PostForm(t, c, "/login", url.Values{"name": {"Ada Lovelace"}, "role": {"agent"}, "next": {"/endusers?q=x"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/endusers?q=x" {
		t.Fatalf("sign-in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = env.Get(t, c, "/endusers")
	who := doc(t, body).Find("[data-testid=whoami]").Text()
	if !strings.Contains(who, "Ada Lovelace") || !strings.Contains(who, "agent") {
		t.Errorf("header shows %q, want the name and the role", who)
	}

	// Open redirects are not followed.
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/login"} {
		resp, _ := env.PostForm(t, env.Client(), "/login", url.Values{"name": {"Bea"}, "role": {"viewer"}, "next": {next}})
		if loc := resp.Header.Get("Location"); loc != "/endusers" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

// Over HTTP: a new session id at sign-in; sign-out is
// real (the replayed cookie no longer works) and clears site data.
func TestSignOutIsReal(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	c := env.Login(t, "viewer")
	u, _ := url.Parse(env.URL)
	old := c.Jar.Cookies(u)
	if len(old) != 1 {
		t.Fatalf("%d cookies after sign-in", len(old))
	}

	// Signing in again (as someone else, same browser) gives a new id and
	// kills the old one.
	resp, _ := env.PostForm(t, c, "/login", url.Values{"name": {"Other"}, "role": {"viewer"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatal(resp.Status)
	}
	if now := c.Jar.Cookies(u); now[0].Value == old[0].Value {
		t.Error("the session cookie did not change at sign-in")
	}
	replay := env.Client()
	replay.Jar.SetCookies(u, old)
	if resp, _ := env.Get(t, replay, "/endusers"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the pre-sign-in cookie still works: %d", resp.StatusCode)
	}

	current := c.Jar.Cookies(u)
	resp, body := env.PostForm(t, c, "/logout", nil)
	if resp.StatusCode != 200 || doc(t, body).Find("[data-testid=signed-out]").Length() != 1 {
		t.Errorf("sign-out: %d", resp.StatusCode)
	}
	// "cache" and "storage", never "cookies": that would clear the cookies
	// of the whole registrable domain, signing people out of the portal
	// next to the console. The session cookie itself is expired instead.
	if got := resp.Header.Get("Clear-Site-Data"); got != `"cache", "storage"` {
		t.Errorf("Clear-Site-Data %q, want \"cache\", \"storage\"", got)
	}
	expired := false
	for _, ck := range resp.Cookies() {
		if ck.Name == "console" && ck.MaxAge < 0 {
			expired = true
		}
	}
	if !expired {
		t.Errorf("sign-out did not expire the session cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	replay = env.Client()
	replay.Jar.SetCookies(u, current)
	if resp, _ := env.Get(t, replay, "/endusers"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("replayed cookie after sign-out: %d, want a redirect to sign in", resp.StatusCode)
	}
	if resp, _ := env.PostForm(t, replay, "/logout", nil); resp.StatusCode != 200 {
		t.Errorf("a second sign-out: %d", resp.StatusCode)
	}
	if n := env.Server.Sessions(); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

// Over HTTP: a tampered cookie is signed out, logged, never 500.
func TestTamperedCookieIsSignedOut(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	c := env.Login(t, "lead")
	u, _ := url.Parse(env.URL)
	ck := c.Jar.Cookies(u)[0]
	b := []byte(ck.Value)
	b[len(b)/2] ^= 0x04
	bad := env.Client()
	bad.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: string(b)}})
	resp, _ := env.Get(t, bad, "/endusers")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("tampered cookie: %d, want a redirect to sign in", resp.StatusCode)
	}
	if !strings.Contains(env.Logs.String(), "session cookie rejected") {
		t.Error("the tampered cookie was not logged")
	}
}

func headerEnv(t *testing.T, adjust func(*web.Config)) *webtest.Env {
	return webtest.New(t, webtest.Options{Config: func(c *web.Config) {
		c.AuthMode = "header"
		c.AuthProxySecret = "proxy-secret-0123456789"
		if adjust != nil {
			adjust(c)
		}
	}})
}

func getWith(t *testing.T, env *webtest.Env, path string, h map[string]string) (*http.Response, string) {
	t.Helper()
	var kv []string
	for k, v := range h {
		kv = append(kv, k, v)
	}
	return env.Get(t, env.Client(), path, kv...)
}

// Header mode: identity only from a trusted peer with
// the shared secret; re-read on every request.
func TestHeaderMode(t *testing.T) {
	env := headerEnv(t, nil)
	ok := map[string]string{"X-Forwarded-Email": "ada@example.com", "X-Forwarded-User": "Ada", "X-Forwarded-Groups": "support-agents, other", "X-Proxy-Secret": "proxy-secret-0123456789"}
	resp, body := getWith(t, env, "/endusers", ok)
	if resp.StatusCode != 200 {
		t.Fatalf("good headers: %d", resp.StatusCode)
	}
	if who := doc(t, body).Find("[data-testid=whoami]").Text(); !strings.Contains(who, "Ada") || !strings.Contains(who, "agent") {
		t.Errorf("whoami %q", who)
	}
	if len(resp.Cookies()) != 0 {
		t.Error("header mode set a cookie")
	}
	// webtest.Login speaks header mode too.
	if resp, body := env.Get(t, env.Login(t, "lead"), "/endusers"); resp.StatusCode != 200 || !strings.Contains(doc(t, body).Find("[data-testid=whoami]").Text(), "lead") {
		t.Errorf("Login in header mode: %d", resp.StatusCode)
	}
	before := simCalls(env)
	for name, h := range map[string]map[string]string{
		"no secret":     {"X-Forwarded-Email": "ada@example.com", "X-Forwarded-Groups": "support-leads"},
		"wrong secret":  {"X-Forwarded-Email": "ada@example.com", "X-Forwarded-Groups": "support-leads", "X-Proxy-Secret": "proxy-secret-0123456780"},
		"secret only":   {"X-Proxy-Secret": "proxy-secret-0123456789"},
		"other headers": {"Remote-User": "ada", "Remote-Groups": "support-leads", "X-Auth-Request-Email": "ada@example.com", "X-Auth-Request-Groups": "support-leads", "X-Proxy-Secret": "proxy-secret-0123456789"},
		"control chars": {"X-Forwarded-Email": "ada\u0085@example.com", "X-Proxy-Secret": "proxy-secret-0123456789"},
	} {
		resp, body := getWith(t, env, "/endusers", h)
		if resp.StatusCode != http.StatusUnauthorized || doc(t, body).Find("[data-status='401']").Length() != 1 {
			t.Errorf("%s: %d, want the 401 page", name, resp.StatusCode)
		}
	}
	if n := simCalls(env) - before; n != 0 {
		t.Errorf("Dixa received %d requests for anonymous people", n)
	}

	// No mapped group → 403 that says whom to ask, not a role.
	for _, groups := range []string{"", "engineering", "Support-Leads", "support-leads-x"} {
		h := map[string]string{"X-Forwarded-Email": "bo@example.com", "X-Forwarded-Groups": groups, "X-Proxy-Secret": "proxy-secret-0123456789"}
		resp, body := getWith(t, env, "/endusers", h)
		d := doc(t, body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(d.Find("[data-testid=whom-to-ask]").Text(), "support-viewers") {
			t.Errorf("groups %q: %d, want 403 naming the group to join", groups, resp.StatusCode)
		}
	}
	if n := simCalls(env) - before; n != 0 {
		t.Errorf("Dixa received %d requests for people without a role", n)
	}
}

func TestHeaderModeUntrustedPeer(t *testing.T) {
	env := headerEnv(t, func(c *web.Config) { c.AuthTrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")} })
	h := map[string]string{"X-Forwarded-Email": "ada@example.com", "X-Forwarded-Groups": "support-leads", "X-Proxy-Secret": "proxy-secret-0123456789", "X-Forwarded-For": "10.9.0.1", "X-Real-Ip": "10.9.0.1"}
	if resp, _ := getWith(t, env, "/endusers", h); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("untrusted peer: %d, want 401", resp.StatusCode)
	}
	if !strings.Contains(env.Logs.String(), "not a trusted proxy") {
		t.Error("the refused identity was not logged")
	}
}

// With a signed assertion: only a valid token counts;
// plain identity headers then count for nothing.
func TestHeaderModeAssertion(t *testing.T) {
	iss := webtest.NewIssuer(t)
	env := headerEnv(t, func(c *web.Config) {
		c.AuthProxySecret = ""
		c.AuthJWTHeader = "X-Pomerium-Jwt-Assertion"
		c.AuthJWKSURL = iss.JWKSURL
		c.AuthJWTIssuer = iss.URL
		c.AuthJWTAudience = "console.example"
	})
	good := iss.Assertion(t, "console.example", "ada@example.com", []string{"support-leads"}, map[string]any{"name": "Ada"})
	resp, body := getWith(t, env, "/endusers", map[string]string{"X-Pomerium-Jwt-Assertion": good, "X-Forwarded-Email": "eve@example.com", "X-Forwarded-Groups": "nobody"})
	if resp.StatusCode != 200 {
		t.Fatalf("good assertion: %d", resp.StatusCode)
	}
	if who := doc(t, body).Find("[data-testid=whoami]").Text(); !strings.Contains(who, "Ada") || !strings.Contains(who, "lead") {
		t.Errorf("whoami %q: the assertion's claims must replace the plain headers", who)
	}

	before := simCalls(env)
	plain := map[string]string{
		"X-Forwarded-Email": "ada@example.com", "X-Forwarded-Groups": "support-leads",
		"X-Auth-Request-Email": "ada@example.com", "X-Auth-Request-Groups": "support-leads",
		"Remote-User": "ada", "Remote-Groups": "support-leads",
	}
	cases := map[string]string{
		"missing":       "",
		"wrong aud":     iss.Assertion(t, "other", "ada@example.com", []string{"support-leads"}, nil),
		"wrong iss":     iss.Assertion(t, "console.example", "ada@example.com", []string{"support-leads"}, map[string]any{"iss": "https://evil.example"}),
		"expired":       iss.Assertion(t, "console.example", "ada@example.com", []string{"support-leads"}, map[string]any{"exp": 1000}),
		"bad signature": iss.ForeignAssertion(t, "console.example", "ada@example.com", []string{"support-leads"}),
	}
	for name, tok := range cases {
		h := map[string]string{}
		for k, v := range plain {
			h[k] = v
		}
		if tok != "" {
			h["X-Pomerium-Jwt-Assertion"] = tok
		}
		resp, _ := getWith(t, env, "/endusers", h)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, resp.StatusCode)
		}
	}
	if n := simCalls(env) - before; n != 0 {
		t.Errorf("Dixa received %d requests without a valid assertion", n)
	}
}
