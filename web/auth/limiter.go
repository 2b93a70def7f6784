package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Default per-person request budget: a few requests a second, with room
// for a page and its htmx requests, so that one person or a stuck script
// cannot spend the whole company's Dixa budget.
const (
	DefaultPersonRate  = 5
	DefaultPersonBurst = 20
	personIdle         = 10 * time.Minute
)

// PersonLimiter is a token bucket per identity, in memory; buckets of
// people idle for 10 minutes are dropped.
type PersonLimiter struct {
	rate  rate.Limit
	burst int

	mu        sync.Mutex
	people    map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewPersonLimiter returns a limiter of perSecond requests with burst;
// zero values take the defaults.
func NewPersonLimiter(perSecond float64, burst int) *PersonLimiter {
	if perSecond <= 0 {
		perSecond = DefaultPersonRate
	}
	if burst <= 0 {
		burst = DefaultPersonBurst
	}
	return &PersonLimiter{rate: rate.Limit(perSecond), burst: burst, people: map[string]*bucket{}}
}

// Allow takes one request from who's budget; when there is none it
// returns false and how long until there is.
func (l *PersonLimiter) Allow(who string) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		l.lastSweep = now
		for k, b := range l.people {
			if now.Sub(b.seen) > personIdle {
				delete(l.people, k)
			}
		}
	}
	b, ok := l.people[who]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.people[who] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Len is the number of people tracked (tests).
func (l *PersonLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.people)
}
