package store

import (
	"context"
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
