package writeguard

import (
	"context"
	"sync"
	"time"
)

// Shared keeps the one-time form tokens and the per-key lock where
// several replicas agree (the console's database).
type Shared interface {
	// SpendToken marks tok as held by a submission in one step (an insert
	// that does nothing when the token is there): first is true for the
	// one call that spent it, or that took back a token released as
	// TokenFresh or past its expiry. Otherwise state and result are what
	// the holder recorded (TokenRunning while it is still at work).
	SpendToken(ctx context.Context, tok string, expires time.Time) (first bool, state State, result string, err error)
	// FinishToken records how the submission holding tok ended.
	FinishToken(ctx context.Context, tok string, state State, result string) error
	// LockKey waits for the lock of key across processes, or for ctx,
	// and returns its release. A holder that dies loses the lock.
	LockKey(ctx context.Context, key string) (unlock func(), err error)
}

// Shared timings: how long a Lock waits for another replica's save, and
// how long a Claim waits for another replica's submission of the same
// form before it answers that the outcome is unknown (the holder may have
// died mid-write: the form must not write again).
const (
	SharedLockTimeout = 15 * time.Second
	SharedClaimWait   = 30 * time.Second
	sharedClaimPoll   = 50 * time.Millisecond
	finishTimeout     = 5 * time.Second
)

// NewShared returns a guard whose tokens and locks live in sh. The lock is
// taken in the process first, so that one process holds at most one
// shared lock (and one database connection) per key.
func NewShared(sh Shared) *Guard {
	return &Guard{shared: sh, now: time.Now}
}

// lockShared takes the in-process lock, then the shared one; the returned
// release gives back both, once, whatever path the holder leaves by.
func (g *Guard) lockShared(ctx context.Context, key string) (func(), error) {
	local, err := g.locks.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, SharedLockTimeout)
	defer cancel()
	remote, err := g.shared.LockKey(lctx, key)
	if err != nil {
		local()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			remote()
			local()
		})
	}, nil
}

// claimShared spends tok in the shared store. A store that fails answers
// ClaimUnknown: without knowing whether the form was sent, it is not sent
// again.
func (g *Guard) claimShared(ctx context.Context, tok string) (Claim, string) {
	if tok == "" {
		return ClaimNone, ""
	}
	deadline := g.now().Add(SharedClaimWait)
	for {
		first, state, result, err := g.shared.SpendToken(ctx, tok, g.now().Add(FormTokenTTL))
		switch {
		case err != nil && ctx.Err() != nil:
			return ClaimNone, ""
		case err != nil:
			return ClaimUnknown, ""
		case first:
			return ClaimFirst, ""
		case state == TokenDone:
			return ClaimDone, result
		case state == TokenUnknown:
			return ClaimUnknown, ""
		}
		if !g.now().Before(deadline) {
			return ClaimUnknown, ""
		}
		t := time.NewTimer(sharedClaimPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ClaimNone, ""
		case <-t.C:
		}
	}
}

// finishShared records the outcome; when the store cannot, the token stays
// held and later submissions of the form end as ClaimUnknown.
func (g *Guard) finishShared(tok string, state State, result string) {
	ctx, cancel := context.WithTimeout(context.Background(), finishTimeout)
	defer cancel()
	g.shared.FinishToken(ctx, tok, state, result)
}
