package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Verifier checks a signed identity assertion (Pomerium, Cloudflare
// Access, an ID token forwarded by oauth2-proxy) against a JWKS: the
// signature, the issuer, the audience and the expiry, on every request.
type Verifier struct {
	v           *oidc.IDTokenVerifier
	groupsClaim string
}

// VerifierConfig configures NewVerifier.
type VerifierConfig struct {
	JWKSURL, Issuer, Audience string
	// GroupsClaim names the claim that holds the groups ("groups").
	GroupsClaim string
	// Client fetches the key set; nil: a client with a 10 s timeout.
	Client *http.Client
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
}

// NewVerifier returns a verifier whose keys are fetched from the JWKS URL
// when first needed and again when a token names an unknown key.
func NewVerifier(c VerifierConfig) *Verifier {
	hc := c.Client
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	// The key set keeps this context for its fetches; it is never done, the
	// client's timeout bounds each fetch.
	ctx := oidc.ClientContext(context.Background(), hc)
	ks := oidc.NewRemoteKeySet(ctx, c.JWKSURL)
	gc := c.GroupsClaim
	if gc == "" {
		gc = "groups"
	}
	return &Verifier{
		v: oidc.NewVerifier(c.Issuer, ks, &oidc.Config{
			ClientID:             c.Audience,
			SupportedSigningAlgs: []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.EdDSA},
			Now:                  c.Now,
		}),
		groupsClaim: gc,
	}
}

// Verify checks raw and returns its identity claims. The authentication
// time is the token's auth_time, else its iat: a proxy that mints a fresh
// assertion per request makes iat always recent, so only auth_time
// reflects a real sign-in there.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if len(raw) > 16<<10 {
		return Claims{}, errors.New("assertion too large")
	}
	tok, err := v.v.Verify(ctx, raw)
	if err != nil {
		return Claims{}, err
	}
	c, err := readToken(tok, v.groupsClaim)
	if err != nil {
		return Claims{}, err
	}
	c.Claims.AuthTime = c.authTime
	if c.authTime.IsZero() {
		c.Claims.AuthTime = tok.IssuedAt
	}
	return c.Claims, nil
}

// ErrEmailUnverified: the token says its email address is not verified
// (email_verified false). Such a token names nobody the console trusts.
var ErrEmailUnverified = errors.New("the identity provider has not verified the email address")

// tokenClaims are the claims of a verified token: the identity, and what
// only the caller can judge.
type tokenClaims struct {
	Claims
	nonce string
	// authTime is the token's auth_time; zero when it has none.
	authTime time.Time
}

// readToken reads a verified token: the identity is its issuer and
// subject (CanonicalID), the email (lower-cased) and name are kept for
// display, and the groups come from groupsClaim. A token that says its
// email is unverified is refused (ErrEmailUnverified).
func readToken(tok *oidc.IDToken, groupsClaim string) (tokenClaims, error) {
	var all map[string]any
	if err := tok.Claims(&all); err != nil {
		return tokenClaims{}, fmt.Errorf("claims: %w", err)
	}
	if emailUnverified(all["email_verified"]) {
		return tokenClaims{}, ErrEmailUnverified
	}
	id, err := CanonicalID(tok.Issuer, tok.Subject)
	if err != nil {
		return tokenClaims{}, err
	}
	str := func(k string) string { s, _ := all[k].(string); return s }
	c := Claims{ID: id, Issuer: tok.Issuer, Subject: tok.Subject, Email: CanonicalEmail(str("email"))}
	for _, n := range []string{str("name"), str("preferred_username"), c.Email, tok.Subject} {
		if c.Name = CleanText(n, MaxNameBytes); c.Name != "" {
			break
		}
	}
	c.Groups = GroupsClaim(all[groupsClaim])
	tc := tokenClaims{Claims: c, nonce: tok.Nonce}
	if at, ok := all["auth_time"].(float64); ok && at > 0 {
		tc.authTime = time.Unix(int64(at), 0)
	}
	return tc, nil
}

// emailUnverified reports whether an email_verified claim says no: false,
// or "false" from providers that send it as a string. Without the claim
// the identity rests on issuer and subject alone.
func emailUnverified(v any) bool {
	switch b := v.(type) {
	case bool:
		return !b
	case string:
		return strings.EqualFold(strings.TrimSpace(b), "false")
	}
	return false
}

// GroupsClaim reads a groups claim: a list of strings, or one string of
// comma-separated names (some providers flatten it). Anything else is no
// groups.
func GroupsClaim(v any) []string {
	switch g := v.(type) {
	case string:
		return ParseGroups(g)
	case []any:
		ss := make([]string, 0, min(len(g), MaxGroups))
		for _, e := range g {
			if s, ok := e.(string); ok {
				ss = append(ss, s)
			}
		}
		return CleanGroups(ss)
	case []string:
		return CleanGroups(g)
	}
	return nil
}
