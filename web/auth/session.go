package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"github.com/example/dixa-console/web/role"
	"net/http"
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
	// Store keeps the session records and the sign-ins in progress; nil: a
	// new MemoryStore.
	Store Store
	// Now is the clock of the lifetimes; nil: time.Now.
	Now func() time.Time
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
	Via string
	// Created is when the session began; LastSeen when a request last
	// used it (polls excepted), for the idle timeout.
	Created, LastSeen time.Time
	// AuthTime is when the person last authenticated: the provider's
	// verified auth_time (oidc), the sign-in itself (dev), or
	// AuthTimeUnknown when the provider did not say.
	AuthTime time.Time
	// Token is the provider's token (oidc), for refreshing the groups.
	Token *oauth2.Token
	// GroupsAt is when the groups were last read from the provider.
	GroupsAt time.Time
	// RetryAt: after a refresh failed for another reason than a grant the
	// provider no longer honours, the next attempt waits until then.
	RetryAt time.Time
}

// AuthTimeUnknown is the authentication time of a session whose provider
// did not say when the person authenticated: long ago, so that anything
// needing a recent sign-in asks for one first.
var AuthTimeUnknown = time.Unix(0, 0).UTC()

// Sessions keeps sign-in sessions: the sealed cookie that names one, the
// record in the Store, and the lifetimes (idle, absolute, and 10 minutes
// for a sign-in in progress). A cookie whose record is gone (signed out,
// expired, or lost with the store) counts for nothing.
type Sessions struct {
	cfg    SessionConfig
	codecs []securecookie.Codec
	store  Store
	now    func() time.Time

	mu        sync.Mutex
	lastSweep time.Time
}

// NewSessions returns sessions kept in c.Store.
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
	s := &Sessions{cfg: c, codecs: codecs, store: c.Store, now: c.Now}
	if s.store == nil {
		s.store = NewMemoryStore()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
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

func (s *Sessions) cookies(tls bool) *sessions.CookieStore {
	return &sessions.CookieStore{Codecs: s.codecs, Options: s.Options(tls)}
}

// ErrBadCookie means a session cookie was present but did not open
// (tampered, or sealed with a key no longer configured).
var ErrBadCookie = errors.New("session cookie does not verify")

// cookieValue opens the cookie name and returns its value key: "" and no
// error without the cookie, ErrBadCookie when it does not open.
func (s *Sessions) cookieValue(r *http.Request, tls bool, name, key string) (string, error) {
	if _, err := r.Cookie(name); err != nil {
		return "", nil
	}
	sess, err := s.cookies(tls).New(r, name)
	if err != nil {
		return "", ErrBadCookie
	}
	v, _ := sess.Values[key].(string)
	if v == "" {
		return "", ErrBadCookie
	}
	return v, nil
}

// Load returns the session the request's cookie names. No cookie, an
// unknown, revoked or expired session: nil and no error. A cookie that
// does not open: nil and ErrBadCookie (the caller logs it; the person is
// simply signed out). extend moves the idle deadline: false for requests
// the browser makes on its own (polls), which must not keep a forgotten
// tab signed in. The idle deadline is written at most once per touchEvery,
// not on every request: a page and its htmx requests cost one read.
func (s *Sessions) Load(r *http.Request, tls, extend bool) (*Record, error) {
	sid, err := s.cookieValue(r, tls, CookieName(tls), "sid")
	if sid == "" {
		return nil, err
	}
	ctx := r.Context()
	now := s.now()
	if err := s.sweep(ctx, now); err != nil {
		return nil, err
	}
	rec, ok, err := s.store.Get(ctx, sid)
	if err != nil || !ok {
		return nil, err
	}
	if s.expired(&rec, now) {
		return nil, s.store.Delete(ctx, sid)
	}
	if extend && now.Sub(rec.LastSeen) >= s.touchEvery() {
		rec, ok, err = s.store.Update(ctx, sid, func(r *Record) { r.LastSeen = now })
		if err != nil || !ok {
			return nil, err
		}
	}
	return &rec, nil
}

// touchEvery is how stale the stored last use may be: a minute, or a tenth
// of the idle limit when that is shorter.
func (s *Sessions) touchEvery() time.Duration {
	return min(time.Minute, s.cfg.Idle/10)
}

func (s *Sessions) expired(rec *Record, now time.Time) bool {
	return now.Sub(rec.LastSeen) > s.cfg.Idle || now.Sub(rec.Created) > s.cfg.Absolute
}

// sweep drops expired sessions and sign-ins at most once a minute.
func (s *Sessions) sweep(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	due := now.Sub(s.lastSweep) >= time.Minute
	if due {
		s.lastSweep = now
	}
	s.mu.Unlock()
	if !due {
		return nil
	}
	return s.store.Sweep(ctx, now.Add(-s.cfg.Idle), now.Add(-s.cfg.Absolute), now)
}

// Create starts a session for rec with a fresh random id (never one the
// browser presented: no fixation), revokes the session the request came
// with, if any, and sets the cookie. It returns the new id.
func (s *Sessions) Create(w http.ResponseWriter, r *http.Request, tls bool, rec Record) (string, error) {
	ctx := r.Context()
	if err := s.revokeFromRequest(r, tls); err != nil {
		return "", err
	}
	now := s.now()
	rec.ID = RandomID()
	rec.Created, rec.LastSeen = now, now
	if rec.AuthTime.IsZero() {
		rec.AuthTime = now
	}
	if rec.GroupsAt.IsZero() {
		rec.GroupsAt = now
	}
	if err := s.sweep(ctx, now); err != nil {
		return "", err
	}
	if err := s.store.Put(ctx, rec); err != nil {
		return "", err
	}
	st := s.cookies(tls)
	sess := sessions.NewSession(st, CookieName(tls))
	sess.Options = s.Options(tls)
	sess.Values["sid"] = rec.ID
	if err := st.Save(r, w, sess); err != nil {
		s.store.Delete(ctx, rec.ID)
		return "", err
	}
	return rec.ID, nil
}

// Get returns the live session id as it is now in the store.
func (s *Sessions) Get(ctx context.Context, id string) (*Record, error) {
	rec, ok, err := s.store.Get(ctx, id)
	if err != nil || !ok || s.expired(&rec, s.now()) {
		return nil, err
	}
	return &rec, nil
}

// Update changes a live session in one step (after a token refresh) and
// returns it as changed; nil when it is gone.
func (s *Sessions) Update(ctx context.Context, id string, f func(*Record)) (*Record, error) {
	rec, ok, err := s.store.Update(ctx, id, f)
	if err != nil || !ok {
		return nil, err
	}
	return &rec, nil
}

// Revoke ends the session id on the server: its cookie no longer works.
func (s *Sessions) Revoke(ctx context.Context, id string) error {
	return s.store.Delete(ctx, id)
}

// Destroy revokes the request's session and tells the browser to drop
// the cookie.
func (s *Sessions) Destroy(w http.ResponseWriter, r *http.Request, tls bool) error {
	err := s.revokeFromRequest(r, tls)
	o := s.Options(tls)
	o.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(CookieName(tls), "", o))
	return err
}

func (s *Sessions) revokeFromRequest(r *http.Request, tls bool) error {
	if sid, _ := s.cookieValue(r, tls, CookieName(tls), "sid"); sid != "" {
		return s.Revoke(r.Context(), sid)
	}
	return nil
}

// Len is the number of live sessions (tests, metrics).
func (s *Sessions) Len() int {
	n, _ := s.store.Len(context.Background())
	return n
}

// SavePending starts keeping an oidc sign-in in progress: p goes into
// the store for 10 minutes under a fresh random id, and the browser gets
// only that id, sealed, in a cookie of its own. The cookie is
// SameSite=Lax even when sessions are Strict: the provider's redirect
// back is a cross-site navigation.
func (s *Sessions) SavePending(w http.ResponseWriter, r *http.Request, tls bool, p Pending) error {
	now := s.now()
	p.Started = now
	id := RandomID()
	if err := s.store.PutPending(r.Context(), id, p, now.Add(pendingLifetime)); err != nil {
		return err
	}
	o := s.Options(tls)
	o.MaxAge = int(pendingLifetime / time.Second)
	if o.SameSite == http.SameSiteStrictMode {
		o.SameSite = http.SameSiteLaxMode
	}
	st := s.cookies(tls)
	sess := sessions.NewSession(st, pendingName(tls))
	sess.Options = o
	sess.Values["pid"] = id
	return st.Save(r, w, sess)
}

// TakePending returns the sign-in in progress that the request's cookie
// names and forgets it on the server in the same step, and expires the
// cookie. A second callback with the same cookie, one after the 10
// minutes, or one whose cookie does not open finds nothing (false).
func (s *Sessions) TakePending(w http.ResponseWriter, r *http.Request, tls bool) (Pending, bool, error) {
	name := pendingName(tls)
	if _, err := r.Cookie(name); err != nil {
		return Pending{}, false, nil
	}
	o := s.Options(tls)
	o.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(name, "", o))
	pid, _ := s.cookieValue(r, tls, name, "pid")
	if pid == "" {
		return Pending{}, false, nil
	}
	return s.store.TakePending(r.Context(), pid, s.now())
}
