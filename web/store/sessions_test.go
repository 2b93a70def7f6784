package store

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/role"
	"golang.org/x/oauth2"
)

// TestSessionsStore: records survive a second store on the same database
// (a restart or another replica), are keyed by a hash and sealed, update
// in one step, are revoked at once and swept by their idle and absolute
// limits.
func TestSessionsStore(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ss, other := s.Sessions(), s.Sessions()
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		rec := auth.Record{ID: auth.RandomID(), Claims: auth.Claims{ID: "iss|sub", Email: "a@example.com", Groups: []string{"leads"}},
			DevRole: role.Lead, Via: "oidc", Created: now, LastSeen: now, AuthTime: now,
			Token: &oauth2.Token{AccessToken: "at-secret", RefreshToken: "rt-secret"}}
		if err := ss.Put(ctx, rec); err != nil {
			t.Fatal(err)
		}
		got, ok, err := other.Get(ctx, rec.ID)
		if err != nil || !ok || got.Claims.ID != "iss|sub" || got.Token.RefreshToken != "rt-secret" || got.DevRole != role.Lead {
			t.Fatalf("Get on another store = %+v %v %v", got, ok, err)
		}
		var key, sealed string
		if err := s.db.QueryRowContext(ctx, `SELECT key, sealed FROM sessions`).Scan(&key, &sealed); err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{rec.ID, "rt-secret", "at-secret", "iss|sub"} {
			if strings.Contains(key+sealed, secret) {
				t.Errorf("stored row holds %q in the clear", secret)
			}
		}
		later := now.Add(time.Minute)
		up, ok, err := other.Update(ctx, rec.ID, func(r *auth.Record) { r.LastSeen = later })
		if err != nil || !ok || !up.LastSeen.Equal(later) {
			t.Fatalf("Update = %+v %v %v", up, ok, err)
		}
		if got, _, _ := ss.Get(ctx, rec.ID); !got.LastSeen.Equal(later) {
			t.Errorf("LastSeen after update = %v", got.LastSeen)
		}
		if _, ok, _ := ss.Update(ctx, "nobody", func(*auth.Record) {}); ok {
			t.Error("Update of an unknown id found one")
		}
		old := auth.Record{ID: auth.RandomID(), Created: now.Add(-13 * time.Hour), LastSeen: now}
		idle := auth.Record{ID: auth.RandomID(), Created: now, LastSeen: now.Add(-time.Hour)}
		for _, r := range []auth.Record{old, idle} {
			if err := ss.Put(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := ss.Sweep(ctx, now.Add(-30*time.Minute), now.Add(-12*time.Hour), now); err != nil {
			t.Fatal(err)
		}
		if n, _ := ss.Len(ctx); n != 1 {
			t.Errorf("after sweep %d sessions, want 1", n)
		}
		if err := other.Delete(ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := ss.Get(ctx, rec.ID); ok {
			t.Error("a revoked session is still found")
		}
	})
}

// TestSessionsPendingOnce: a sign-in in progress is taken once of many
// concurrent takes, not after its expiry, and new ones are refused when
// the store is full of live ones.
func TestSessionsPendingOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ss := s.Sessions()
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		id := auth.RandomID()
		if err := ss.PutPending(ctx, id, auth.Pending{State: "st", Nonce: "n", Started: now}, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		found := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, ok, err := s.Sessions().TakePending(ctx, id, now.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					found++
					mu.Unlock()
					if p.State != "st" {
						t.Errorf("taken %+v", p)
					}
				}
			}()
		}
		wg.Wait()
		if found != 1 {
			t.Errorf("%d takes found the sign-in, want 1", found)
		}
		late := auth.RandomID()
		ss.PutPending(ctx, late, auth.Pending{Started: now}, now.Add(10*time.Minute))
		if _, ok, _ := ss.TakePending(ctx, late, now.Add(10*time.Minute)); ok {
			t.Error("an expired sign-in was taken")
		}
		ss.MaxPending = 2
		for range 2 {
			if err := ss.PutPending(ctx, auth.RandomID(), auth.Pending{Started: now}, now.Add(10*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if err := ss.PutPending(ctx, auth.RandomID(), auth.Pending{Started: now}, now.Add(10*time.Minute)); err != auth.ErrStoreFull {
			t.Errorf("full store: %v, want ErrStoreFull", err)
		}
		if err := ss.PutPending(ctx, auth.RandomID(), auth.Pending{Started: now.Add(11 * time.Minute)}, now.Add(20*time.Minute)); err != nil {
			t.Errorf("expired ones should make room: %v", err)
		}
		if n, _ := ss.PendingLen(ctx); n != 1 {
			t.Errorf("%d pending after the expired were swept, want 1", n)
		}
	})
}
