package webtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer signs identity assertions as a sign-on proxy (Pomerium,
// Cloudflare Access) would, and serves its key set over HTTP.
type Issuer struct {
	// URL is the issuer (iss); JWKSURL serves the public keys.
	URL, JWKSURL string
	key          *rsa.PrivateKey
	signer       jose.Signer
}

// NewIssuer starts an issuer for the test with a fresh RSA key.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "test-key", Algorithm: string(jose.RS256), Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jwks)
	}))
	t.Cleanup(srv.Close)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test-key"))
	if err != nil {
		t.Fatal(err)
	}
	return &Issuer{URL: srv.URL, JWKSURL: srv.URL + "/.well-known/jwks.json", key: key, signer: signer}
}

// Assertion returns a signed token for email with groups, valid for a
// minute, for audience; extra claims override the defaults.
func (i *Issuer) Assertion(t testing.TB, audience, email string, groups []string, extra map[string]any) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss":    i.URL,
		"aud":    audience,
		"sub":    "sub-" + email,
		"email":  email,
		"groups": groups,
		"iat":    now.Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"exp":    now.Add(time.Minute).Unix(),
	}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	s, err := jwt.Signed(i.signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ForeignAssertion is like Assertion but signed by another key that the
// issuer's key set does not hold (a forgery).
func (i *Issuer) ForeignAssertion(t testing.TB, audience, email string, groups []string) string {
	t.Helper()
	other := NewIssuer(t)
	other.URL = i.URL
	return other.Assertion(t, audience, email, groups, nil)
}
