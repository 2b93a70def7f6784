package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/dixa-console/web/writeguard"
)

// TestGuardTokenSpentOnce: of the same form posted through several guards
// on one database at once, one submission writes; the others wait for it
// and get its result. A released token may be sent again.
func TestGuardTokenSpentOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		tok := writeguard.NewShared(s.Guard()).Issue()
		var firsts atomic.Int32
		var wg sync.WaitGroup
		results := make(chan string, 6)
		for range 6 {
			g := writeguard.NewShared(s.Guard())
			wg.Go(func() {
				switch c, res := g.Claim(t.Context(), tok); c {
				case writeguard.ClaimFirst:
					firsts.Add(1)
					g.Finish(tok, writeguard.TokenDone, "/endusers/1")
				case writeguard.ClaimDone:
					results <- res
				default:
					t.Errorf("claim = %d", c)
				}
			})
		}
		wg.Wait()
		close(results)
		if firsts.Load() != 1 {
			t.Fatalf("%d submissions wrote, want 1", firsts.Load())
		}
		for r := range results {
			if r != "/endusers/1" {
				t.Errorf("replay result %q", r)
			}
		}
		g := writeguard.NewShared(s.Guard())
		tok2 := g.Issue()
		if c, _ := g.Claim(t.Context(), tok2); c != writeguard.ClaimFirst {
			t.Fatal(c)
		}
		g.Finish(tok2, writeguard.TokenFresh, "")
		if c, _ := g.Claim(t.Context(), tok2); c != writeguard.ClaimFirst {
			t.Errorf("released token: claim %d, want ClaimFirst", c)
		}
		g.Finish(tok2, writeguard.TokenUnknown, "")
		if c, _ := g.Claim(t.Context(), tok2); c != writeguard.ClaimUnknown {
			t.Errorf("unknown outcome: claim %d, want ClaimUnknown", c)
		}
	})
}

// TestGuardLockAcrossStores: two stores on one PostgreSQL (two replicas)
// serialise saves of one key; a holder that panics or fails releases the
// lock on its way out, and a waiter whose time runs out gets an error.
func TestGuardLockAcrossStores(t *testing.T) {
	url := postgresSchema(t, postgresURL(t))
	a, err := Open(t.Context(), t.TempDir(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), t.TempDir(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ga, gb := writeguard.NewShared(a.Guard()), writeguard.NewShared(b.Guard())

	unlock, err := ga.Lock(t.Context(), "cust-1")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	if _, err := gb.Lock(short, "cust-1"); err == nil {
		t.Fatal("a second replica took a held lock")
	}
	cancel()
	if u, err := gb.Lock(t.Context(), "cust-2"); err != nil {
		t.Fatalf("another key is held up: %v", err)
	} else {
		u()
	}
	unlock()

	// A holder that panics releases by its defer.
	func() {
		defer func() { recover() }()
		u, err := ga.Lock(t.Context(), "cust-1")
		if err != nil {
			t.Fatal(err)
		}
		defer u()
		panic("holder fails")
	}()
	// A holder that returns an error releases too.
	hold := func() error {
		u, err := gb.Lock(t.Context(), "cust-1")
		if err != nil {
			return err
		}
		defer u()
		return errors.New("save failed")
	}
	if err := hold(); err == nil || err.Error() != "save failed" {
		t.Fatal(err)
	}
	within, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	u, err := ga.Lock(within, "cust-1")
	if err != nil {
		t.Fatalf("lock not released after a panicking and a failing holder: %v", err)
	}
	u()
	u() // a second release is harmless
	if err := a.db.PingContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	var held int
	a.db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1`, guardLockSpace).Scan(&held)
	if held != 0 {
		t.Errorf("%d advisory locks still held", held)
	}
}
