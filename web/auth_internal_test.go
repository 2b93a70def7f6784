package web

import (
	"github.com/example/dixa-console/web/role"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/reqctx"
)

func testServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{
		AuthMode: "header", AuthProxySecret: "0123456789abcdef", Embedded: true, CookieSameSite: "lax", FrameAncestors: "'self'",
		RoleGroups:         map[role.Role][]string{role.Viewer: {"v"}, role.Agent: {"a"}, role.Lead: {"l"}},
		AuthTrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The role check (the middleware half): every role below the needed one gets
// the 403 page naming the role and the group to ask for; the handler (and
// so Dixa) is never reached.
func TestRequireRole(t *testing.T) {
	s := testServer(t)
	for _, need := range []role.Role{role.Viewer, role.Agent, role.Lead} {
		reached := false
		h := s.securityHeaders(s.requireRole(need)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })))
		for _, have := range []role.Role{"", "admin", role.Viewer, role.Agent, role.Lead} {
			reached = false
			r := httptest.NewRequest(http.MethodPost, "/x?role=lead", strings.NewReader("role=lead"))
			r.Header.Set("X-Forwarded-Groups", "l")
			ctx := reqctx.WithLogger(r.Context(), slog.New(slog.DiscardHandler)) // keep the test output quiet
			r = r.WithContext(reqctx.WithIdentity(ctx, reqctx.Identity{ID: "p@example.com", Name: "P", Role: have}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			allowed := have.AtLeast(need)
			if reached != allowed {
				t.Errorf("need %s, have %q: reached %v", need, have, reached)
			}
			if !allowed {
				body := w.Body.String()
				if w.Code != http.StatusForbidden || !strings.Contains(body, ">"+string(need)+"<") && have != "" || !strings.Contains(body, "<code>l</code>") {
					t.Errorf("need %s, have %q: %d, want 403 naming the role and the group", need, have, w.Code)
				}
			}
		}
	}
}

// A panic gives the friendly 500 with a correlation id, no
// Go error string, and the process keeps serving.
func TestPanicIsFriendly500(t *testing.T) {
	s := testServer(t)
	h := s.requestContext(s.recoverPanics(s.securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			var m map[string]int
			m["x"] = 1 // assignment to entry in nil map
		}
		w.Write([]byte("fine"))
	}))))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/boom", nil))
	body := w.Body.String()
	id := w.Header().Get("X-Request-Id")
	if w.Code != 500 || id == "" || !strings.Contains(body, id) {
		t.Errorf("panic: %d, correlation id %q in body: %v", w.Code, id, strings.Contains(body, id))
	}
	if strings.Contains(body, "nil map") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
		t.Error("the panic's details reached the page")
	}
	if w.Header().Get("Content-Security-Policy") == "" {
		t.Error("the 500 page has no CSP")
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ok", nil))
	if w.Code != 200 || w.Body.String() != "fine" {
		t.Errorf("after a panic: %d %q", w.Code, w.Body.String())
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "/endusers",
		"/endusers/x?q=a%40b":           "/endusers/x?q=a%40b",
		"//evil.example":                "/endusers",
		"/\\evil.example":               "/endusers",
		"https://evil.example/":         "/endusers",
		"javascript:alert(1)":           "/endusers",
		"/login?next=//evil":            "/endusers",
		"/auth/callback?code=1":         "/endusers",
		"/x\r\nSet-Cookie: a=b":         "/endusers",
		"endusers":                      "/endusers",
		"/" + strings.Repeat("a", 3000): "/endusers",
		// Out from under BASE_PATH by dot segments, plain or encoded (browsers
		// resolve %2e%2e as ..), and encoded slashes and backslashes.
		"/../../evil":           "/endusers",
		"/endusers/../../admin": "/endusers",
		"/%2e%2e/%2e%2e/admin":  "/endusers",
		"/%2E%2E/admin?x=1":     "/endusers",
		"/.//evil.example":      "/endusers",
		"/%2F%2Fevil.example":   "/endusers",
		"/%5Cevil.example":      "/endusers",
		"/%2F/evil.example":     "/endusers",
		"/%6Cogin?next=//evil":  "/endusers",
		"https:/\\evil.example": "/endusers",
		"/endusers?q=..%2F..":   "/endusers?q=..%2F..",
		"/endusers/a..b":        "/endusers/a..b",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzLoginForm: the sign-in form parser and validator never panic, and
// whatever passes validation is a clean name and a real role.
func FuzzLoginForm(f *testing.F) {
	f.Add("name=Ada&role=lead&next=%2Fendusers")
	f.Add("name=&role=admin")
	f.Add("name=%00&role=lead&next=%2F%2Fevil")
	f.Add("role=lead&role=viewer&name=a&name=b")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		form, err := parseLoginForm(r)
		if err != nil {
			return
		}
		if !strings.HasPrefix(form.Next, "/") || strings.HasPrefix(form.Next, "//") {
			t.Fatalf("next %q", form.Next)
		}
		if form.Validate() == "" {
			if role.Role(form.Role).Rank() == 0 || form.Name == "" || len(form.Name) > 80 || strings.ContainsAny(form.Name, "\x00\r\n") {
				t.Fatalf("accepted %+v", form)
			}
			if id := devID(form.Name); !strings.HasSuffix(id, "@demo.invalid") || strings.ContainsAny(id, " \r\n<>\"") {
				t.Fatalf("devID(%q) = %q", form.Name, id)
			}
		}
	})
}
