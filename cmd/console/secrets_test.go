package main

import (
	"bytes"
	"strings"
	"testing"
)

// secretEnv sets every secret setting to a recognisable value.
var secretEnv = map[string]string{
	"DIXA_API_URL":       "https://dev.dixa.io",
	"DIXA_API_KEY":       "canary-dixa-key-5f4e3d2c1b",
	"AUTH_MODE":          "oidc",
	"AUTH_PROXY_SECRET":  "canary-proxy-secret-9a8b7c",
	"OIDC_CLIENT_SECRET": "canary-oidc-secret-1d2e3f",
	"SESSION_KEYS":       strings.Repeat("c0ffee", 11),
	"DATABASE_URL":       "postgres://console:canary-db-password-77@127.0.0.1:1/console?sslmode=disable",
	"LISTEN_ADDR":        "127.0.0.1:8080",
}

var secretValues = []string{"canary-dixa-key", "canary-proxy-secret", "canary-oidc-secret", "c0ffeec0ffee", "canary-db-password"}

// Help, a bad flag and a refused configuration show a secret setting as
// "(set)" and never its value: environment values must not leak through
// the flags' defaults.
func TestSecretsNeverPrinted(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		set  []string // settings whose help must say (set)
	}{
		{"help", []string{"-h"}, []string{"-dixa-api-key", "-auth-proxy-secret", "-oidc-client-secret", "-session-keys", "-database-url"}},
		{"unknown flag", []string{"-no-such-flag"}, []string{"-dixa-api-key", "-session-keys"}},
		{"refused configuration", []string{"-oidc-issuer", ""}, nil},
		{"verify help", []string{"verify", "-h"}, []string{"-database-url"}},
		{"verify unknown flag", []string{"verify", "-no-such-flag"}, []string{"-database-url"}},
		{"healthcheck unknown flag", []string{"healthcheck", "-no-such-flag"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tc.args, func(k string) string { return secretEnv[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			printed := stdout.String() + stderr.String() + err.Error()
			for _, s := range secretValues {
				if strings.Contains(printed, s) {
					t.Errorf("output shows the secret %q:\n%s", s, printed)
				}
			}
			for _, name := range tc.set {
				i := strings.Index(printed, "  "+name+" ")
				if i < 0 {
					t.Errorf("help does not list %s:\n%s", name, printed)
					continue
				}
				entry, _, _ := strings.Cut(printed[i+2:], "\n  -")
				if !strings.Contains(entry, "(set)") {
					t.Errorf("help of %s does not say (set): %q", name, entry)
				}
			}
		})
	}
}

// A database that cannot be reached is reported without the password of
// its URL.
func TestDatabaseErrorHidesThePassword(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"verify", "-data-dir", t.TempDir()}, func(k string) string { return secretEnv[k] }, &stdout, &stderr)
	if err == nil {
		t.Fatal("verify of an unreachable database: got no error")
	}
	if printed := stdout.String() + stderr.String() + err.Error(); strings.Contains(printed, "canary-db-password") {
		t.Errorf("output shows the database password: %s", printed)
	}
}
