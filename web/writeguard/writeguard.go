// Package writeguard keeps a customer from being written twice by
// accident: a lock per key (the re-read, compare and write of one save of
// a customer happen without another save of the same customer in
// between), and one-time form tokens (a double click or a replayed POST
// writes once).
//
// New keeps both in the process. NewShared keeps them where several
// replicas agree (the database): a token is spent wherever it is posted,
// and saves of one customer are serialised across replicas.
package writeguard

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Guard is what the write handlers share: the per-key lock and the
// one-time form tokens. It is built once per server and lives in the
// handlers that write; nothing here is package-level state.
type Guard struct {
	locks  keyedMutex
	tokens *onceTokens
	// shared, when set, holds the tokens and the cross-process lock.
	shared Shared
	now    func() time.Time
}

// Token lifetime and bound: a form left open over lunch still saves; the
// map stays small whatever happens.
const (
	FormTokenTTL  = 2 * time.Hour
	MaxFormTokens = 20000
)

// New returns a guard with the default token lifetime and bound.
func New() *Guard {
	return &Guard{tokens: newOnceTokens(FormTokenTTL, MaxFormTokens, time.Now)}
}

// Lock waits for the lock of key (an end user id), or for ctx, and returns
// the function that releases it.
func (g *Guard) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if g.shared != nil {
		return g.lockShared(ctx, key)
	}
	return g.locks.Lock(ctx, key)
}

// Issue returns a fresh one-time token for a form being rendered.
func (g *Guard) Issue() string {
	if g.shared != nil {
		return newToken()
	}
	return g.tokens.Issue()
}

// Claim marks tok as used by the calling submission (ClaimFirst). When
// another submission holds it, Claim waits for that one to finish (or for
// ctx) and reports how it ended, with the result it was finished with.
func (g *Guard) Claim(ctx context.Context, tok string) (c Claim, result string) {
	if g.shared != nil {
		return g.claimShared(ctx, tok)
	}
	return g.tokens.Claim(ctx, tok)
}

// Finish ends a submission that Claim returned ClaimFirst for: state
// TokenDone with result (where the person was sent), TokenUnknown, or
// TokenFresh when nothing was written.
func (g *Guard) Finish(tok string, state State, result string) {
	if g.shared != nil {
		g.finishShared(tok, state, result)
		return
	}
	g.tokens.Finish(tok, state, result)
}

// keyedMutex serialises work per key. Waiting honours the context.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while locked
	refs int
}

// Lock waits for the key's lock (or for ctx) and returns the unlock func.
func (k *keyedMutex) Lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l, ok := k.m[key]
	if !ok {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()

	release := func() {
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// State is the state of a token.
type State int

// Token states. A submission ends in TokenFresh, TokenDone or
// TokenUnknown.
const (
	TokenFresh   State = iota // issued with a form, not used yet; or released: nothing was written, the form may be sent again
	TokenRunning              // a submission holding it is being processed
	TokenDone                 // the write happened: replays get the same answer
	TokenUnknown              // the write's outcome is unknown: replays must not write
)

// onceTokens are one-time form tokens: issued when a form is rendered,
// claimed by the first POST that carries it. Bounded (oldest evicted
// first) and expiring.
type onceTokens struct {
	mu    sync.Mutex
	m     map[string]*tokenEntry
	order []string // issue order = expiry order (constant TTL)
	ttl   time.Duration
	max   int
	now   func() time.Time
}

type tokenEntry struct {
	expires time.Time
	state   State
	done    chan struct{} // closed when a running submission finishes
	result  string        // TokenDone: where the first submission sent the person
}

func newOnceTokens(ttl time.Duration, max int, now func() time.Time) *onceTokens {
	return &onceTokens{m: map[string]*tokenEntry{}, ttl: ttl, max: max, now: now}
}

// Issue returns a fresh token.
func (t *onceTokens) Issue() string {
	tok := newToken()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.evict()
	t.m[tok] = &tokenEntry{expires: t.now().Add(t.ttl)}
	t.order = append(t.order, tok)
	return tok
}

// newToken is 18 random bytes, URL-safe.
func newToken() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// evict drops expired tokens and, past the bound, the oldest ones. Caller
// holds mu.
func (t *onceTokens) evict() {
	now := t.now()
	n := 0
	for ; n < len(t.order); n++ {
		e, ok := t.m[t.order[n]]
		if !ok {
			continue
		}
		if now.Before(e.expires) && len(t.m) < t.max {
			break
		}
		if e.state == TokenRunning {
			break // never drop a token a submission is holding
		}
		delete(t.m, t.order[n])
	}
	t.order = t.order[n:]
}

// Claim is what claiming a token found.
type Claim int

// Claim outcomes.
const (
	ClaimFirst   Claim = iota // the caller owns the submission: Finish it
	ClaimDone                 // an earlier submission wrote; the result says where it sent the person
	ClaimUnknown              // an earlier submission's write outcome is unknown
	ClaimNone                 // no such (or an expired) token: no dedupe possible
)

// Claim marks tok as being used. When another submission holds it, Claim
// waits for that one to finish (or for ctx) and reports its outcome.
func (t *onceTokens) Claim(ctx context.Context, tok string) (Claim, string) {
	for {
		t.mu.Lock()
		e, ok := t.m[tok]
		if !ok || tok == "" || !t.now().Before(e.expires) {
			t.mu.Unlock()
			return ClaimNone, ""
		}
		switch e.state {
		case TokenFresh:
			e.state = TokenRunning
			e.done = make(chan struct{})
			t.mu.Unlock()
			return ClaimFirst, ""
		case TokenDone:
			t.mu.Unlock()
			return ClaimDone, e.result
		case TokenUnknown:
			t.mu.Unlock()
			return ClaimUnknown, ""
		}
		done := e.done
		t.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return ClaimNone, ""
		}
	}
}

// Finish ends a claimed submission: state TokenDone (with where the person
// was sent), TokenUnknown, or TokenFresh when nothing was written (the same
// form may be sent again).
func (t *onceTokens) Finish(tok string, state State, result string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[tok]
	if !ok {
		return
	}
	e.state, e.result = state, result
	if e.done != nil {
		close(e.done)
		e.done = nil
	}
}
