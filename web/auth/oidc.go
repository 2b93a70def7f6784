package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig configures the authorization code flow.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret, RedirectURL string
	GroupsClaim                                 string
	// StepUpMaxAge is how recent a step-up sign-in's authentication must
	// be: sent as max_age, and checked against the token's auth_time.
	StepUpMaxAge time.Duration
	// Client talks to the provider; nil: a client with a 10 s timeout.
	Client *http.Client
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// maxAuthTimeSkew is how far in the future a token's auth_time may lie
// (the provider's clock running ahead of ours) and still count as now.
const maxAuthTimeSkew = 2 * time.Minute

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
	if c.Now == nil {
		c.Now = time.Now
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
	o.verifier = p.VerifierContext(oidc.ClientContext(context.Background(), o.hc), &oidc.Config{ClientID: o.cfg.ClientID, Now: o.cfg.Now})
	return o.oauth, o.verifier, nil
}

// Pending is a sign-in in progress: what the callback must match. It is
// kept on the server (Sessions.SavePending); the browser holds only its id.
type Pending struct {
	State, Nonce, Verifier, Next string
	Started                      time.Time
	// StepUp: the person signs in again to confirm it is them (before an
	// erasure); the provider is asked for a fresh authentication and the
	// token must show one.
	StepUp bool
}

// Begin starts a sign-in: it returns the provider URL to send the browser
// to and what to remember until the callback. A step-up sign-in asks the
// provider to authenticate the person again (prompt=login) and to say
// when it did within the step-up window (max_age, which obliges the
// provider to put auth_time in the ID token).
func (o *OIDC) Begin(ctx context.Context, next string, stepUp bool) (string, Pending, error) {
	oc, _, err := o.setup(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	p := Pending{State: RandomID(), Nonce: RandomID(), Verifier: oauth2.GenerateVerifier(), Next: next, Started: o.cfg.Now(), StepUp: stepUp}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier)}
	if stepUp {
		opts = append(opts,
			oauth2.SetAuthURLParam("max_age", strconv.Itoa(int(o.stepUpWindow()/time.Second))),
			oauth2.SetAuthURLParam("prompt", "login"))
	}
	return oc.AuthCodeURL(p.State, opts...), p, nil
}

func (o *OIDC) stepUpWindow() time.Duration {
	if o.cfg.StepUpMaxAge > 0 {
		return o.cfg.StepUpMaxAge
	}
	return DefaultStepUpMaxAge
}

// DefaultStepUpMaxAge is the step-up window when none is configured.
const DefaultStepUpMaxAge = 15 * time.Minute

// Errors of the callback.
var (
	ErrState = errors.New("oidc: state does not match this browser's sign-in")
	ErrNonce = errors.New("oidc: nonce does not match")
	// ErrStaleAuth: a step-up sign-in whose token does not show an
	// authentication within the step-up window (auth_time missing, too
	// old, or in the future).
	ErrStaleAuth = errors.New("oidc: the token shows no recent authentication")
	// ErrGrantInvalid: the provider no longer honours the session's
	// refresh token (revoked, expired, or the person disabled).
	ErrGrantInvalid = errors.New("oidc: the provider says the grant is invalid")
)

// Finish completes the sign-in at the callback: the state must match,
// the code is exchanged with the PKCE verifier, and the ID token is
// verified (issuer, audience, expiry, signature) and must carry the nonce.
// The returned claims' AuthTime is the token's auth_time; without one it
// is AuthTimeUnknown, and a step-up sign-in is refused (ErrStaleAuth), as
// it is when auth_time is older than the step-up window.
func (o *OIDC) Finish(ctx context.Context, p Pending, state, code string) (Claims, *oauth2.Token, error) {
	if p.State == "" || !SecretEqual(state, p.State) {
		return Claims{}, nil, ErrState
	}
	if o.cfg.Now().Sub(p.Started) > pendingLifetime {
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
	c.Claims.AuthTime = c.authTime
	if c.authTime.IsZero() {
		c.Claims.AuthTime = AuthTimeUnknown
	}
	if p.StepUp {
		if err := o.checkFresh(c.authTime); err != nil {
			return Claims{}, nil, err
		}
	}
	return c.Claims, tok, nil
}

// checkFresh accepts an auth_time within the step-up window.
func (o *OIDC) checkFresh(at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("%w: no auth_time in the ID token", ErrStaleAuth)
	}
	age := o.cfg.Now().Sub(at)
	if age > o.stepUpWindow() || age < -maxAuthTimeSkew {
		return fmt.Errorf("%w: auth_time %s ago, window %s", ErrStaleAuth, age.Truncate(time.Second), o.stepUpWindow())
	}
	return nil
}

// Refresh renews the tokens with the refresh token and returns the
// claims of the new ID token, so that a group removed at the provider
// takes effect within the role freshness bound. ErrGrantInvalid: the
// provider refused the refresh token itself (invalid_grant); any other
// error may pass (the provider down, a timeout).
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
	if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
		return Claims{}, nil, fmt.Errorf("%w: %v", ErrGrantInvalid, err)
	}
	if err != nil {
		return Claims{}, nil, fmt.Errorf("oidc: refresh: %w", err)
	}
	c, err := o.verifyToken(ctx, v, tok)
	if err != nil {
		return Claims{}, nil, err
	}
	return c.Claims, tok, nil
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
	return readToken(idt, o.cfg.GroupsClaim)
}

// RandomID is 32 random bytes, URL-safe base64.
func RandomID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
