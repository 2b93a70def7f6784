package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Claims is who a sign-in says the person is, before roles are mapped.
type Claims struct {
	// ID is the person's canonical identity (see CanonicalID): "issuer|
	// subject" from a verified token, else the lower-cased email.
	ID     string
	Email  string   // lower-cased, for display ("" when unknown)
	Name   string   // display name
	Groups []string // from the identity provider
	// Issuer and Subject of a verified token (oidc or a signed assertion).
	Issuer, Subject string
	// AuthTime is when the person last authenticated: a verified token's
	// auth_time claim (a signed assertion without one: its iat; an oidc ID
	// token without one: AuthTimeUnknown); zero for plain headers.
	AuthTime time.Time
}

// Reasons a header-mode request is not signed in. They are logged, never
// shown in detail.
var (
	ErrUntrustedPeer = errors.New("identity headers from a peer that is not a trusted proxy")
	ErrProxySecret   = errors.New("missing or wrong proxy secret")
	ErrNoIdentity    = errors.New("no identity header")
	ErrAssertion     = errors.New("identity assertion rejected")
)

// ProxySecretHeader carries the shared secret between proxy and console.
const ProxySecretHeader = "X-Proxy-Secret"

// Header reads the identity an SSO reverse proxy puts in request headers.
// It is re-read on every request; nothing is remembered between requests.
type Header struct {
	UserHeader, NameHeader, GroupsHeader string
	// Secret, when set, must arrive in X-Proxy-Secret.
	Secret string
	// Trusted are the proxies' addresses; headers from anyone else count
	// for nothing.
	Trusted []netip.Prefix
	// Assertion, when set, is the preferred source: a signed token in
	// AssertionHeader whose claims replace the plain headers.
	Assertion       *Verifier
	AssertionHeader string
}

// Identify returns who the proxy says is asking, or an error saying why
// the request counts as anonymous.
func (h *Header) Identify(ctx context.Context, r *http.Request) (Claims, error) {
	if !PeerTrusted(r.RemoteAddr, h.Trusted) {
		return Claims{}, ErrUntrustedPeer
	}
	if h.Secret != "" && !SecretEqual(r.Header.Get(ProxySecretHeader), h.Secret) {
		return Claims{}, ErrProxySecret
	}
	if h.Assertion != nil {
		raw := strings.TrimSpace(r.Header.Get(h.AssertionHeader))
		raw = strings.TrimPrefix(raw, "Bearer ")
		if raw == "" {
			return Claims{}, fmt.Errorf("%w: no %s header", ErrAssertion, h.AssertionHeader)
		}
		c, err := h.Assertion.Verify(ctx, raw)
		if err != nil {
			return Claims{}, fmt.Errorf("%w: %v", ErrAssertion, err)
		}
		return c, nil
	}
	return ClaimsFromHeaders(r.Header, h.UserHeader, h.NameHeader, h.GroupsHeader)
}

// ClaimsFromHeaders parses the plain identity headers. The identity is
// the user header's value trimmed and lower-cased (CanonicalEmail); the
// name header, or else the user header as sent, is the display name. A
// repeated header is refused: a proxy sets it once, and two values mean
// someone appended their own.
func ClaimsFromHeaders(hdr http.Header, user, name, groups string) (Claims, error) {
	us := hdr.Values(user)
	if len(us) != 1 {
		return Claims{}, ErrNoIdentity
	}
	id := CanonicalEmail(us[0])
	if id == "" {
		return Claims{}, ErrNoIdentity
	}
	c := Claims{ID: id, Email: id, Name: CleanText(us[0], MaxNameBytes)}
	if name != "" {
		if ns := hdr.Values(name); len(ns) == 1 {
			if n := CleanText(ns[0], MaxNameBytes); n != "" {
				c.Name = n
			}
		}
	}
	if groups != "" {
		gs := hdr.Values(groups)
		if len(gs) > 1 {
			return Claims{}, fmt.Errorf("%w: repeated %s header", ErrNoIdentity, groups)
		}
		if len(gs) == 1 {
			c.Groups = ParseGroups(gs[0])
		}
	}
	return c, nil
}

// PeerTrusted reports whether the connection's peer (r.RemoteAddr, never a
// forwarded-for header) is inside one of the trusted prefixes.
func PeerTrusted(remoteAddr string, trusted []netip.Prefix) bool {
	a := parseAddr(remoteAddr)
	return a.IsValid() && inPrefixes(a, trusted)
}

// SecretEqual compares secrets in constant time (also in their length:
// both sides are hashed first).
func SecretEqual(got, want string) bool {
	if got == "" || want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
