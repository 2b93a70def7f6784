package apiclient

import (
	"sync"
	"time"
)

// breaker is a consecutive-failure circuit breaker. When Dixa is down,
// failing fast spares the console's users a timeout each and spares Dixa a
// retry storm when it comes back.
//
// Closed: calls pass; `threshold` consecutive failures open it. Open: calls
// are refused until `openFor` has elapsed. Then exactly one call (the probe)
// is let through while the others are still refused; its success closes the
// breaker, its failure opens it again for another `openFor`.
type breaker struct {
	threshold int
	openFor   time.Duration

	mu        sync.Mutex
	failures  int       // consecutive failures
	openUntil time.Time // zero while closed
	probing   bool      // a probe is in flight
}

type outcome int

const (
	outcomeSuccess   outcome = iota // upstream answered (any status but 5xx)
	outcomeFailure                  // 5xx, timeout, connection error
	outcomeAbandoned                // the call ended before an answer for reasons of its own (ctx)
)

// newBreaker returns nil (no breaker) when threshold < 1.
func newBreaker(threshold int, openFor time.Duration) *breaker {
	if threshold < 1 {
		return nil
	}
	return &breaker{threshold: threshold, openFor: openFor}
}

// allow reports whether a call may go upstream, whether it is the probe,
// and, if refused, how long until the breaker will let a probe through.
func (b *breaker) allow() (ok, probe bool, wait time.Duration) {
	if b == nil {
		return true, false, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return true, false, 0
	}
	now := time.Now()
	if now.Before(b.openUntil) {
		return false, false, b.openUntil.Sub(now)
	}
	if b.probing {
		return false, false, b.openFor
	}
	b.probing = true
	return true, true, 0
}

// done records the result of a call that allow let through. It reports
// whether this result opened the breaker (for logging).
func (b *breaker) done(probe bool, o outcome) (opened bool) {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	switch o {
	case outcomeSuccess:
		b.failures = 0
		b.openUntil = time.Time{}
	case outcomeFailure:
		b.failures++
		if probe || (b.openUntil.IsZero() && b.failures >= b.threshold) {
			b.openUntil = time.Now().Add(b.openFor)
			return true
		}
	case outcomeAbandoned:
		// A probe that never got an answer proves nothing: the next call
		// becomes the probe.
	}
	return false
}
