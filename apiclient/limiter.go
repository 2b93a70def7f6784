package apiclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is the process-wide gate in front of Dixa. Dixa limits requests
// per API token (10/s, burst 4), so every Client using the same token must
// share one Limiter: a token bucket plus a shared "blocked until" instant
// that a 429 pushes forward, so that after one caller is throttled every
// caller pauses instead of hammering the gateway.
//
// Callers are served in two lanes. Interactive callers (the default) take
// tokens in arrival order. Callers whose context is marked with
// WithLowPriority (bulk jobs) only take a token when no interactive caller
// is waiting, so a running import never slows down a person at the console.
// Within the interactive lane callers are served round-robin across persons
// (WithCaller), first come first served within one person.
//
// The tokens come from a bucket in this process (NewLimiter), or from a
// Bucket shared by every process using the same API key (NewSharedLimiter).
type Limiter struct {
	rl     *rate.Limiter // the in-process bucket; nil with a shared Bucket
	bucket Bucket        // the shared bucket; nil in process
	fair   *fairQueue

	mu           sync.Mutex
	blockedUntil time.Time
	interactive  int           // interactive callers inside Wait
	idle         chan struct{} // closed (and replaced) when interactive drops to 0
}

// NewLimiter returns a Limiter that keeps a process under an upstream limit
// of rps requests per second with bursts of burst (Dixa: 10 and 4). rps <= 0
// means no rate limit (the 429 block still applies).
//
// The Limiter hands out at most burst-1 requests at once (never fewer than
// one), at the full rate. The upstream's bucket is filled and drained by
// arrival times, not by our send times: when requests bunch up in transit
// (a new connection for the first, a reused one for the next) an identical
// bucket here lets the occasional request arrive a little "early" and get a
// 429 (measured against the simulator: one 429 in every run of 60 calls).
// One token of headroom absorbs up to 1/rps of jitter and costs no
// throughput.
func NewLimiter(rps float64, burst int) *Limiter {
	lim := rate.Limit(rps)
	if rps <= 0 {
		lim = rate.Inf
	}
	if burst > 1 {
		burst--
	}
	return &Limiter{
		rl:   rate.NewLimiter(lim, max(burst, 1)),
		fair: newFairQueue(),
		idle: make(chan struct{}),
	}
}

// Bucket is a rate-limit bucket shared by several processes that use the
// same API key (for example a row in a shared database). Durations, not
// instants, cross the interface, so that the bucket may run on its own
// clock (the database's) and the callers' clocks may disagree.
type Bucket interface {
	// Reserve claims the next send slot and returns how long the caller
	// must wait before sending. A slot more than maxWait away is not
	// claimed (ok false, wait says how far away it is). With idleOnly a slot
	// is claimed only when the bucket is idle (nobody took a slot within the
	// last interval and no block is in force); otherwise ok is false and
	// wait says when it may be idle again. The shared block counts: no slot
	// is before it.
	Reserve(ctx context.Context, idleOnly bool, maxWait time.Duration) (wait time.Duration, ok bool, err error)
	// Block stops every process from getting a slot for d from now. It
	// extends the current block and never shortens it.
	Block(ctx context.Context, d time.Duration) error
	// Interval is the time between two slots (1/rate).
	Interval() time.Duration
}

// bucketTimeout bounds one round trip to a shared Bucket; and an
// unreachable one makes callers retry after bucketRetryAfter.
const (
	bucketTimeout    = time.Second
	bucketRetryAfter = 5 * time.Second
	// sharedMargin is kept between a shared slot and the caller's deadline.
	sharedMargin = 10 * time.Millisecond
	// lowJitter spreads the retries of low-priority callers that found a
	// shared bucket busy.
	lowJitter = 50 * time.Millisecond
)

// NewSharedLimiter returns a Limiter that takes its slots from b. The lanes
// and per-person fairness work as with NewLimiter among the callers of this
// process; b makes the processes share one budget and one block. When b
// fails (its database is down) calls fail with ErrRateLimited: the limiter
// fails closed, never unlimited.
func NewSharedLimiter(b Bucket) *Limiter {
	return &Limiter{bucket: b, fair: newFairQueue(), idle: make(chan struct{})}
}

type lowPriorityKey struct{}

// WithLowPriority marks ctx as belonging to background work: calls made with
// it only get a rate-limit token when no interactive caller is waiting. While
// people are busy at the console such calls may therefore fail with
// ErrRateLimited once their wait budget (WithMaxWait) is spent; a job should
// wait Error.RetryAfter and carry on.
func WithLowPriority(ctx context.Context) context.Context {
	return context.WithValue(ctx, lowPriorityKey{}, true)
}

func isLowPriority(ctx context.Context) bool {
	v, _ := ctx.Value(lowPriorityKey{}).(bool)
	return v
}

// BlockUntil stops every caller from getting a token before t. It extends
// the current block and never shortens it: two 429s with different hints
// must not let callers through early.
//
// With a shared Bucket the block is also pushed to the bucket for every
// process. If that fails the block still holds this process; the others
// learn of it from their own 429.
func (l *Limiter) BlockUntil(t time.Time) {
	l.mu.Lock()
	if t.After(l.blockedUntil) {
		l.blockedUntil = t
	}
	l.mu.Unlock()
	if d := time.Until(t); l.bucket != nil && d > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), bucketTimeout)
		defer cancel()
		_ = l.bucket.Block(ctx, d)
	}
}

// BlockedUntil returns the instant before which no caller gets a token (in
// the past when there is no block).
func (l *Limiter) BlockedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.blockedUntil
}

// Wait blocks until the shared block has passed and a token is available.
// It returns ctx's error when ctx is cancelled, and an *Error matching
// ErrRateLimited (with RetryAfter set) when the slot would come after ctx's
// deadline: the caller learns at once instead of waiting for the deadline.
func (l *Limiter) Wait(ctx context.Context) error {
	var err error
	if isLowPriority(ctx) {
		err = l.waitLow(ctx)
	} else {
		err = l.waitInteractive(ctx)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		var e *Error
		if !errors.As(err, &e) {
			err = rateLimitedError(time.Until(l.BlockedUntil()), err)
		}
	}
	return err
}

func (l *Limiter) waitInteractive(ctx context.Context) error {
	l.mu.Lock()
	l.interactive++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.interactive--
		if l.interactive == 0 {
			close(l.idle)
			l.idle = make(chan struct{})
		}
		l.mu.Unlock()
	}()

	// A block that outlasts the deadline is known now: say so at once
	// rather than after queueing.
	if d := time.Until(l.BlockedUntil()); tooLate(ctx, d) {
		return rateLimitedError(d, context.DeadlineExceeded)
	}
	release, err := l.fair.take(ctx, CallerOf(ctx))
	if err != nil {
		return err
	}
	// The turn is kept until the slot comes: the next slot goes to the
	// next person in the round-robin.
	defer release()
	if l.bucket != nil {
		return l.waitShared(ctx)
	}
	for {
		if err := l.waitBlocked(ctx); err != nil {
			return err
		}
		r := l.rl.Reserve()
		d := r.Delay()
		if tooLate(ctx, d) {
			r.Cancel()
			return rateLimitedError(d, context.DeadlineExceeded)
		}
		if err := sleep(ctx, d); err != nil {
			r.Cancel()
			return err
		}
		if !time.Now().Before(l.BlockedUntil()) {
			return nil
		}
		// A 429 arrived while we waited for the token. The token is spent;
		// wait out the block and queue again, so that the callers queued
		// behind the block are released at the bucket's rate, not all at once.
	}
}

// waitShared takes a slot from the shared bucket and waits for it.
//
// The bucket spaces the slots on its own clock and answers with a wait
// relative to the moment it decided, somewhere within our round trip. The
// request must reach the upstream close to its slot: a send that is late
// bunches with the slots after it, and several late sends (a slow reply
// from the database, a stalled process) add up to more than the upstream's
// burst. So the wait runs from the reply (never early), and a slot whose
// time has passed by more than lateSlack of an interval when we could send
// is not used: the caller reserves again. A spent slot only slows the
// callers down, it never lets more through.
func (l *Limiter) waitShared(ctx context.Context) error {
	for {
		if err := l.waitBlocked(ctx); err != nil {
			return err
		}
		// A slot is only worth taking if the caller can still use it
		// after the round trip: leave the deadline some margin.
		maxWait := time.Duration(1<<63 - 1)
		if deadline, ok := ctx.Deadline(); ok {
			maxWait = time.Until(deadline) - sharedMargin
		}
		if maxWait < 0 {
			return rateLimitedError(0, context.DeadlineExceeded)
		}
		asked := time.Now()
		d, ok, err := l.reserve(ctx, false, maxWait)
		if err != nil {
			return err
		}
		if !ok {
			return rateLimitedError(d, context.DeadlineExceeded)
		}
		if err := sleep(ctx, d); err != nil {
			return err // the slot is spent: a shared reservation cannot be returned
		}
		if l.late(asked, d) {
			continue
		}
		if !time.Now().Before(l.BlockedUntil()) {
			return nil
		}
		// A 429 arrived while we waited: queue again behind the block.
	}
}

// lateSlack is the share of an interval by which a send may miss its shared
// slot. The bucket keeps headroom for the rest of the jitter between our
// send times and the upstream's arrival times.
const lateSlack = 0.5

// late reports whether a slot that was d after some instant between asked
// and the reply is now, at the latest, more than lateSlack of an interval
// in the past. (The earliest the slot can be is asked+d.)
func (l *Limiter) late(asked time.Time, d time.Duration) bool {
	return time.Since(asked.Add(d)) > time.Duration(lateSlack*float64(l.bucket.Interval()))
}

// reserve asks the shared bucket for a slot, bounded by bucketTimeout. A
// bucket that cannot answer is reported as rate limiting (fail closed).
func (l *Limiter) reserve(ctx context.Context, idleOnly bool, maxWait time.Duration) (time.Duration, bool, error) {
	rctx, cancel := context.WithTimeout(ctx, bucketTimeout)
	defer cancel()
	d, ok, err := l.bucket.Reserve(rctx, idleOnly, maxWait)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		return 0, false, &Error{
			Message:    "rate limit: the shared rate limiter cannot be reached",
			RetryAfter: bucketRetryAfter,
			kind:       ErrRateLimited,
			cause:      fmt.Errorf("%w: %w", ErrBudgetUnknown, err),
		}
	}
	return d, ok, nil
}

func (l *Limiter) waitLow(ctx context.Context) error {
	for {
		if err := l.waitBlocked(ctx); err != nil {
			return err
		}
		l.mu.Lock()
		idle := l.interactive == 0
		wake := l.idle
		l.mu.Unlock()
		if !idle {
			// Wait for the interactive lane to drain (or the deadline).
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ok, d, err := l.takeIdle(ctx)
		if err != nil || ok {
			return err
		}
		if tooLate(ctx, d) {
			return rateLimitedError(d, context.DeadlineExceeded)
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// takeIdle takes a slot for a low-priority caller only if one is free now;
// otherwise it says how long to sleep before trying again.
func (l *Limiter) takeIdle(ctx context.Context) (bool, time.Duration, error) {
	if l.bucket != nil {
		asked := time.Now()
		d, ok, err := l.reserve(ctx, true, 0)
		if err != nil {
			return false, 0, err
		}
		if ok && !l.late(asked, d) {
			return true, 0, nil
		}
		// Busy, or a slot whose answer came too late to use: try again.
		return false, d + rand.N(lowJitter) + time.Millisecond, nil
	}
	// Never reserve a future token: a reservation would put this caller
	// ahead of interactive callers that arrive in the meantime. Take a
	// token only if one is there now, else sleep until one should be.
	if l.rl.Allow() {
		return true, 0, nil
	}
	// Round up to whole milliseconds: float rounding must not wake us a
	// hair before the token exists.
	d := time.Duration((1 - l.rl.Tokens()) / float64(l.rl.Limit()) * float64(time.Second))
	return false, max((d + time.Millisecond - 1).Truncate(time.Millisecond), time.Millisecond), nil
}

// waitBlocked sleeps until the shared block has passed. The block may be
// extended while we sleep, hence the loop.
func (l *Limiter) waitBlocked(ctx context.Context) error {
	for {
		d := time.Until(l.BlockedUntil())
		if d <= 0 {
			return nil
		}
		if tooLate(ctx, d) {
			return rateLimitedError(d, context.DeadlineExceeded)
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// tooLate reports whether waiting d would take us to or past ctx's deadline.
func tooLate(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && d > 0 && !time.Now().Add(d).Before(deadline)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
