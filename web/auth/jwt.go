package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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

// Verify checks raw and returns its identity claims.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if len(raw) > 16<<10 {
		return Claims{}, errors.New("assertion too large")
	}
	tok, err := v.v.Verify(ctx, raw)
	if err != nil {
		return Claims{}, err
	}
	return claimsFromToken(tok, v.groupsClaim)
}

// claimsFromToken reads email, name and groups from a verified token. The
// identity is the email when the token has one, else the subject. The
// authentication time is auth_time when present (OIDC Core §2), else the
// token's iat: a proxy that mints a fresh assertion per request makes iat
// always recent, so only auth_time reflects a real sign-in there.
func claimsFromToken(tok *oidc.IDToken, groupsClaim string) (Claims, error) {
	var all map[string]any
	if err := tok.Claims(&all); err != nil {
		return Claims{}, fmt.Errorf("claims: %w", err)
	}
	str := func(k string) string { s, _ := all[k].(string); return s }
	c := Claims{Issuer: tok.Issuer, Subject: tok.Subject}
	c.ID = CleanText(str("email"), MaxIDBytes)
	if c.ID == "" {
		c.ID = CleanText(tok.Subject, MaxIDBytes)
	}
	if c.ID == "" {
		return Claims{}, errors.New("token names nobody (no email, no subject)")
	}
	c.Name = CleanText(str("name"), MaxNameBytes)
	if c.Name == "" {
		c.Name = CleanText(str("preferred_username"), MaxNameBytes)
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	c.Groups = GroupsClaim(all[groupsClaim])
	c.AuthTime = tok.IssuedAt
	if at, ok := all["auth_time"].(float64); ok && at > 0 {
		c.AuthTime = time.Unix(int64(at), 0)
	}
	return c, nil
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
