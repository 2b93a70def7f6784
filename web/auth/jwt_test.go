package auth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/webtest"
)

// An assertion missing, with a bad signature, the wrong aud or iss, or
// expired is refused.
func TestVerifierChecksEverything(t *testing.T) {
	iss := webtest.NewIssuer(t)
	v := auth.NewVerifier(auth.VerifierConfig{JWKSURL: iss.JWKSURL, Issuer: iss.URL, Audience: "console", GroupsClaim: "groups"})
	ctx := t.Context()

	good := iss.Assertion(t, "console", "ada@example.com", []string{"support-leads", " support-agents "}, map[string]any{"name": "Ada L."})
	c, err := v.Verify(ctx, good)
	if err != nil {
		t.Fatalf("good assertion: %v", err)
	}
	if c.ID != iss.URL+"|sub-ada@example.com" || c.Email != "ada@example.com" || c.Name != "Ada L." || !slices.Equal(c.Groups, []string{"support-leads", "support-agents"}) || c.Issuer != iss.URL {
		t.Errorf("claims %+v", c)
	}

	bad := map[string]string{
		"wrong audience":  iss.Assertion(t, "other-app", "ada@example.com", nil, nil),
		"wrong issuer":    iss.Assertion(t, "console", "ada@example.com", nil, map[string]any{"iss": "https://evil.example"}),
		"expired":         iss.Assertion(t, "console", "ada@example.com", nil, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}),
		"no expiry":       iss.Assertion(t, "console", "ada@example.com", nil, map[string]any{"exp": nil}),
		"foreign key":     iss.ForeignAssertion(t, "console", "ada@example.com", nil),
		"not a token":     "hello",
		"alg none":        "eyJhbGciOiJub25lIn0." + strings.Split(good, ".")[1] + ".",
		"payload swapped": strings.Split(good, ".")[0] + "." + strings.Split(iss.Assertion(t, "console", "eve@example.com", []string{"support-leads"}, nil), ".")[1] + "." + strings.Split(good, ".")[2],
		"too big":         strings.Repeat("a", 20000),
	}
	for name, tok := range bad {
		if c, err := v.Verify(ctx, tok); err == nil {
			t.Errorf("%s: accepted as %+v", name, c)
		}
	}
}

func TestGroupsClaimShapes(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want []string
	}{
		{nil, nil},
		{"a, b", []string{"a", "b"}},
		{[]any{"a", 3, "b", nil, "a"}, []string{"a", "b"}},
		{map[string]any{"a": 1}, nil},
		{42.0, nil},
	} {
		if got := auth.GroupsClaim(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("GroupsClaim(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
