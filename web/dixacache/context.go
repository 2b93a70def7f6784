package dixacache

import (
	"context"
	"sync"
	"time"
)

type freshKey struct{}

// WithFresh marks reads made with ctx as needing Dixa's current data: the
// cache neither serves nor waits for a held entry (a reload, a write's
// conflict check, an erasure), but keeps what it fetched.
func WithFresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshKey{}, true)
}

// Fresh reports whether ctx asks for current data.
func Fresh(ctx context.Context) bool {
	b, _ := ctx.Value(freshKey{}).(bool)
	return b
}

type staleKey struct{}

// StaleNote records, for one request, how old the oldest data served
// because Dixa was busy is.
type StaleNote struct {
	mu    sync.Mutex
	age   time.Duration
	set   bool
	shown bool // a page already shows the notice in its own place
}

// WithStaleNote gives ctx a note that reads fill in when they serve old
// data.
func WithStaleNote(ctx context.Context) (context.Context, *StaleNote) {
	n := &StaleNote{}
	return context.WithValue(ctx, staleKey{}, n), n
}

// StaleAge returns the oldest age of data served from ctx's request
// because Dixa was busy; ok is false when everything was current, or when
// the page took the notice to show it in its own place (TakeStale).
func StaleAge(ctx context.Context) (time.Duration, bool) {
	n, _ := ctx.Value(staleKey{}).(*StaleNote)
	if n == nil {
		return 0, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.age, n.set && !n.shown
}

// TakeStale is StaleAge for a page that shows the notice itself, inside
// the region it renders (a fragment that htmx swaps): StaleAge then
// reports current data, so that the notice is not added a second time.
func TakeStale(ctx context.Context) (time.Duration, bool) {
	n, _ := ctx.Value(staleKey{}).(*StaleNote)
	if n == nil {
		return 0, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ok := n.set && !n.shown
	n.shown = n.shown || n.set
	return n.age, ok
}

func noteStale(ctx context.Context, age time.Duration) {
	n, _ := ctx.Value(staleKey{}).(*StaleNote)
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.set = true
	n.age = max(n.age, age)
}

type checksKey struct{}

// checks are the write counts one request's reads asked for, by owner.
type checks struct {
	mu    sync.Mutex
	calls map[string]*checkCall
}

type checkCall struct {
	done chan struct{}
	gen  uint64 // the cache's generation when it was asked
	res  check
}

// WithChecks scopes write-count checks to one request: its reads of one
// person (a profile's record and conversations) share one check.
func WithChecks(ctx context.Context) context.Context {
	return context.WithValue(ctx, checksKey{}, &checks{calls: map[string]*checkCall{}})
}
