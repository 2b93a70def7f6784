package auth

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/securecookie"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// login creates a session and returns the cookie the browser got.
func login(t *testing.T, s *Sessions, tls bool, rec Record) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	if _, err := s.Create(w, r, tls, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("%d cookies set, want 1", len(cs))
	}
	return cs[0]
}

func load(t *testing.T, s *Sessions, tls bool, c *http.Cookie) (*Record, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/endusers", nil)
	if c != nil {
		r.AddCookie(c)
	}
	return s.Load(r, tls, true)
}

// Every cookie attribute is explicit; __Host- over TLS.
func TestSessionCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		sameSite string
		tls      bool
		name     string
		path     string
		secure   bool
		want     http.SameSite
		part     bool
	}{
		{"lax", true, "__Host-console", "/", true, http.SameSiteLaxMode, false},
		{"strict", true, "__Host-console", "/", true, http.SameSiteStrictMode, false},
		{"none", true, "__Host-console", "/", true, http.SameSiteNoneMode, true},
		{"lax", false, "console", "/support/console/", false, http.SameSiteLaxMode, false},
		{"none", false, "console", "/support/console/", true, http.SameSiteNoneMode, true},
	} {
		t.Run(fmt.Sprint(tc.sameSite, tc.tls), func(t *testing.T) {
			s := NewSessions(SessionConfig{Keys: [][]byte{key(1)}, SameSite: tc.sameSite, BasePath: "/support/console", Absolute: 8 * time.Hour})
			w := httptest.NewRecorder()
			if _, err := s.Create(w, httptest.NewRequest("POST", "/", nil), tc.tls, Record{Claims: Claims{ID: "a@example.com"}}); err != nil {
				t.Fatal(err)
			}
			raw := w.Header().Get("Set-Cookie")
			c := w.Result().Cookies()[0]
			if c.Name != tc.name || c.Path != tc.path || c.Domain != "" || !c.HttpOnly || c.Secure != tc.secure || c.SameSite != tc.want || c.Partitioned != tc.part {
				t.Errorf("cookie %s", raw)
			}
			if c.MaxAge <= 0 || c.MaxAge > int((8*time.Hour).Seconds()) {
				t.Errorf("Max-Age %d, want ≤ the absolute lifetime", c.MaxAge)
			}
			if tc.part && !strings.Contains(raw, "Partitioned") {
				t.Errorf("no Partitioned in %s", raw)
			}
		})
	}
}

// A new id at every sign-in, the old one revoked (no fixation).
func TestSessionFixation(t *testing.T) {
	s := NewSessions(SessionConfig{Keys: [][]byte{key(1)}, SameSite: "lax"})
	before := login(t, s, false, Record{Claims: Claims{ID: "eve@example.com"}})
	recBefore, _ := load(t, s, false, before)

	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.AddCookie(before) // the browser presents a session planted before sign-in
	id, err := s.Create(w, r, false, Record{Claims: Claims{ID: "ada@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if id == recBefore.ID {
		t.Fatal("the session id did not change at sign-in")
	}
	if rec, _ := load(t, s, false, before); rec != nil {
		t.Error("the pre-sign-in session still works")
	}
	if rec, _ := load(t, s, false, w.Result().Cookies()[0]); rec == nil || rec.Claims.ID != "ada@example.com" {
		t.Errorf("new session: %+v", rec)
	}
}

// Revocation, idle and absolute expiry, on a fake clock.
func TestSessionLifetimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewSessions(SessionConfig{Keys: [][]byte{key(1)}, SameSite: "lax", Idle: 30 * time.Minute, Absolute: 2 * time.Hour})

		// Sign-out revokes on the server.
		c := login(t, s, false, Record{Claims: Claims{ID: "a"}})
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/logout", nil)
		r.AddCookie(c)
		s.Destroy(w, r, false)
		if rec, _ := load(t, s, false, c); rec != nil {
			t.Error("a replayed cookie works after sign-out")
		}
		if got := w.Result().Cookies(); len(got) != 1 || got[0].MaxAge >= 0 {
			t.Errorf("sign-out did not expire the cookie: %v", got)
		}

		// Idle.
		c = login(t, s, false, Record{Claims: Claims{ID: "b"}})
		time.Sleep(29 * time.Minute)
		if rec, _ := load(t, s, false, c); rec == nil {
			t.Fatal("session ended before the idle timeout")
		}
		time.Sleep(31 * time.Minute)
		if rec, _ := load(t, s, false, c); rec != nil {
			t.Error("session survived more than the idle timeout")
		}

		// Absolute: kept busy, it still ends.
		c = login(t, s, false, Record{Claims: Claims{ID: "c"}})
		for range 5 {
			time.Sleep(20 * time.Minute)
			if rec, _ := load(t, s, false, c); rec == nil {
				t.Fatal("busy session ended early")
			}
		}
		time.Sleep(25 * time.Minute) // 2h5m in all
		if rec, _ := load(t, s, false, c); rec != nil {
			t.Error("session outlived the absolute lifetime")
		}
		time.Sleep(2 * time.Minute) // a sweep drops the dead records
		load(t, s, false, nil)
		login(t, s, false, Record{Claims: Claims{ID: "d"}})
		if n := s.Len(); n != 1 {
			t.Errorf("%d sessions kept, want 1", n)
		}
	})
}

// Key rotation; tampering and removed keys mean signed out.
func TestSessionKeyRotation(t *testing.T) {
	shared := NewMemoryStore() // the records outlive a restart with new keys
	old := NewSessions(SessionConfig{Keys: [][]byte{key(1)}, SameSite: "lax", Store: shared})
	c := login(t, old, false, Record{Claims: Claims{ID: "a"}})

	// A store with (new, old) keys and the same records: the old cookie opens.
	rotated := NewSessions(SessionConfig{Keys: [][]byte{key(2), key(1)}, SameSite: "lax", Store: shared})
	if rec, err := load(t, rotated, false, c); err != nil || rec == nil {
		t.Fatalf("old-key cookie after rotation: %v, %v", rec, err)
	}
	// New cookies are sealed with the new key only.
	c2 := login(t, rotated, false, Record{Claims: Claims{ID: "b"}})
	if _, err := load(t, old, false, c2); err == nil {
		t.Error("a new-key cookie opened with the old key alone")
	}

	// The old key removed.
	removed := NewSessions(SessionConfig{Keys: [][]byte{key(2)}, SameSite: "lax", Store: shared})
	if rec, err := load(t, removed, false, c); rec != nil || err != ErrBadCookie {
		t.Errorf("removed key: %v, %v; want nil, ErrBadCookie", rec, err)
	}

	// Every flipped byte of the cookie value.
	for i := range len(c.Value) {
		b := []byte(c.Value)
		b[i] ^= 0x01
		bad := &http.Cookie{Name: c.Name, Value: string(b)}
		if rec, _ := load(t, old, false, bad); rec != nil {
			t.Fatalf("tampered cookie (byte %d) accepted", i)
		}
	}
	for _, v := range []string{"", "x", strings.Repeat("A", 5000), "a|b|c", "%%%"} {
		if rec, _ := load(t, old, false, &http.Cookie{Name: c.Name, Value: v}); rec != nil {
			t.Fatalf("garbage cookie %q accepted", v)
		}
	}
}

// The cookie stays small and holds no personal data: only
// the sealed session id, whatever the groups.
func TestSessionCookieSizeAndContent(t *testing.T) {
	keys := [][]byte{key(7)}
	s := NewSessions(SessionConfig{Keys: keys, SameSite: "none"})
	groups := make([]string, MaxGroups)
	for i := range groups {
		groups[i] = fmt.Sprintf("%0*d", MaxGroupBytes, i)
	}
	rec := Record{Claims: Claims{ID: strings.Repeat("a", MaxIDBytes-12) + "@example.com", Name: strings.Repeat("N", MaxNameBytes), Groups: groups}}
	c := login(t, s, true, rec)
	w := httptest.NewRecorder()
	http.SetCookie(w, c)
	if n := len(w.Header().Get("Set-Cookie")); n >= 4096 {
		t.Errorf("cookie is %d bytes", n)
	}
	// Open it as the server does and look inside.
	hash, block := DeriveKeys(keys[0])
	var vals map[any]any
	if err := securecookie.New(hash, block).Decode(c.Name, c.Value, &vals); err != nil {
		t.Fatal(err)
	}
	if len(vals) != 1 {
		t.Errorf("cookie holds %v, want the session id only", vals)
	}
	var buf bytes.Buffer
	gob.NewEncoder(&buf).Encode(vals)
	if bytes.Contains(buf.Bytes(), []byte("example.com")) || bytes.Contains(buf.Bytes(), []byte("NNNN")) || bytes.Contains(buf.Bytes(), []byte(groups[0])) {
		t.Error("cookie holds personal data")
	}
}

func TestDeriveKeysIndependent(t *testing.T) {
	h1, b1 := DeriveKeys(key(1))
	h2, _ := DeriveKeys(key(2))
	if len(h1) != 64 || len(b1) != 32 || bytes.Equal(h1[:32], b1) || bytes.Equal(h1, h2) {
		t.Error("keys are not independent")
	}
}

// takePending does a callback request with cookie c.
func takePending(t *testing.T, s *Sessions, c *http.Cookie) (Pending, bool, *httptest.ResponseRecorder) {
	t.Helper()
	r := httptest.NewRequest("GET", "/auth/callback", nil)
	r.AddCookie(c)
	w := httptest.NewRecorder()
	p, ok, err := s.TakePending(w, r, true)
	if err != nil {
		t.Fatal(err)
	}
	return p, ok, w
}

// A sign-in in progress is kept on the server: the cookie holds only its
// sealed id, taking it forgets it (a replayed cookie finds nothing), and
// it ends after 10 minutes whatever the cookie says.
func TestPendingOnServerSingleUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := NewMemoryStore()
		s := NewSessions(SessionConfig{Keys: [][]byte{key(1)}, SameSite: "strict", Store: store})
		save := func(p Pending) *http.Cookie {
			w := httptest.NewRecorder()
			if err := s.SavePending(w, httptest.NewRequest("GET", "/login", nil), true, p); err != nil {
				t.Fatal(err)
			}
			return w.Result().Cookies()[0]
		}
		p := Pending{State: "state-canary", Nonce: "nonce-canary", Verifier: "verifier-canary", Next: "/endusers?q=1", StepUp: true}
		c := save(p)
		if c.SameSite != http.SameSiteLaxMode || !c.HttpOnly || !c.Secure || c.MaxAge > 600 {
			t.Errorf("pending cookie %+v", c)
		}
		hash, block := DeriveKeys(key(1))
		var vals map[any]any
		if err := securecookie.New(hash, block).Decode(c.Name, c.Value, &vals); err != nil {
			t.Fatal(err)
		}
		if len(vals) != 1 || strings.Contains(fmt.Sprint(vals), "canary") {
			t.Errorf("the pending cookie holds %v, want only an id", vals)
		}

		got, ok, w := takePending(t, s, c)
		p.Started = time.Now()
		if !ok || got != p {
			t.Errorf("got %+v, want %+v", got, p)
		}
		if d := w.Result().Cookies(); len(d) != 1 || d[0].MaxAge >= 0 {
			t.Error("the pending cookie was not deleted")
		}
		for range 3 {
			if _, ok, _ := takePending(t, s, c); ok {
				t.Fatal("a replayed pending cookie found the sign-in again")
			}
		}

		c = save(p)
		time.Sleep(10*time.Minute + time.Second)
		if _, ok, _ := takePending(t, s, c); ok {
			t.Error("a sign-in older than 10 minutes was found")
		}
		if n := store.PendingLen(); n != 0 {
			t.Errorf("%d sign-ins kept, want 0", n)
		}
	})
}

// Sign-ins in progress are bounded: when the store is full of live ones,
// a new one is refused; expired ones make room.
func TestPendingBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &MemoryStore{MaxPending: 3, records: map[string]*Record{}, pending: map[string]pendingEntry{}}
		s := NewSessions(SessionConfig{Keys: [][]byte{key(1)}, Store: store})
		save := func() error {
			return s.SavePending(httptest.NewRecorder(), httptest.NewRequest("GET", "/login", nil), false, Pending{State: "s"})
		}
		for range 3 {
			if err := save(); err != nil {
				t.Fatal(err)
			}
		}
		if err := save(); !errors.Is(err, ErrStoreFull) {
			t.Errorf("fourth sign-in: %v, want ErrStoreFull", err)
		}
		time.Sleep(11 * time.Minute)
		if err := save(); err != nil || store.PendingLen() != 1 {
			t.Errorf("after expiry: %v, %d kept", err, store.PendingLen())
		}
	})
}

func TestPersonLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewPersonLimiter(5, 20)
		for i := range 20 {
			if ok, _ := l.Allow("ada"); !ok {
				t.Fatalf("request %d refused inside the burst", i)
			}
		}
		ok, wait := l.Allow("ada")
		if ok || wait <= 0 || wait > time.Second {
			t.Errorf("21st: %v, %v", ok, wait)
		}
		if ok, _ := l.Allow("bea"); !ok {
			t.Error("another person was limited")
		}
		time.Sleep(time.Second)
		if ok, _ := l.Allow("ada"); !ok {
			t.Error("budget not refilled")
		}
		time.Sleep(11 * time.Minute)
		l.Allow("cid")
		if n := l.Len(); n != 1 {
			t.Errorf("%d people tracked after idling, want 1", n)
		}
	})
}

// countingStore counts the writes of the last use, and fails every call
// while failing is set.
type countingStore struct {
	*MemoryStore
	updates int
	failing bool
}

var errDown = errors.New("database down")

func (c *countingStore) Get(ctx context.Context, id string) (Record, bool, error) {
	if c.failing {
		return Record{}, false, errDown
	}
	return c.MemoryStore.Get(ctx, id)
}

func (c *countingStore) Update(ctx context.Context, id string, f func(*Record)) (Record, bool, error) {
	c.updates++
	return c.MemoryStore.Update(ctx, id, f)
}

// A person's requests write the last use at most once a minute, and the
// idle deadline still follows them; a store that fails is an error, not
// a signed-out person.
func TestSessionTouchedOncePerMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &countingStore{MemoryStore: NewMemoryStore()}
		s := NewSessions(SessionConfig{Keys: [][]byte{key(1)}, SameSite: "lax", Idle: 30 * time.Minute, Absolute: 8 * time.Hour, Store: st})
		c := login(t, s, false, Record{Claims: Claims{ID: "a"}})
		for range 100 { // a page and its htmx requests, 100 ms apart
			time.Sleep(100 * time.Millisecond)
			if rec, err := load(t, s, false, c); rec == nil || err != nil {
				t.Fatalf("signed out: %v", err)
			}
		}
		if st.updates > 1 {
			t.Errorf("10 s of requests wrote the last use %d times, want at most 1", st.updates)
		}
		for range 3 { // used every 29 minutes: never idle for 30
			time.Sleep(29 * time.Minute)
			if rec, _ := load(t, s, false, c); rec == nil {
				t.Fatal("session ended although used within the idle time")
			}
		}
		st.failing = true
		if rec, err := load(t, s, false, c); rec != nil || !errors.Is(err, errDown) {
			t.Errorf("store down: record %v, error %v; want the store's error", rec, err)
		}
	})
}
