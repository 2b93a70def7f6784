package store

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLeasesOneHolder: of several holders asking at once one gets the
// lease; it renews it; while it does nobody else gets it; when it stops
// renewing (its replica died) another gets it once it expires; a release
// hands it over at once.
func TestLeasesOneHolder(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		l := s.Leases()
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				ok, err := s.Leases().Hold(ctx, "work", string(rune('a'+i)), time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d holders got the lease, want 1", won.Load())
		}

		const ttl = 300 * time.Millisecond
		if ok, _ := l.Hold(ctx, "job", "A", ttl); !ok {
			t.Fatal("A did not get a free lease")
		}
		if ok, _ := l.Hold(ctx, "job", "A", ttl); !ok {
			t.Fatal("A could not renew its lease")
		}
		if ok, _ := l.Hold(ctx, "job", "B", ttl); ok {
			t.Fatal("B got A's live lease")
		}
		start := time.Now()
		deadline := start.Add(5 * time.Second)
		for {
			ok, err := l.Hold(ctx, "job", "B", ttl)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("B never got the lease A stopped renewing")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if waited := time.Since(start); waited < ttl/2 {
			t.Errorf("B got the lease after %v, before A's could expire", waited)
		}
		if err := l.Release(ctx, "job", "B"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := l.Hold(ctx, "job", "C", ttl); !ok {
			t.Error("a released lease was not free")
		}
		if err := l.Release(ctx, "job", "A"); err != nil { // not A's: no effect
			t.Fatal(err)
		}
		if ok, _ := l.Hold(ctx, "job", "A", ttl); ok {
			t.Error("A's release took C's lease")
		}
	})
}
