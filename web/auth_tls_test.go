package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/role"
)

func tlsServer(t *testing.T, adjust func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		AuthMode: "dev", Embedded: true, CookieSameSite: "lax", FrameAncestors: "'self'",
		RoleGroups:         map[role.Role][]string{role.Viewer: {"v"}, role.Agent: {"a"}, role.Lead: {"l"}},
		AuthTrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}
	if adjust != nil {
		adjust(&cfg)
	}
	s, err := New(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signInFrom posts the demo sign-in as a browser behind remote would and
// returns the answer.
func signInFrom(s *Server, remote, proto string) *http.Response {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"name": {"Ada"}, "role": {"viewer"}}.Encode()))
	r.RemoteAddr = remote
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if proto != "" {
		r.Header.Set("X-Forwarded-Proto", proto)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Result()
}

// wantTLS checks a sign-in answer: a __Host- Secure cookie and HSTS when
// served over TLS, neither otherwise.
func wantTLS(t *testing.T, name string, resp *http.Response, tls bool) {
	t.Helper()
	cs := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cs) != 1 {
		t.Fatalf("%s: %d with %d cookies", name, resp.StatusCode, len(cs))
	}
	hsts := resp.Header.Get("Strict-Transport-Security")
	if got := cs[0].Name == "__Host-console" && cs[0].Secure && cs[0].Path == "/" && strings.Contains(hsts, "max-age=31536000"); got != tls {
		t.Errorf("%s: cookie %s (Secure %v), HSTS %q; want TLS %v", name, cs[0].Name, cs[0].Secure, hsts, tls)
	}
}

// Finding: behind a TLS load balancer (not on loopback) the cookies lost
// Secure and __Host-, and HSTS was never sent. X-Forwarded-Proto is now
// believed from AUTH_TRUSTED_PROXIES peers, and only from them.
func TestTLSBehindTrustedProxy(t *testing.T) {
	s := tlsServer(t, nil)
	wantTLS(t, "trusted load balancer says https", signInFrom(s, "10.20.30.40:51000", "https"), true)
	wantTLS(t, "loopback proxy says https", signInFrom(s, "127.0.0.1:51000", "https"), true)
	wantTLS(t, "trusted load balancer says http", signInFrom(s, "10.20.30.40:51000", "http"), false)
	wantTLS(t, "untrusted peer says https", signInFrom(s, "192.0.2.7:51000", "https"), false)
}

// Finding: an https PUBLIC_URL or OIDC_REDIRECT_URL means the console is
// served over TLS, whatever the proxy in front says.
func TestTLSFromConfiguration(t *testing.T) {
	s := tlsServer(t, func(c *Config) { c.PublicURL = "https://console.corp.example" })
	wantTLS(t, "https PUBLIC_URL", signInFrom(s, "192.0.2.7:51000", ""), true)
	s = tlsServer(t, func(c *Config) { c.PublicURL = "http://console.internal" })
	wantTLS(t, "http PUBLIC_URL", signInFrom(s, "192.0.2.7:51000", ""), false)

	for redirect, want := range map[string]bool{"https://console.corp.example/auth/callback": true, "http://127.0.0.1:8080/auth/callback": false} {
		s := tlsServer(t, func(c *Config) {
			c.AuthMode, c.OIDCIssuer, c.OIDCClientID, c.OIDCRedirectURL = "oidc", "https://idp.invalid", "console", redirect
		})
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		r.RemoteAddr = "192.0.2.7:51000"
		s.ServeHTTP(w, r)
		if got := w.Header().Get("Strict-Transport-Security") != ""; got != want {
			t.Errorf("OIDC_REDIRECT_URL %s: HSTS %v, want %v", redirect, got, want)
		}
	}
}
