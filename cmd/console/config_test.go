package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// realUpstream is a valid header-mode configuration against a real Dixa;
// the tests change one thing at a time.
func realUpstream(kv ...string) map[string]string {
	env := map[string]string{
		"DIXA_API_URL":      "https://dev.dixa.io",
		"DIXA_API_KEY":      "k",
		"AUTH_MODE":         "header",
		"AUTH_PROXY_SECRET": "0123456789abcdef0123",
		"SESSION_KEYS":      strings.Repeat("ab", 32),
		"LISTEN_ADDR":       "127.0.0.1:8080",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func parse(env map[string]string) error {
	_, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	return err
}

// Header mode refuses to start when plain headers could come
// from anyone (a non-loopback listen address without a signed assertion),
// or with neither a secret nor a verifier.
func TestHeaderModeStartupRefusals(t *testing.T) {
	jwt := []string{"AUTH_PROXY_SECRET", "", "AUTH_JWT_HEADER", "X-Pomerium-Jwt-Assertion", "AUTH_JWKS_URL", "https://auth.example.com/.well-known/pomerium/jwks.json", "AUTH_JWT_ISSUER", "authenticate.example.com", "AUTH_JWT_AUDIENCE", "console.example.com"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" = accepted
	}{
		{"secret on loopback", realUpstream(), ""},
		{"secret on ::1", realUpstream("LISTEN_ADDR", "[::1]:8080"), ""},
		{"secret on localhost", realUpstream("LISTEN_ADDR", "localhost:8080"), ""},
		{"secret on all interfaces", realUpstream("LISTEN_ADDR", "0.0.0.0:8080"), "LISTEN_ADDR"},
		{"secret on no host", realUpstream("LISTEN_ADDR", ":8080"), "LISTEN_ADDR"},
		{"secret on a LAN address", realUpstream("LISTEN_ADDR", "10.0.0.5:8080"), "LISTEN_ADDR"},
		{"assertion on all interfaces", realUpstream(append(jwt, "LISTEN_ADDR", "0.0.0.0:8080")...), ""},
		{"assertion with http JWKS", realUpstream(append(jwt, "AUTH_JWKS_URL", "http://auth.example.com/jwks")...), "AUTH_JWKS_URL"},
		{"assertion without audience", realUpstream(append(jwt, "AUTH_JWT_AUDIENCE", "")...), "AUTH_JWT_HEADER"},
		{"neither secret nor verifier", realUpstream("AUTH_PROXY_SECRET", ""), "AUTH_PROXY_SECRET"},
		{"short secret", realUpstream("AUTH_PROXY_SECRET", "short"), "AUTH_PROXY_SECRET"},
		{"no trusted proxies", realUpstream("AUTH_TRUSTED_PROXIES", " , "), "AUTH_TRUSTED_PROXIES"},
		{"bad trusted proxy", realUpstream("AUTH_TRUSTED_PROXIES", "10.0.0.0/33"), "AUTH_TRUSTED_PROXIES"},
		{"no session keys", realUpstream("SESSION_KEYS", ""), "SESSION_KEYS"},
		{"oidc without issuer", realUpstream("AUTH_MODE", "oidc", "OIDC_CLIENT_ID", "c", "OIDC_REDIRECT_URL", "https://c.example.com/auth/callback"), "OIDC_ISSUER"},
		{"oidc", realUpstream("AUTH_MODE", "oidc", "OIDC_ISSUER", "https://idp.example.com", "OIDC_CLIENT_ID", "c", "OIDC_REDIRECT_URL", "https://c.example.com/auth/callback", "LISTEN_ADDR", "0.0.0.0:8080"), ""},
		{"bad role groups", realUpstream("ROLE_GROUPS", "admin=x"), "ROLE_GROUPS"},
		{"bad samesite", realUpstream("COOKIE_SAMESITE", "off"), "COOKIE_SAMESITE"},
		{"frame ancestors injection", realUpstream("FRAME_ANCESTORS", "'self'; script-src *"), "FRAME_ANCESTORS"},
		{"bad trusted origin", realUpstream("TRUSTED_ORIGINS", "portal.example.com"), "TRUSTED_ORIGINS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parse(tc.env)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a usage error naming %s", err, tc.want)
			}
			// The same through run(): exit code 2, and no secret echoed.
			err = run(t.Context(), nil, func(k string) string { return tc.env[k] }, io.Discard, io.Discard)
			if !errors.Is(err, errUsage) {
				t.Errorf("run: %v, want a usage error (exit code 2)", err)
			}
			for _, secret := range []string{tc.env["AUTH_PROXY_SECRET"], tc.env["SESSION_KEYS"]} {
				if len(secret) >= 16 && strings.Contains(err.Error(), secret) {
					t.Errorf("the error echoes a secret: %q", err)
				}
			}
		})
	}
}

// IMPORT_RETENTION: 30 days by default, a duration from 1h to 8760h.
// PUBLIC_URL: empty by default, else an absolute http(s) URL, kept without
// a trailing slash.
func TestImportRetentionAndPublicURL(t *testing.T) {
	for _, tc := range []struct {
		kv            []string
		wantRetention time.Duration
		wantPublic    string
		wantErr       string
	}{
		{nil, 30 * 24 * time.Hour, "", ""},
		{[]string{"IMPORT_RETENTION", "24h"}, 24 * time.Hour, "", ""},
		{[]string{"IMPORT_RETENTION", "8760h"}, 8760 * time.Hour, "", ""},
		{[]string{"IMPORT_RETENTION", "30m"}, 0, "", "IMPORT_RETENTION"},
		{[]string{"IMPORT_RETENTION", "9000h"}, 0, "", "IMPORT_RETENTION"},
		{[]string{"IMPORT_RETENTION", "a month"}, 0, "", "IMPORT_RETENTION"},
		{[]string{"PUBLIC_URL", "https://console.example.com/support/console/"}, 30 * 24 * time.Hour, "https://console.example.com/support/console", ""},
		{[]string{"PUBLIC_URL", "http://127.0.0.1:8080"}, 30 * 24 * time.Hour, "http://127.0.0.1:8080", ""},
		{[]string{"PUBLIC_URL", "console.example.com"}, 0, "", "PUBLIC_URL"},
		{[]string{"PUBLIC_URL", "ftp://console.example.com"}, 0, "", "PUBLIC_URL"},
		{[]string{"PUBLIC_URL", "https://user:pw@console.example.com"}, 0, "", "PUBLIC_URL"},
		{[]string{"PUBLIC_URL", "https://console.example.com/?x=1"}, 0, "", "PUBLIC_URL"},
	} {
		env := realUpstream(tc.kv...)
		c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if tc.wantErr != "" {
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: got %v, want a usage error naming %s", tc.kv, err, tc.wantErr)
			}
			if strings.Contains(fmt.Sprint(err), "pw@") {
				t.Errorf("%q: the error echoes a password: %v", tc.kv, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: refused: %v", tc.kv, err)
			continue
		}
		if c.ImportRetention != tc.wantRetention || c.PublicURL != tc.wantPublic {
			t.Errorf("%q: got retention %v, public URL %q; want %v, %q", tc.kv, c.ImportRetention, c.PublicURL, tc.wantRetention, tc.wantPublic)
		}
	}
	// A flag wins over the environment.
	env := realUpstream("IMPORT_RETENTION", "24h")
	c, err := parseConfig([]string{"-import-retention", "48h"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.ImportRetention != 48*time.Hour {
		t.Errorf("flag over environment: got %v, %v; want 48h", c.ImportRetention, err)
	}
}

func TestConversationSettings(t *testing.T) {
	for _, tc := range []struct {
		kv        []string
		wantLimit int
		wantApp   string
		wantErr   string
	}{
		{nil, 50, "", ""},
		{[]string{"CONVERSATIONS_PAGE_LIMIT", "100"}, 100, "", ""},
		{[]string{"CONVERSATIONS_PAGE_LIMIT", "0"}, 0, "", "CONVERSATIONS_PAGE_LIMIT"},
		{[]string{"CONVERSATIONS_PAGE_LIMIT", "1001"}, 0, "", "CONVERSATIONS_PAGE_LIMIT"},
		{[]string{"CONVERSATIONS_PAGE_LIMIT", "fifty"}, 0, "", "CONVERSATIONS_PAGE_LIMIT"},
		{[]string{"DIXA_APP_URL", "https://acme.dixa.com/"}, 50, "https://acme.dixa.com", ""},
		{[]string{"DIXA_APP_URL", "http://acme.dixa.com"}, 0, "", "DIXA_APP_URL"},
		{[]string{"DIXA_APP_URL", "javascript:alert(1)"}, 0, "", "DIXA_APP_URL"},
		{[]string{"DIXA_APP_URL", "acme.dixa.com"}, 0, "", "DIXA_APP_URL"},
		{[]string{"DIXA_APP_URL", "https://u:pw@acme.dixa.com"}, 0, "", "DIXA_APP_URL"},
		{[]string{"DIXA_APP_URL", "https://acme.dixa.com/?next=x"}, 0, "", "DIXA_APP_URL"},
	} {
		env := realUpstream(tc.kv...)
		c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if tc.wantErr != "" {
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: got %v, want a usage error naming %s", tc.kv, err, tc.wantErr)
			}
			if strings.Contains(fmt.Sprint(err), "pw@") {
				t.Errorf("%q: the error echoes a password: %v", tc.kv, err)
			}
			continue
		}
		if err != nil || c.ConversationsPageLimit != tc.wantLimit || c.DixaAppURL != tc.wantApp {
			t.Errorf("%q: got limit %d, app URL %q, err %v; want %d, %q", tc.kv, c.ConversationsPageLimit, c.DixaAppURL, err, tc.wantLimit, tc.wantApp)
		}
	}
}
