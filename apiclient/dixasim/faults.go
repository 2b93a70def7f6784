package dixasim

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// AllRoutes is the route name that makes a fault apply to every route.
// A fault set for a specific route takes precedence over one set for "*".
const AllRoutes = "*"

// faults holds the injected misbehaviour. Routes are named by their
// template without the version prefix, e.g. "GET /endusers/{userId}".
type faults struct {
	mu         sync.Mutex
	rng        *rand.Rand // own generator, so faults do not disturb data ids
	latency    map[string]latencyRange
	errorRate  map[string]errorRate
	failNext   map[string]*failNext
	stormUntil time.Time
	stormRetry bool
}

type latencyRange struct{ min, max time.Duration }

type errorRate struct {
	rate   float64
	status int
}

type failNext struct {
	n      int
	status int
}

func newFaults(seed int64) *faults {
	return &faults{
		rng:       rand.New(rand.NewPCG(uint64(seed), 0x6661756c7473)),
		latency:   map[string]latencyRange{},
		errorRate: map[string]errorRate{},
		failNext:  map[string]*failNext{},
	}
}

// SetLatency delays every answer on route ("METHOD /template" or "*") by a
// fixed duration when min == max, else by a uniformly random one in
// [min, max]. A zero range removes the delay. The delay ends early when the
// request's context is done (the client went away); nothing is written then.
func (s *Sim) SetLatency(route string, min, max time.Duration) {
	if max < min {
		min, max = max, min
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if max <= 0 {
		delete(s.faults.latency, route)
		return
	}
	if min < 0 {
		min = 0
	}
	s.faults.latency[route] = latencyRange{min, max}
}

// SetErrorRate makes route ("METHOD /template" or "*") fail with status for
// the given fraction (0..1) of requests, after authentication and rate
// limiting. A rate of 0 removes it.
func (s *Sim) SetErrorRate(route string, rate float64, status int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if rate <= 0 {
		delete(s.faults.errorRate, route)
		return
	}
	s.faults.errorRate[route] = errorRate{min(rate, 1), status}
}

// FailNext makes the next n requests on route ("METHOD /template" or "*")
// fail with status, after authentication and rate limiting. A 429 carries
// Retry-After when Options.RetryAfter is set.
func (s *Sim) FailNext(route string, n int, status int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if n <= 0 {
		delete(s.faults.failNext, route)
		return
	}
	s.faults.failNext[route] = &failNext{n, status}
}

// Storm429 answers every request (even unauthenticated ones, as a gateway
// under load would) with 429 for d from now, with Retry-After (the seconds
// left) when retryAfter is set.
func (s *Sim) Storm429(d time.Duration, retryAfter bool) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.stormUntil = s.now().Add(d)
	s.faults.stormRetry = retryAfter
}

// ResetFaults removes every injected fault.
func (s *Sim) ResetFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	clear(s.faults.latency)
	clear(s.faults.errorRate)
	clear(s.faults.failNext)
	s.faults.stormUntil = time.Time{}
}

// delay waits for the route's latency; it reports false when ctx ended first.
func (f *faults) delay(ctx context.Context, route string) bool {
	f.mu.Lock()
	l, ok := f.latency[route]
	if !ok {
		l, ok = f.latency[AllRoutes]
	}
	d := l.min
	if ok && l.max > l.min {
		d += time.Duration(f.rng.Int64N(int64(l.max-l.min) + 1))
	}
	f.mu.Unlock()
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// storming reports whether a 429 storm is on, and for how much longer.
func (f *faults) storming(now time.Time) (time.Duration, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !now.Before(f.stormUntil) {
		return 0, false, false
	}
	return f.stormUntil.Sub(now), f.stormRetry, true
}

// inject decides whether this request on route fails, and with what status.
// FailNext counters are used up before error rates are rolled.
func (f *faults) inject(route string) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range []string{route, AllRoutes} {
		if fn, ok := f.failNext[r]; ok {
			fn.n--
			if fn.n <= 0 {
				delete(f.failNext, r)
			}
			return fn.status, true
		}
	}
	er, ok := f.errorRate[route]
	if !ok {
		er, ok = f.errorRate[AllRoutes]
	}
	if ok && f.rng.Float64() < er.rate {
		return er.status, true
	}
	return 0, false
}
