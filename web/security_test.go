package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

var nonceRE = regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]{16,})'`)

// checkHeaders asserts what every response carries.
func checkHeaders(t *testing.T, what string, resp *http.Response, frameAncestors string, seen map[string]bool) {
	t.Helper()
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	m := nonceRE.FindStringSubmatch(csp)
	if m == nil {
		t.Errorf("%s: no script nonce in CSP %q", what, csp)
	} else if seen[m[1]] {
		t.Errorf("%s: nonce reused", what)
	} else {
		seen[m[1]] = true
	}
	for _, want := range []string{"object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors " + frameAncestors + ";"} {
		if !strings.Contains(csp+";", want) {
			t.Errorf("%s: CSP lacks %q: %q", what, want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows unsafe scripts: %q", what, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
		t.Errorf("%s: nosniff %q, referrer %q", what, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
	}
	if ct := h.Get("Content-Type"); ct != "" && !strings.Contains(ct, "charset=") && !strings.HasPrefix(ct, "image/") && !strings.HasPrefix(ct, "font/") {
		t.Errorf("%s: Content-Type %q without charset", what, ct)
	}
}

// Security headers on every response, errors and fragments too.
func TestSecurityHeadersEverywhere(t *testing.T) {
	const fa = "'self' https://intranet.example.com"
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) { c.FrameAncestors = fa }})
	lead := env.Login(t, "lead")
	viewer := env.Login(t, "viewer")
	anon := env.Client()
	seen := map[string]bool{}
	type req struct {
		c      *http.Client
		method string
		path   string
		hdr    []string
	}
	reqs := []req{
		{anon, "GET", "/login", nil},
		{anon, "GET", "/endusers", nil},                            // 303
		{anon, "GET", "/endusers", []string{"HX-Request", "true"}}, // 401 fragment
		{anon, "GET", "/healthz", nil},
		{lead, "GET", "/endusers", nil},
		{lead, "GET", "/endusers?q=nobody@example.com", []string{"HX-Request", "true"}},
		{lead, "GET", "/no/such/page", nil},
		{lead, "GET", "/endusers/not-a-uuid", nil},
		{viewer, "GET", "/endusers", nil},
		{lead, "TRACE", "/endusers", nil},
		{lead, "TRACE", "/no/such/page", nil},
		{lead, "PUT", "/endusers", nil},
		{lead, "OPTIONS", "/", nil},
		{lead, "DELETE", "/login", nil},
	}
	for _, rt := range env.Server.Routes() {
		if rt.Method == "GET" && !strings.Contains(rt.Pattern, "*") {
			reqs = append(reqs, req{lead, "GET", fillPattern(env, rt.Pattern), nil}, req{lead, "GET", fillPattern(env, rt.Pattern), []string{"HX-Request", "true"}})
		}
	}
	for _, r := range reqs {
		hr, _ := http.NewRequestWithContext(t.Context(), r.method, env.URL+r.path, nil)
		for i := 0; i+1 < len(r.hdr); i += 2 {
			hr.Header.Set(r.hdr[i], r.hdr[i+1])
		}
		resp, _ := env.Do(t, r.c, hr)
		what := r.method + " " + r.path + " " + strings.Join(r.hdr, ":") + " → " + resp.Status
		checkHeaders(t, what, resp, fa, seen)
		if !strings.HasPrefix(r.path, "/static/") && resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", what, resp.Header.Get("Cache-Control"))
		}
		if r.method != "GET" && r.method != "POST" && r.method != "HEAD" {
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s: want 405", what)
			}
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", what)
		}
	}

	// Over TLS (terminated by the local proxy): HSTS for a year at least.
	resp, _ := env.Get(t, anon, "/login", "X-Forwarded-Proto", "https")
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=31536000") {
		t.Errorf("HSTS %q over TLS", hsts)
	}
}

// Cross-origin protection: any state-changing request from elsewhere is refused
// before anything happens; no trusted origins unless configured.
func TestCrossOriginPostsRefused(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	lead := env.Login(t, "lead")
	before := simCalls(env)
	sessionsBefore := env.Server.Sessions()
	var posts []string
	for _, rt := range env.Server.Routes() {
		if rt.Method == http.MethodPost && !strings.HasSuffix(rt.Pattern, "/*") {
			posts = append(posts, fillPattern(env, rt.Pattern))
		}
	}
	if !slices.Contains(posts, "/login") || !slices.Contains(posts, "/logout") {
		t.Fatalf("POST routes %q", posts)
	}
	for _, p := range posts {
		for name, hdr := range map[string][]string{
			"cross-site":          {"Sec-Fetch-Site", "cross-site"},
			"same-site":           {"Sec-Fetch-Site", "same-site", "Origin", "https://portal.example.com"},
			"origin differs":      {"Sec-Fetch-Site", "", "Origin", "https://evil.example"},
			"origin differs port": {"Sec-Fetch-Site", "", "Origin", "http://127.0.0.1:1"},
		} {
			resp, _ := env.PostForm(t, lead, p, url.Values{"name": {"Eve"}, "role": {"lead"}}, hdr...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s (%s): %d, want 403", p, name, resp.StatusCode)
			}
			if len(resp.Cookies()) != 0 {
				t.Errorf("POST %s (%s) set a cookie", p, name)
			}
		}
	}
	if n := simCalls(env) - before; n != 0 {
		t.Errorf("Dixa received %d requests from cross-origin posts", n)
	}
	if env.Server.Sessions() != sessionsBefore {
		t.Error("a cross-origin post changed the sessions")
	}
	// The same person is still signed in: the refused sign-out did nothing.
	if resp, _ := env.Get(t, lead, "/endusers"); resp.StatusCode != 200 {
		t.Errorf("after refused posts: %d", resp.StatusCode)
	}

	// A configured trusted origin may post (the only way to allow one).
	env2 := webtest.New(t, webtest.Options{Config: func(c *web.Config) { c.TrustedOrigins = []string{"https://portal.example.com"} }})
	resp, _ := env2.PostForm(t, env2.Client(), "/login", url.Values{"name": {"Ada"}, "role": {"viewer"}}, "Sec-Fetch-Site", "same-site", "Origin", "https://portal.example.com")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("trusted origin: %d, want 303", resp.StatusCode)
	}
}

// The toolchain has the CrossOriginProtection fix.
func TestToolchainPatched(t *testing.T) {
	v := strings.TrimPrefix(runtime.Version(), "go")
	var major, minor, patch int
	parts := strings.SplitN(strings.Fields(v)[0], ".", 3)
	atoi := func(s string) int {
		n := 0
		for _, r := range s {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
		}
		return n
	}
	major = atoi(parts[0])
	if len(parts) > 1 {
		minor = atoi(parts[1])
	}
	if len(parts) > 2 {
		patch = atoi(parts[2])
	}
	if major == 1 && (minor < 25 || minor == 25 && patch < 1) {
		t.Errorf("Go %s: CrossOriginProtection needs ≥ 1.25.1 (CVE-2025-47910)", runtime.Version())
	}
}

// Per-person request limit: over the budget → 429 + Retry-After, others
// unaffected, nothing sent upstream.
func TestPerPersonLimit(t *testing.T) {
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) { c.PersonRate, c.PersonBurst = 0, 0 }}) // the production defaults
	ada := env.Login(t, "viewer")
	got429 := false
	for range 40 {
		resp, body := env.Get(t, ada, "/")
		if resp.StatusCode == http.StatusTooManyRequests {
			got429 = true
			if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
				t.Errorf("Retry-After %q", ra)
			}
			if doc(t, body).Find("[data-status='429']").Length() != 1 {
				t.Error("no 429 page")
			}
			break
		}
	}
	if !got429 {
		t.Fatal("40 requests at once were never limited")
	}
	bea := env.Login(t, "viewer")
	if resp, _ := env.Get(t, bea, "/"); resp.StatusCode == http.StatusTooManyRequests {
		t.Error("another person was limited too")
	}
}

// The Dixa key never leaks: the canary key appears in no response body, header,
// cookie or log line across every route, also when Dixa fails with
// 400/401/500 (the simulator echoes request details in errors).
func TestCanaryKeyNeverLeaks(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{}})
	lead := env.Login(t, "lead")
	var all strings.Builder
	scan := func(what string, resp *http.Response, body string) {
		all.WriteString(body)
		for k, vs := range resp.Header {
			all.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		for _, c := range resp.Cookies() {
			all.WriteString(c.String())
		}
		if strings.Contains(body, webtest.Key) {
			t.Errorf("%s: the key is in the body", what)
		}
	}
	routes := env.Server.Routes()
	for _, fault := range []int{0, 400, 401, 403, 404, 409, 429, 500, 503} {
		for _, rt := range routes {
			if fault != 0 {
				env.Sim.FailNext(dixasim.AllRoutes, 100, fault)
			}
			p := fillPattern(env, rt.Pattern)
			switch rt.Method {
			case http.MethodGet:
				for _, h := range [][]string{nil, {"HX-Request", "true"}} {
					resp, body := env.Get(t, lead, p+"?q=canary%40example.com", h...)
					scan("GET "+p, resp, body)
				}
			case http.MethodPost:
				if strings.HasSuffix(p, "/logout") {
					continue // keep the session for the other routes
				}
				resp, body := env.PostForm(t, lead, p, url.Values{"q": {"x"}, "email": {"canary@example.com"}, "displayName": {"Canary"}, "reference": {"T-1"}, "reason": {"test"}})
				scan("POST "+p, resp, body)
			}
			env.Sim.ResetFaults()
		}
	}
	env.Sim.SetErrorRate(dixasim.AllRoutes, 1, 500)
	resp, body := env.Get(t, lead, "/endusers")
	scan("GET /endusers (500s)", resp, body)
	env.Sim.ResetFaults()

	if strings.Contains(all.String(), webtest.Key) {
		t.Error("the key reached a browser")
	}
	if strings.Contains(env.Logs.String(), webtest.Key) {
		t.Error("the key is in the logs")
	}
	if !strings.Contains(env.Logs.String(), "request") {
		t.Error("nothing was logged: the scan proves nothing")
	}
}

// Roles on every route (as the routes grow) and the "no upstream call when
// forbidden" promise: a viewer and an agent walk every route, with forged
// role fields and proxy headers; each 403 causes no Dixa call at all, and
// a viewer never causes a write.
func TestForbiddenCausesNoUpstreamCall(t *testing.T) {
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) { c.PersonRate, c.PersonBurst = 1000, 1000 }})
	forged := url.Values{"role": {"lead"}, "Role": {"lead"}, "groups": {"support-leads"}, "reference": {"T-1"}, "reason": {"x"}, "receivedAt": {"2026-01-01"}, "confirm": {"x"}}
	hdr := []string{"X-Forwarded-Groups", "support-leads", "X-Forwarded-Email", "lead@example.com", "X-Role", "lead"}
	for _, role := range []string{"viewer", "agent"} {
		c := env.Login(t, role)
		env.Sim.ResetStats()
		denied := 0
		for _, rt := range env.Server.Routes() {
			if publicRoute(rt.Pattern) || strings.HasSuffix(rt.Pattern, "/*") {
				continue
			}
			p := fillPattern(env, rt.Pattern)
			before := simCalls(env)
			var resp *http.Response
			switch rt.Method {
			case http.MethodGet:
				resp, _ = env.Get(t, c, p+"?role=lead", hdr...)
			case http.MethodPost:
				resp, _ = env.PostForm(t, c, p+"?role=lead", forged, hdr...)
			default:
				continue
			}
			if resp.StatusCode == http.StatusForbidden {
				denied++
				if n := simCalls(env) - before; n != 0 {
					t.Errorf("%s %s %s as %s: 403 after %d Dixa calls", rt.Method, p, resp.Status, role, n)
				}
			}
		}
		if denied == 0 {
			t.Errorf("%s was refused nothing: the walk proves nothing", role)
		}
		if role == "viewer" {
			for _, r := range env.Sim.Requests() {
				if r.Method != http.MethodGet {
					t.Errorf("a viewer caused %s %s upstream", r.Method, r.Path)
				}
			}
		}
	}
}

// Safe methods stay safe: GET and HEAD of every route cause only GETs upstream.
func TestSafeMethodsDoNotWrite(t *testing.T) {
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) { c.PersonRate, c.PersonBurst = 1000, 1000 }})
	lead := env.Login(t, "lead")
	env.Sim.ResetStats()
	for _, rt := range env.Server.Routes() {
		if rt.Method != http.MethodGet || strings.HasSuffix(rt.Pattern, "/*") {
			continue
		}
		p := fillPattern(env, rt.Pattern)
		env.Get(t, lead, p)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, env.URL+p, nil)
		env.Do(t, lead, req)
	}
	for _, r := range env.Sim.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("GET/HEAD caused %s %s upstream", r.Method, r.Path)
		}
	}
}
