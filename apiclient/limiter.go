package apiclient

import (
	"context"
	"errors"
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
type Limiter struct {
	rl *rate.Limiter

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
		idle: make(chan struct{}),
	}
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
func (l *Limiter) BlockUntil(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.blockedUntil) {
		l.blockedUntil = t
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
		// Never reserve a future token: a reservation would put this caller
		// ahead of interactive callers that arrive in the meantime. Take a
		// token only if one is there now, else sleep until one should be.
		if l.rl.Allow() {
			return nil
		}
		// Round up to whole milliseconds: float rounding must not wake us a
		// hair before the token exists.
		d := time.Duration((1 - l.rl.Tokens()) / float64(l.rl.Limit()) * float64(time.Second))
		d = max((d + time.Millisecond - 1).Truncate(time.Millisecond), time.Millisecond)
		if tooLate(ctx, d) {
			return rateLimitedError(d, context.DeadlineExceeded)
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
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
