package auth

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"github.com/example/dixa-console/web/role"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"
)

// Session lifetimes.
const (
	DefaultIdle     = 30 * time.Minute
	DefaultAbsolute = 12 * time.Hour
	pendingLifetime = 10 * time.Minute
)

// SessionConfig configures Sessions.
type SessionConfig struct {
	// Keys: the first seals new cookies, all open them (rotation). Empty:
	// a random key per start (dev), so every restart signs everyone out.
	Keys [][]byte
	// SameSite is lax, strict or none; none also sets Secure and Partitioned.
	SameSite string
	// BasePath scopes the cookie when it cannot be a __Host- cookie.
	BasePath       string
	Idle, Absolute time.Duration
}

// Record is the server-side half of a session. The cookie holds only its
// random id, sealed; groups, names and tokens never leave the server.
type Record struct {
	ID     string
	Claims Claims
	// DevRole is the role picked on the dev sign-in page ("" otherwise:
	// the role comes from the groups on every request).
	DevRole role.Role
	// Via is how the person signed in: "dev" or "oidc".
	Via                         string
	Created, LastSeen, AuthTime time.Time
	// Token is the provider's token (oidc), for refreshing the groups.
	Token *oauth2.Token
	// GroupsAt is when the groups were last read from the provider.
	GroupsAt time.Time
}

// Sessions is the in-memory session store with revocation: a cookie whose
// id is not here (signed out, expired, or from before a restart) counts for
// nothing.
type Sessions struct {
	cfg    SessionConfig
	codecs []securecookie.Codec

	mu        sync.Mutex
	byID      map[string]*Record
	lastSweep time.Time
}

// NewSessions returns an empty store.
func NewSessions(c SessionConfig) *Sessions {
	if c.Idle <= 0 {
		c.Idle = DefaultIdle
	}
	if c.Absolute <= 0 {
		c.Absolute = DefaultAbsolute
	}
	keys := c.Keys
	if len(keys) == 0 {
		k := make([]byte, 32)
		rand.Read(k)
		keys = [][]byte{k}
	}
	var pairs [][]byte
	for _, k := range keys {
		hash, block := DeriveKeys(k)
		pairs = append(pairs, hash, block)
	}
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, cd := range codecs {
		if sc, ok := cd.(*securecookie.SecureCookie); ok {
			// The cookie's own timestamp bounds it too, whatever the store says.
			sc.MaxAge(int(c.Absolute / time.Second))
			sc.MaxLength(4096)
		}
	}
	return &Sessions{cfg: c, codecs: codecs, byID: map[string]*Record{}}
}

// DeriveKeys derives the HMAC key (64 bytes) and the AES-256 key (32
// bytes) of a cookie codec from one configured secret with HKDF-SHA256, so
// one secret per rotation step suffices and the two keys are independent.
func DeriveKeys(secret []byte) (hash, block []byte) {
	hash, err := hkdf.Key(sha256.New, secret, nil, "dixa-console session cookie mac", 64)
	if err != nil {
		panic(err) // only for lengths out of range, which these are not
	}
	block, err = hkdf.Key(sha256.New, secret, nil, "dixa-console session cookie aes", 32)
	if err != nil {
		panic(err)
	}
	return hash, block
}

// CookieName is the session cookie's name: __Host- when served over TLS
// (the browser then insists on Secure, Path=/ and no Domain).
func CookieName(tls bool) string {
	if tls {
		return "__Host-console"
	}
	return "console"
}

func pendingName(tls bool) string {
	if tls {
		return "__Host-console-signin"
	}
	return "console-signin"
}

// Options returns the cookie options for a request, every one explicit
// (gorilla's defaults are HttpOnly off, SameSite None and a 30-day life).
func (s *Sessions) Options(tls bool) *sessions.Options {
	o := &sessions.Options{
		Path:     s.cfg.BasePath + "/",
		Domain:   "",
		MaxAge:   int(s.cfg.Absolute / time.Second),
		Secure:   tls,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if tls {
		o.Path = "/" // required by the __Host- prefix
	}
	switch s.cfg.SameSite {
	case "strict":
		o.SameSite = http.SameSiteStrictMode
	case "none":
		// Cross-site embedding: only a Secure, Partitioned (CHIPS) cookie
		// works in a third-party iframe.
		o.SameSite = http.SameSiteNoneMode
		o.Secure = true
		o.Partitioned = true
	}
	return o
}

func (s *Sessions) store(tls bool) *sessions.CookieStore {
	return &sessions.CookieStore{Codecs: s.codecs, Options: s.Options(tls)}
}

// ErrBadCookie means a session cookie was present but did not open
// (tampered, or sealed with a key no longer configured).
var ErrBadCookie = errors.New("session cookie does not verify")

// Load returns the session the request's cookie names. No cookie, an
// unknown, revoked or expired session: nil and no error. A cookie that
// does not open: nil and ErrBadCookie (the caller logs it; the person is
// simply signed out).
func (s *Sessions) Load(r *http.Request, tls bool) (*Record, error) {
	name := CookieName(tls)
	if _, err := r.Cookie(name); err != nil {
		return nil, nil
	}
	sess, err := s.store(tls).New(r, name)
	if err != nil {
		return nil, ErrBadCookie
	}
	sid, _ := sess.Values["sid"].(string)
	if sid == "" {
		return nil, ErrBadCookie
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	rec, ok := s.byID[sid]
	if !ok {
		return nil, nil
	}
	if s.expired(rec, now) {
		delete(s.byID, sid)
		return nil, nil
	}
	rec.LastSeen = now
	cp := *rec
	cp.Claims.Groups = slices.Clone(rec.Claims.Groups)
	return &cp, nil
}

func (s *Sessions) expired(rec *Record, now time.Time) bool {
	return now.Sub(rec.LastSeen) > s.cfg.Idle || now.Sub(rec.Created) > s.cfg.Absolute
}

// sweepLocked drops expired sessions at most once a minute.
func (s *Sessions) sweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for id, rec := range s.byID {
		if s.expired(rec, now) {
			delete(s.byID, id)
		}
	}
}

// Create starts a session for rec with a fresh random id (never one the
// browser presented: no fixation), revokes the session the request came
// with, if any, and sets the cookie. It returns the new id.
func (s *Sessions) Create(w http.ResponseWriter, r *http.Request, tls bool, rec Record) (string, error) {
	s.revokeFromRequest(r, tls)
	now := time.Now()
	rec.ID = RandomID()
	rec.Created, rec.LastSeen = now, now
	if rec.AuthTime.IsZero() {
		rec.AuthTime = now
	}
	if rec.GroupsAt.IsZero() {
		rec.GroupsAt = now
	}
	st := s.store(tls)
	sess := sessions.NewSession(st, CookieName(tls))
	sess.Options = s.Options(tls)
	sess.Values["sid"] = rec.ID
	if err := st.Save(r, w, sess); err != nil {
		return "", err
	}
	s.mu.Lock()
	s.sweepLocked(now)
	s.byID[rec.ID] = &rec
	s.mu.Unlock()
	return rec.ID, nil
}

// Update changes a live session in place (after a token refresh).
func (s *Sessions) Update(id string, f func(*Record)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.byID[id]; ok {
		f(rec)
	}
}

// Revoke ends the session id on the server: its cookie no longer works.
func (s *Sessions) Revoke(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

// Destroy revokes the request's session and tells the browser to drop
// the cookie.
func (s *Sessions) Destroy(w http.ResponseWriter, r *http.Request, tls bool) {
	s.revokeFromRequest(r, tls)
	o := s.Options(tls)
	o.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(CookieName(tls), "", o))
}

func (s *Sessions) revokeFromRequest(r *http.Request, tls bool) {
	if _, err := r.Cookie(CookieName(tls)); err != nil {
		return
	}
	sess, err := s.store(tls).New(r, CookieName(tls))
	if err != nil {
		return
	}
	if sid, _ := sess.Values["sid"].(string); sid != "" {
		s.Revoke(sid)
	}
}

// Len is the number of live sessions (tests, metrics).
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// SavePending keeps an oidc sign-in in progress in its own short-lived
// sealed cookie. It is SameSite=Lax even when sessions are Strict: the
// provider's redirect back is a cross-site navigation.
func (s *Sessions) SavePending(w http.ResponseWriter, r *http.Request, tls bool, p Pending) error {
	o := s.Options(tls)
	o.MaxAge = int(pendingLifetime / time.Second)
	if o.SameSite == http.SameSiteStrictMode {
		o.SameSite = http.SameSiteLaxMode
	}
	st := s.store(tls)
	sess := sessions.NewSession(st, pendingName(tls))
	sess.Options = o
	sess.Values["state"] = p.State
	sess.Values["nonce"] = p.Nonce
	sess.Values["verifier"] = p.Verifier
	sess.Values["next"] = p.Next
	sess.Values["started"] = p.Started.Unix()
	return st.Save(r, w, sess)
}

// TakePending returns the sign-in in progress and deletes its cookie.
func (s *Sessions) TakePending(w http.ResponseWriter, r *http.Request, tls bool) (Pending, bool) {
	name := pendingName(tls)
	if _, err := r.Cookie(name); err != nil {
		return Pending{}, false
	}
	o := s.Options(tls)
	o.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(name, "", o))
	sess, err := s.store(tls).New(r, name)
	if err != nil {
		return Pending{}, false
	}
	str := func(k string) string { v, _ := sess.Values[k].(string); return v }
	started, _ := sess.Values["started"].(int64)
	p := Pending{State: str("state"), Nonce: str("nonce"), Verifier: str("verifier"), Next: str("next"), Started: time.Unix(started, 0)}
	return p, p.State != ""
}
