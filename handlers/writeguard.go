package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// WriteGuard is what the write handlers share so that a customer is never
// written twice by accident: a lock per end user id (the re-read, compare
// and PATCH of one save happen without another save of the same customer in
// between, security.md §6.4), and one-time form tokens (a double click or a
// replayed POST writes once, §6.5). It lives in the handler structs, built
// once per server; nothing here is package-level state.
//
// Both are in-process: with several replicas, a lease in the shared database
// would be needed for the lock (the compare before writing still catches
// what slips through).
type WriteGuard struct {
	locks  keyedMutex
	tokens *onceTokens
}

// Token lifetime and bound: a form left open over lunch still saves; the
// map stays small whatever happens.
const (
	FormTokenTTL  = 2 * time.Hour
	MaxFormTokens = 20000
)

// NewWriteGuard returns a guard with the default token lifetime and bound.
func NewWriteGuard() *WriteGuard {
	return &WriteGuard{tokens: newOnceTokens(FormTokenTTL, MaxFormTokens, time.Now)}
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

// Token states.
const (
	tokenFresh   = iota // issued with a form, not used yet
	tokenRunning        // a submission holding it is being processed
	tokenDone           // the write happened: replays get the same answer
	tokenUnknown        // the write's outcome is unknown: replays must not write
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
	state   int
	done    chan struct{} // closed when a running submission finishes
	result  string        // tokenDone: where the first submission sent the person
}

func newOnceTokens(ttl time.Duration, max int, now func() time.Time) *onceTokens {
	return &onceTokens{m: map[string]*tokenEntry{}, ttl: ttl, max: max, now: now}
}

// Issue returns a fresh token.
func (t *onceTokens) Issue() string {
	var b [18]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	t.evict()
	t.m[tok] = &tokenEntry{expires: t.now().Add(t.ttl)}
	t.order = append(t.order, tok)
	return tok
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
		if e.state == tokenRunning {
			break // never drop a token a submission is holding
		}
		delete(t.m, t.order[n])
	}
	t.order = t.order[n:]
}

// Claim outcomes.
const (
	claimFirst   = iota // the caller owns the submission: Finish it
	claimDone           // an earlier submission wrote; Result says where it went
	claimUnknown        // an earlier submission's write outcome is unknown
	claimNone           // no such (or an expired) token: no dedupe possible
)

// Claim marks tok as being used. When another submission holds it, Claim
// waits for that one to finish (or for ctx) and reports its outcome.
func (t *onceTokens) Claim(ctx context.Context, tok string) (outcome int, result string) {
	for {
		t.mu.Lock()
		e, ok := t.m[tok]
		if !ok || tok == "" || !t.now().Before(e.expires) {
			t.mu.Unlock()
			return claimNone, ""
		}
		switch e.state {
		case tokenFresh:
			e.state = tokenRunning
			e.done = make(chan struct{})
			t.mu.Unlock()
			return claimFirst, ""
		case tokenDone:
			t.mu.Unlock()
			return claimDone, e.result
		case tokenUnknown:
			t.mu.Unlock()
			return claimUnknown, ""
		}
		done := e.done
		t.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return claimNone, ""
		}
	}
}

// Finish ends a claimed submission: state tokenDone (with where the person
// was sent), tokenUnknown, or tokenFresh when nothing was written (the same
// form may be sent again).
func (t *onceTokens) Finish(tok string, state int, result string) {
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
