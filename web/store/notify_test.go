package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/web/dixacache"
)

// A write on one replica reaches every other replica's cache through
// PostgreSQL LISTEN/NOTIFY; a replica does not receive its own.
func TestCacheBusCarriesInvalidations(t *testing.T) {
	base := importPostgres(t)
	url := postgresSchema(t, base)
	a, err := Open(t.Context(), t.TempDir(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	busA, busB := a.CacheBus(url, nil), a.CacheBus(url, nil)
	if busA == nil || busB == nil {
		t.Fatal("no bus on PostgreSQL")
	}
	got := make(chan dixacache.Event, 16)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go busB.Listen(ctx, func(e dixacache.Event) { got <- e })
	next := func() dixacache.Event {
		t.Helper()
		select {
		case e := <-got:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
		return dixacache.Event{}
	}
	if e := next(); e.Kind != dixacache.KindAll {
		t.Fatalf("first event %+v, want the drop-all of a new connection", e)
	}
	cacheA := dixacache.New(dixacache.Options{Bus: busA})
	cacheA.Invalidate(t.Context(), "3F1C9A7E-0B7D-4C55-9A39-2F1E8F6B1D2A")
	if e := next(); e.Kind != dixacache.KindUser || e.ID != "3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a" {
		t.Fatalf("got %+v, want the person's invalidation", e)
	}
	cacheA.Erased(t.Context(), "abc")
	if e := next(); e.Kind != dixacache.KindErased || e.ID != "abc" {
		t.Fatalf("got %+v, want the erasure", e)
	}
	// B's own events are not echoed back to it.
	busB.Publish(t.Context(), dixacache.Event{Kind: dixacache.KindLists})
	busA.Publish(t.Context(), dixacache.Event{Kind: dixacache.KindUser, ID: "marker"})
	if e := next(); e.ID != "marker" {
		t.Fatalf("got %+v, want only A's marker (B's own event skipped)", e)
	}
}

func TestCacheBusNoneOnSQLite(t *testing.T) {
	if b := openSQLite(t).CacheBus("", nil); b != nil {
		t.Error("SQLite got a bus")
	}
}

// Publish counts the write, where another replica's pool reads it, before
// it returns: the person's count and the lists' ("") go up; an erasure
// marks the person for good; a new customer counts for the lists only.
func TestCacheBusCountsWrites(t *testing.T) {
	url := postgresSchema(t, importPostgres(t))
	open := func() *CacheBus {
		s, err := Open(t.Context(), t.TempDir(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.CacheBus(url, nil)
	}
	a, b := open(), open()
	version := func(owner string) dixacache.Version {
		t.Helper()
		v, err := b.Version(t.Context(), owner)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version("p1"); v != (dixacache.Version{}) {
		t.Fatalf("never written: %+v, want zero", v)
	}
	steps := []struct {
		e         dixacache.Event
		p1, lists int64
		p1Erased  bool
	}{
		{dixacache.Event{Kind: dixacache.KindUser, ID: "p1"}, 1, 1, false},
		{dixacache.Event{Kind: dixacache.KindUser, ID: "p1"}, 2, 2, false},
		{dixacache.Event{Kind: dixacache.KindLists}, 2, 3, false},
		{dixacache.Event{Kind: dixacache.KindErased, ID: "p1"}, 3, 4, true},
		{dixacache.Event{Kind: dixacache.KindUser, ID: "p1"}, 4, 5, true},
	}
	for i, s := range steps {
		if err := a.Publish(t.Context(), s.e); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if p1, l := version("p1"), version(""); p1.N != s.p1 || p1.Erased != s.p1Erased || l.N != s.lists || l.Erased {
			t.Errorf("step %d (%+v): p1 %+v, lists %+v; want %d/%v, %d", i, s.e, p1, l, s.p1, s.p1Erased, s.lists)
		}
	}
	if v := version("p2"); v.N != 0 {
		t.Errorf("another person counted %d writes", v.N)
	}
}

// Writers of different people at once count every write (no lost update,
// no deadlock on the shared lists row).
func TestCacheBusCountsConcurrentWrites(t *testing.T) {
	url := postgresSchema(t, importPostgres(t))
	s, err := Open(t.Context(), t.TempDir(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	bus := s.CacheBus(url, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				if err := bus.Publish(ctx, dixacache.Event{Kind: dixacache.KindUser, ID: fmt.Sprint("p", i%2)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	l, _ := bus.Version(ctx, "")
	p0, _ := bus.Version(ctx, "p0")
	p1, _ := bus.Version(ctx, "p1")
	if l.N != 80 || p0.N != 40 || p1.N != 40 {
		t.Errorf("counted lists %d, p0 %d, p1 %d; want 80, 40, 40", l.N, p0.N, p1.N)
	}
}
