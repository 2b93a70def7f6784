package dixacache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// counts is Versions shared by the caches of several replicas in one test:
// write counts in memory, and events that are never delivered (the slowest
// bus there is).
type counts struct {
	mu     sync.Mutex
	n      map[string]Version
	fail   bool
	checks atomic.Int64
}

func newCounts() *counts { return &counts{n: map[string]Version{}} }

func (v *counts) Publish(_ context.Context, e Event) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	bump := func(owner string, erased bool) {
		cur := v.n[owner]
		v.n[owner] = Version{N: cur.N + 1, Erased: cur.Erased || erased}
	}
	switch e.Kind {
	case KindUser, KindErased:
		bump("", false)
		bump(e.ID, e.Kind == KindErased)
	case KindLists:
		bump("", false)
	}
	return nil
}

func (v *counts) Version(_ context.Context, owner string) (Version, error) {
	v.checks.Add(1)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.fail {
		return Version{}, errors.New("database unreachable")
	}
	return v.n[owner], nil
}

// A write on replica A is seen by replica B's next read although B never
// received A's event: B's held entries are checked against the write
// counts, the person's and the lists'.
func TestCacheVersionsOrderReadsAfterWritesElsewhere(t *testing.T) {
	vs := newCounts()
	a, _ := newTest(Options{Bus: vs})
	b, _ := newTest(Options{Bus: vs})
	var n atomic.Int64
	read(b, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	read(b, t.Context(), "l:x", "", counted(&n, user("list"), nil))
	read(b, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	if n.Load() != 2 {
		t.Fatalf("%d fetches, want a held repeat", n.Load())
	}
	a.Invalidate(t.Context(), "A")
	renamed := user("a")
	renamed.DisplayName = "Renamed"
	if u, _ := read(b, t.Context(), "u:a", "a", counted(&n, renamed, nil)); u.DisplayName != "Renamed" {
		t.Errorf("replica B served %q after a write on A", u.DisplayName)
	}
	if l, _ := read(b, t.Context(), "l:x", "", counted(&n, renamed, nil)); l.DisplayName != "Renamed" {
		t.Errorf("replica B served a search from before a write on A")
	}
	if n.Load() != 4 {
		t.Errorf("%d fetches, want 4", n.Load())
	}
	// What B fetched after the write is held again.
	read(b, t.Context(), "u:a", "a", counted(&n, renamed, nil))
	if n.Load() != 4 {
		t.Errorf("the entry fetched after the write is not held")
	}
}

// Held data from before a write elsewhere is not served as stale either
// when Dixa is busy.
func TestCacheVersionsNoStaleAfterWriteElsewhere(t *testing.T) {
	vs := newCounts()
	a, _ := newTest(Options{Bus: vs})
	b, clk := newTest(Options{Bus: vs, TTL: 15 * time.Second})
	var n atomic.Int64
	read(b, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	clk.Add(40 * time.Second)
	busy := counted(&n, apiclient.EndUser{}, apiclient.ErrRateLimited)
	ctx, _ := WithStaleNote(t.Context())
	if _, err := read(b, ctx, "u:a", "a", busy); err != nil {
		t.Fatalf("unwritten held data not served while Dixa is busy: %v", err)
	}
	a.Invalidate(t.Context(), "a")
	if _, err := read(b, ctx, "u:a", "a", busy); !errors.Is(err, apiclient.ErrRateLimited) {
		t.Errorf("got %v; want Dixa's refusal, not data from before a write on A", err)
	}
}

// An erasure on A keeps the person out of B's cache at once and for good.
func TestCacheVersionsErasedElsewhere(t *testing.T) {
	vs := newCounts()
	a, _ := newTest(Options{Bus: vs})
	b, _ := newTest(Options{Bus: vs})
	var n atomic.Int64
	read(b, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	a.Erased(t.Context(), "a")
	for range 3 {
		read(b, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	}
	if n.Load() != 4 {
		t.Errorf("%d fetches, want every read after the erasure on A to go to Dixa", n.Load())
	}
	if _, _, ok := b.lookup("u:a", "a"); ok {
		t.Error("replica B holds an erased person")
	}
}

// A read whose write count cannot be had goes to Dixa and is not kept.
func TestCacheVersionsUnknownIsNotServed(t *testing.T) {
	vs := newCounts()
	b, _ := newTest(Options{Bus: vs})
	var n atomic.Int64
	read(b, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	vs.mu.Lock()
	vs.fail = true
	vs.mu.Unlock()
	read(b, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	read(b, t.Context(), "u:b", "b", counted(&n, user("b"), nil))
	if n.Load() != 3 {
		t.Errorf("%d fetches, want 3 (no held data served unchecked)", n.Load())
	}
	if _, _, ok := b.lookup("u:b", "b"); ok {
		t.Error("data read without a write count was kept")
	}
}

// One request's reads of one person share one check of the write count,
// asked again once this replica applied a write; another request asks
// afresh.
func TestCacheVersionsOneCheckPerRequest(t *testing.T) {
	vs := newCounts()
	b, _ := newTest(Options{Bus: vs})
	var n atomic.Int64
	read(b, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	read(b, t.Context(), "c:a", "a", counted(&n, user("a"), nil))
	vs.checks.Store(0)
	req := WithChecks(t.Context())
	read(b, req, "u:a", "a", counted(&n, user("a"), nil))
	read(b, req, "c:a", "a", counted(&n, user("a"), nil))
	if got := vs.checks.Load(); got != 1 {
		t.Errorf("%d checks for one request's two reads of a person, want 1", got)
	}
	b.Invalidate(req, "a")
	read(b, req, "u:a", "a", counted(&n, user("a"), nil))
	if got := vs.checks.Load(); got != 2 {
		t.Errorf("%d checks; a write in the request must be checked again", got)
	}
	read(b, WithChecks(t.Context()), "u:a", "a", counted(&n, user("a"), nil))
	if got := vs.checks.Load(); got != 3 {
		t.Errorf("%d checks; another request must ask afresh", got)
	}
}
