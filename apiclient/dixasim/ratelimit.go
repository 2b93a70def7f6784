package dixasim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is a token bucket per API key, like Dixa's documented usage plan
// (10 requests/second, burst 4, per token). It is written here rather than
// taken from x/time/rate so that it runs on the simulator's clock and can
// say how long a refused caller should wait.
type limiter struct {
	rate  float64 // tokens per second; 0 = off
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket. When none is left it reports how
// long until one is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// tooManyRequests answers 429 the way an AWS API Gateway throttles (the body
// and the header are UNCONFIRMED for Dixa): {"message":"Too Many Requests"},
// with Retry-After in whole seconds (at least 1) when asked for.
func tooManyRequests(w http.ResponseWriter, wait time.Duration, retryAfter bool) {
	if retryAfter {
		secs := max(int(math.Ceil(wait.Seconds())), 1)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	writeError(w, http.StatusTooManyRequests, msgTooManyRequests)
}
