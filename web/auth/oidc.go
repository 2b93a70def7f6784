package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig configures the authorization code flow.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret, RedirectURL string
	GroupsClaim                                 string
	// Client talks to the provider; nil: a client with a 10 s timeout.
	Client *http.Client
}

// OIDC signs people in with the authorization code flow, PKCE (S256), a
// state bound to the browser and a nonce bound to the ID token. The
// provider's discovery document is fetched on first use (and retried on
// the next sign-in if the provider was down), so the console starts even
// while the provider is unreachable.
type OIDC struct {
	cfg OIDCConfig
	hc  *http.Client

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewOIDC returns the flow; nothing is fetched yet.
func NewOIDC(c OIDCConfig) *OIDC {
	hc := c.Client
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = "groups"
	}
	return &OIDC{cfg: c, hc: hc}
}

func (o *OIDC) setup(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.hc), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("oidc discovery: %w", err)
	}
	scopes := []string{oidc.ScopeOpenID, "email", "profile"}
	if o.cfg.GroupsClaim == "groups" {
		// Providers that put groups in the token only on request (Okta, Dex,
		// Keycloak with a mapper) know this scope by this name.
		scopes = append(scopes, "groups")
	}
	o.oauth = &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		RedirectURL:  o.cfg.RedirectURL,
		Endpoint:     p.Endpoint(),
		Scopes:       scopes,
	}
	// The key set outlives this request: give it a context that is never
	// done, with the client's timeout per fetch.
	o.verifier = p.VerifierContext(oidc.ClientContext(context.Background(), o.hc), &oidc.Config{ClientID: o.cfg.ClientID})
	return o.oauth, o.verifier, nil
}

// Pending is what the browser must bring back to the callback. It lives
// in a short-lived, sealed cookie.
type Pending struct {
	State, Nonce, Verifier, Next string
	Started                      time.Time
}

// Begin starts a sign-in: it returns the provider URL to send the browser
// to and what to remember until the callback.
func (o *OIDC) Begin(ctx context.Context, next string) (string, Pending, error) {
	oc, _, err := o.setup(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	p := Pending{State: RandomID(), Nonce: RandomID(), Verifier: oauth2.GenerateVerifier(), Next: next, Started: time.Now()}
	u := oc.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier))
	return u, p, nil
}

// Errors of the callback.
var (
	ErrState = errors.New("oidc: state does not match this browser's sign-in")
	ErrNonce = errors.New("oidc: nonce does not match")
)

// Finish completes the sign-in at the callback: the state must match,
// the code is exchanged with the PKCE verifier, and the ID token is
// verified (issuer, audience, expiry, signature) and must carry the nonce.
func (o *OIDC) Finish(ctx context.Context, p Pending, state, code string) (Claims, *oauth2.Token, error) {
	if p.State == "" || !SecretEqual(state, p.State) {
		return Claims{}, nil, ErrState
	}
	if time.Since(p.Started) > 10*time.Minute {
		return Claims{}, nil, errors.New("oidc: sign-in took too long")
	}
	oc, v, err := o.setup(ctx)
	if err != nil {
		return Claims{}, nil, err
	}
	ctx = oidc.ClientContext(ctx, o.hc)
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return Claims{}, nil, fmt.Errorf("oidc: code exchange: %w", err)
	}
	c, err := o.verifyToken(ctx, v, tok)
	if err != nil {
		return Claims{}, nil, err
	}
	if !SecretEqual(c.nonce, p.Nonce) {
		return Claims{}, nil, ErrNonce
	}
	return c.Claims, tok, nil
}

// Refresh renews the tokens with the refresh token and returns the
// claims of the new ID token, so that a group removed at the provider
// takes effect within the role freshness bound.
func (o *OIDC) Refresh(ctx context.Context, old *oauth2.Token) (Claims, *oauth2.Token, error) {
	if old == nil || old.RefreshToken == "" {
		return Claims{}, nil, errors.New("oidc: no refresh token")
	}
	oc, v, err := o.setup(ctx)
	if err != nil {
		return Claims{}, nil, err
	}
	ctx = oidc.ClientContext(ctx, o.hc)
	expired := *old
	expired.Expiry = time.Unix(1, 0) // force the refresh
	tok, err := oc.TokenSource(ctx, &expired).Token()
	if err != nil {
		return Claims{}, nil, fmt.Errorf("oidc: refresh: %w", err)
	}
	c, err := o.verifyToken(ctx, v, tok)
	if err != nil {
		return Claims{}, nil, err
	}
	return c.Claims, tok, nil
}

type tokenClaims struct {
	Claims
	nonce string
}

func (o *OIDC) verifyToken(ctx context.Context, v *oidc.IDTokenVerifier, tok *oauth2.Token) (tokenClaims, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return tokenClaims{}, errors.New("oidc: no id_token in the token response")
	}
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return tokenClaims{}, fmt.Errorf("oidc: id token: %w", err)
	}
	c, err := claimsFromToken(idt, o.cfg.GroupsClaim)
	if err != nil {
		return tokenClaims{}, err
	}
	return tokenClaims{Claims: c, nonce: idt.Nonce}, nil
}

// RandomID is 32 random bytes, URL-safe base64.
func RandomID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
