package writeguard

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeShared is a Shared in memory that counts held locks.
type fakeShared struct {
	mu      sync.Mutex
	held    int
	failAt  bool
	tokens  map[string]State
	results map[string]string
}

func (f *fakeShared) SpendToken(_ context.Context, tok string, _ time.Time) (bool, State, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAt {
		return false, 0, "", errors.New("database down")
	}
	st, ok := f.tokens[tok]
	if !ok || st == TokenFresh {
		f.tokens[tok] = TokenRunning
		return true, TokenRunning, "", nil
	}
	return false, st, f.results[tok], nil
}

func (f *fakeShared) FinishToken(_ context.Context, tok string, st State, res string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[tok], f.results[tok] = st, res
	return nil
}

func (f *fakeShared) LockKey(context.Context, string) (func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAt {
		return nil, errors.New("database down")
	}
	f.held++
	return func() { f.mu.Lock(); f.held--; f.mu.Unlock() }, nil
}

// TestSharedLockReleasedOnEveryPath: a holder that panics or fails gives
// back both the shared and the in-process lock; a shared lock that cannot
// be had leaves the in-process one free.
func TestSharedLockReleasedOnEveryPath(t *testing.T) {
	f := &fakeShared{tokens: map[string]State{}, results: map[string]string{}}
	g := NewShared(f)
	func() {
		defer func() { recover() }()
		unlock, err := g.Lock(t.Context(), "k")
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		panic("holder fails")
	}()
	if f.held != 0 || len(g.locks.m) != 0 {
		t.Fatalf("after a panic: %d shared and %d local locks held", f.held, len(g.locks.m))
	}
	f.failAt = true
	if _, err := g.Lock(t.Context(), "k"); err == nil {
		t.Fatal("lock without the database succeeded")
	}
	if len(g.locks.m) != 0 {
		t.Fatal("a failed shared lock left the local one held")
	}
	// Without the database a form is not sent: its outcome cannot be known.
	if c, _ := g.Claim(t.Context(), g.Issue()); c != ClaimUnknown {
		t.Errorf("claim without the database = %d, want ClaimUnknown", c)
	}
	f.failAt = false
	tok := g.Issue()
	if c, _ := g.Claim(t.Context(), tok); c != ClaimFirst {
		t.Fatal(c)
	}
	g.Finish(tok, TokenDone, "/x")
	if c, res := g.Claim(t.Context(), tok); c != ClaimDone || res != "/x" {
		t.Errorf("replay = %d %q", c, res)
	}
	if c, _ := g.Claim(t.Context(), ""); c != ClaimNone {
		t.Errorf("empty token = %d", c)
	}
}
