package auth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/webtest"
)

// A verified token's identity is its issuer and subject, however its
// email is written; the email is kept lower-cased for display; a token
// that says its email is unverified names nobody.
func TestAssertionIdentityIsIssuerAndSubject(t *testing.T) {
	iss := webtest.NewIssuer(t)
	v := auth.NewVerifier(auth.VerifierConfig{JWKSURL: iss.JWKSURL, Issuer: iss.URL, Audience: "console"})
	ctx := t.Context()
	as := func(email string, extra map[string]any) (auth.Claims, error) {
		return v.Verify(ctx, iss.Assertion(t, "console", email, []string{"support-leads"}, extra))
	}

	lower, err := as("lead1@corp.example", map[string]any{"sub": "00u-lead1", "email_verified": true})
	if err != nil {
		t.Fatal(err)
	}
	upper, err := as("LEAD1@Corp.Example", map[string]any{"sub": "00u-lead1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := iss.URL + "|00u-lead1"; lower.ID != want || upper.ID != want {
		t.Errorf("ids %q and %q, want both %q", lower.ID, upper.ID, want)
	}
	if upper.Email != "lead1@corp.example" || upper.Name != "lead1@corp.example" {
		t.Errorf("email %q, name %q: want the lower-cased email", upper.Email, upper.Name)
	}
	// Another subject with the same email is another person.
	if other, _ := as("lead1@corp.example", map[string]any{"sub": "00u-someone-else"}); other.ID == lower.ID {
		t.Error("two subjects share an identity through their email")
	}

	for name, extra := range map[string]map[string]any{
		"email_verified false":     {"email_verified": false},
		"email_verified \"false\"": {"email_verified": "false"},
		"no subject":               {"sub": ""},
		"subject too long":         {"sub": strings.Repeat("s", auth.MaxSubjectBytes+1)},
		"subject with a newline":   {"sub": "a\nb"},
	} {
		c, err := as("eve@corp.example", extra)
		if err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
		if strings.HasPrefix(name, "email_verified") && !errors.Is(err, auth.ErrEmailUnverified) {
			t.Errorf("%s: %v, want ErrEmailUnverified", name, err)
		}
	}
}

// Plain proxy headers: the identity is the email, trimmed and
// lower-cased; the name shown keeps what the proxy sent.
func TestHeaderIdentityIsLowerCaseEmail(t *testing.T) {
	for _, raw := range []string{"lead1@corp.example", "LEAD1@corp.example", "  Lead1@Corp.Example "} {
		h := http.Header{"X-Forwarded-Email": {raw}}
		c, err := auth.ClaimsFromHeaders(h, "X-Forwarded-Email", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != "lead1@corp.example" || c.Email != c.ID || c.Name != strings.TrimSpace(raw) {
			t.Errorf("%q: %+v", raw, c)
		}
	}
	long := strings.Repeat("a", auth.MaxIDBytes) + "@corp.example"
	if c, err := auth.ClaimsFromHeaders(http.Header{"X-Forwarded-Email": {long}}, "X-Forwarded-Email", "", ""); err == nil {
		t.Errorf("an over-long identity was cut and accepted: %q", c.ID)
	}
}
