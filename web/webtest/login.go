package webtest

import (
	"fmt"
	consolerole "github.com/example/dixa-console/web/role"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Login returns a client (own cookie jar, redirects not followed) signed in
// as a new person with role ("viewer", "agent", "lead"). Every call makes up
// a different person, so tests do not share one per-person request budget.
//
// In dev mode it uses the demo sign-in form. In header mode (plain headers)
// the client's transport adds the identity headers a sign-on proxy would,
// with the proxy secret when one is configured, on every request.
func (e *Env) Login(t testing.TB, role string) *http.Client {
	t.Helper()
	n := e.logins.Add(1)
	name := fmt.Sprintf("Test %s %d", role, n)
	c := e.Client()
	switch e.Cfg.AuthMode {
	case "dev":
		resp, _ := e.PostForm(t, c, "/login", url.Values{"name": {name}, "role": {role}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("dev sign-in as %s: status %d, want 303", role, resp.StatusCode)
		}
	case "header":
		if e.Cfg.AuthJWKSURL != "" {
			t.Fatal("webtest.Login: header mode with a signed assertion needs a token; send it yourself")
		}
		groups := e.Cfg.RoleGroups[consolerole.Role(role)]
		if len(groups) == 0 {
			t.Fatalf("webtest.Login: no group grants %q", role)
		}
		h := http.Header{}
		h.Set(e.Cfg.AuthHeaderUser, fmt.Sprintf("%s-%d@example.com", role, n))
		if e.Cfg.AuthHeaderName != "" {
			h.Set(e.Cfg.AuthHeaderName, name)
		}
		h.Set(e.Cfg.AuthHeaderGroups, strings.Join(groups[:1], ","))
		if e.Cfg.AuthProxySecret != "" {
			h.Set("X-Proxy-Secret", e.Cfg.AuthProxySecret)
		}
		c.Transport = &HeaderTransport{Header: h}
	default:
		t.Fatalf("webtest.Login: not available in %s mode", e.Cfg.AuthMode)
	}
	return c
}

// HeaderTransport adds headers to every request, as a sign-on proxy in
// front of the console would.
type HeaderTransport struct {
	Header http.Header
	Base   http.RoundTripper // nil: http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (h *HeaderTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range h.Header {
		r.Header[k] = append([]string(nil), vs...)
	}
	base := h.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}
