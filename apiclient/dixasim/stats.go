package dixasim

import (
	"net/http"
	"sync"
	"time"
)

// Stats counts what the simulator answered since it started or since the
// last ResetStats.
type Stats struct {
	// Total covers every request.
	Total RouteStats
	// Routes is keyed by route template without version prefix, e.g.
	// "GET /endusers/{userId}"; requests matching no route count as
	// "unknown".
	Routes map[string]RouteStats
}

// RouteStats counts the requests of one route (or of all of them).
type RouteStats struct {
	// Requests is the number of requests received.
	Requests int
	// TooManyRequests is the number answered with 429, whether by the rate
	// limit, a storm or an injected failure.
	TooManyRequests int
	// MaxPerSecond is the most requests received within any one-second
	// sliding window: a client that respects a 10 rps limit keeps it
	// within the rate plus the burst.
	MaxPerSecond int
}

// RecordedRequest is a request as the simulator received it.
type RecordedRequest struct {
	Time     time.Time
	Method   string
	Path     string
	RawQuery string
	Header   http.Header // without Authorization
	Body     []byte
}

// recordedCap bounds the ring of recorded requests.
const recordedCap = 1000

// recorder keeps the statistics and the last requests.
type recorder struct {
	mu     sync.Mutex
	total  counter
	routes map[string]*counter
	ring   []RecordedRequest // circular once full; next is the oldest
	next   int
}

type counter struct {
	RouteStats
	window []time.Time // arrivals in the last second
}

func newRecorder() *recorder {
	return &recorder{routes: map[string]*counter{}}
}

func (c *counter) arrive(now time.Time) {
	c.Requests++
	cut := 0
	for cut < len(c.window) && !c.window[cut].After(now.Add(-time.Second)) {
		cut++
	}
	c.window = append(c.window[cut:], now)
	c.MaxPerSecond = max(c.MaxPerSecond, len(c.window))
}

// begin counts a request arriving on route.
func (rc *recorder) begin(route string, now time.Time) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	c, ok := rc.routes[route]
	if !ok {
		c = &counter{}
		rc.routes[route] = c
	}
	c.arrive(now)
	rc.total.arrive(now)
}

// end counts the answer's status.
func (rc *recorder) end(route string, status int) {
	if status != http.StatusTooManyRequests {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if c, ok := rc.routes[route]; ok { // not if stats were reset meanwhile
		c.TooManyRequests++
		rc.total.TooManyRequests++
	}
}

// recordRequest keeps r (with its already-read body) in the ring.
func (rc *recorder) recordRequest(r *http.Request, body []byte, now time.Time) {
	h := r.Header.Clone()
	h.Del("Authorization")
	rr := RecordedRequest{
		Time:     now,
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   h,
		Body:     body,
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.ring) < recordedCap {
		rc.ring = append(rc.ring, rr)
		return
	}
	rc.ring[rc.next] = rr
	rc.next = (rc.next + 1) % recordedCap
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	rc := s.stats
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := Stats{Total: rc.total.RouteStats, Routes: make(map[string]RouteStats, len(rc.routes))}
	for k, c := range rc.routes {
		out.Routes[k] = c.RouteStats
	}
	return out
}

// Requests returns the last requests received (at most 1000), oldest first.
// Bodies are shared with the simulator's record and must not be modified.
func (s *Sim) Requests() []RecordedRequest {
	rc := s.stats
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]RecordedRequest, 0, len(rc.ring))
	out = append(out, rc.ring[rc.next:]...)
	out = append(out, rc.ring[:rc.next]...)
	for i := range out {
		out[i].Header = out[i].Header.Clone()
	}
	return out
}

// ResetStats clears the counters and the recorded requests.
func (s *Sim) ResetStats() {
	rc := s.stats
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.total = counter{}
	clear(rc.routes)
	rc.ring = nil
	rc.next = 0
}
