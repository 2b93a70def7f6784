package dixasim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient/dixasim"
)

const getOne = "GET /endusers/{userId}"

var pathOne = "/v1/endusers/" + dixasim.DemoBusyUserID

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter bool
	}{
		{"without Retry-After", false},
		{"with Retry-After", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, dixasim.Options{RateLimit: 10, Burst: 4, RetryAfter: tt.retryAfter})
			for i := range 4 {
				if r := e.do("GET", pathOne, nil); r.Status != 200 {
					t.Fatalf("request %d: got %d, want 200 within the burst", i+1, r.Status)
				}
			}
			r := e.do("GET", pathOne, nil).want(t, 429)
			if got := r.message(t); got != "Too Many Requests" {
				t.Errorf("got %q, want %q", got, "Too Many Requests")
			}
			if got, want := r.Header.Get("Retry-After"), map[bool]string{true: "1"}[tt.retryAfter]; got != want {
				t.Errorf("got Retry-After %q, want %q", got, want)
			}
			e.clock.Advance(100 * time.Millisecond) // one token at 10/s
			e.do("GET", pathOne, nil).want(t, 200)
			e.do("GET", pathOne, nil).want(t, 429)
			e.clock.Advance(time.Second) // refills to the burst, not beyond
			for range 4 {
				e.do("GET", pathOne, nil).want(t, 200)
			}
			e.do("GET", pathOne, nil).want(t, 429)

			st := e.sim.Stats()
			if got := st.Routes[getOne].TooManyRequests; got != 3 {
				t.Errorf("got %d 429s in stats, want 3", got)
			}
			if got := st.Total.Requests; got != 12 {
				t.Errorf("got %d requests in stats, want 12", got)
			}
			// A bad key is refused before it can use up the bucket.
			e.clock.Advance(time.Second)
			for range 10 {
				e.doAuth("GET", pathOne, nil, "wrong").want(t, 401)
			}
			e.do("GET", pathOne, nil).want(t, 200)
		})
	}
}

func TestRateLimitOff(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	for range 50 {
		e.do("GET", pathOne, nil).want(t, 200)
	}
	if got := e.sim.Stats().Total.MaxPerSecond; got != 50 {
		t.Errorf("got MaxPerSecond %d on a frozen clock, want 50", got)
	}
}

func TestFailNext(t *testing.T) {
	e := newEnv(t, dixasim.Options{RetryAfter: true})
	e.sim.FailNext(getOne, 2, 500)
	e.sim.FailNext(dixasim.AllRoutes, 1, 503)
	for i, want := range []int{500, 500, 503, 200} {
		r := e.do("GET", pathOne, nil)
		if r.Status != want {
			t.Fatalf("request %d: got %d, want %d", i+1, r.Status, want)
		}
		if want == 500 && r.message(t) != "There was an internal server error while processing the request" {
			t.Errorf("got %q, want the spec's 500 message", r.message(t))
		}
	}
	e.sim.FailNext("GET /custom-attributes", 1, 429)
	r := e.do("GET", "/v1/custom-attributes", nil).want(t, 429)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("got no Retry-After on an injected 429 with RetryAfter on")
	}
	e.do("GET", "/v1/custom-attributes", nil).want(t, 200)
	// Unauthenticated requests meet the 401 first and use up nothing.
	e.sim.FailNext(getOne, 1, 502)
	e.doAuth("GET", pathOne, nil, "").want(t, 401)
	e.do("GET", pathOne, nil).want(t, 502)
}

func TestErrorRate(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	e.sim.SetErrorRate(getOne, 1, 500)
	e.do("GET", pathOne, nil).want(t, 500)
	e.do("GET", "/v1/custom-attributes", nil).want(t, 200) // other routes unaffected
	e.sim.SetErrorRate(getOne, 0, 500)
	e.do("GET", pathOne, nil).want(t, 200)

	e.sim.SetErrorRate(dixasim.AllRoutes, 0.5, 503)
	fails := 0
	for range 200 {
		if e.do("GET", "/v1/endusers/"+dixasim.DemoMinimalUserID, nil).Status == 503 {
			fails++
		}
	}
	if fails < 60 || fails > 140 {
		t.Errorf("got %d failures of 200 at rate 0.5, want about 100", fails)
	}
	e.sim.ResetFaults()
	e.do("GET", "/v1/custom-attributes", nil).want(t, 200)
}

func TestStorm429(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	e.sim.Storm429(3*time.Second, true)
	r := e.do("GET", pathOne, nil).want(t, 429)
	if got := r.Header.Get("Retry-After"); got != "3" {
		t.Errorf("got Retry-After %q, want 3 (the storm's seconds left)", got)
	}
	e.doAuth("GET", pathOne, nil, "").want(t, 429) // even without a key
	e.clock.Advance(2500 * time.Millisecond)
	if got := e.do("GET", pathOne, nil).want(t, 429).Header.Get("Retry-After"); got != "1" {
		t.Errorf("got Retry-After %q, want 1", got)
	}
	e.clock.Advance(time.Second)
	e.do("GET", pathOne, nil).want(t, 200)

	e.sim.Storm429(time.Minute, false)
	if got := e.do("GET", pathOne, nil).want(t, 429).Header.Get("Retry-After"); got != "" {
		t.Errorf("got Retry-After %q, want none", got)
	}
	e.sim.ResetFaults()
	e.do("GET", pathOne, nil).want(t, 200)
}

func TestLatency(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	e.sim.SetLatency(getOne, 30*time.Millisecond, 30*time.Millisecond)
	start := time.Now()
	e.do("GET", pathOne, nil).want(t, 200)
	if got := time.Since(start); got < 30*time.Millisecond {
		t.Errorf("got %v, want at least 30ms", got)
	}
	start = time.Now()
	e.do("GET", "/v1/custom-attributes", nil).want(t, 200)
	if got := time.Since(start); got > 25*time.Millisecond {
		t.Errorf("got %v on another route, want no delay", got)
	}

	e.sim.SetLatency(dixasim.AllRoutes, 10*time.Millisecond, 20*time.Millisecond)
	for range 5 {
		start = time.Now()
		e.do("GET", "/v1/custom-attributes", nil).want(t, 200)
		if got := time.Since(start); got < 10*time.Millisecond {
			t.Errorf("got %v, want at least 10ms", got)
		}
	}

	// The delay honours the request's context.
	e.sim.SetLatency(getOne, 10*time.Second, 10*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", pathOne, nil)
	req.Header.Set("Authorization", testKey)
	rec := httptest.NewRecorder()
	start = time.Now()
	e.sim.ServeHTTP(rec, req)
	if got := time.Since(start); got > time.Second {
		t.Errorf("got %v, want an early return when the client goes away", got)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("got body %q for a client that went away, want none", rec.Body)
	}
	e.sim.ResetFaults()
}

func TestStatsAndRequests(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	e.do("GET", pathOne, nil)
	e.clock.Advance(500 * time.Millisecond)
	e.do("GET", pathOne, nil)
	e.do("POST", "/v1/endusers?x=1", map[string]any{"displayName": "Recorded"})
	e.clock.Advance(600 * time.Millisecond) // the first falls out of the window
	e.do("GET", "/beta/endusers/"+dixasim.DemoMinimalUserID, nil)
	e.do("GET", "/v1/nowhere", nil)

	st := e.sim.Stats()
	if got := st.Routes[getOne]; got.Requests != 3 || got.MaxPerSecond != 2 {
		t.Errorf("got %+v for %s, want 3 requests, at most 2 a second", got, getOne)
	}
	if got := st.Routes["POST /endusers"].Requests; got != 1 {
		t.Errorf("got %d creates, want 1", got)
	}
	if got := st.Routes["unknown"].Requests; got != 1 {
		t.Errorf("got %d unknown, want 1", got)
	}
	if got := st.Total; got.Requests != 5 || got.MaxPerSecond != 4 {
		t.Errorf("got total %+v, want 5 requests, at most 4 a second", got)
	}

	reqs := e.sim.Requests()
	if len(reqs) != 5 {
		t.Fatalf("got %d recorded requests, want 5", len(reqs))
	}
	post := reqs[2]
	if post.Method != "POST" || post.Path != "/v1/endusers" || post.RawQuery != "x=1" || string(post.Body) != `{"displayName":"Recorded"}` {
		t.Errorf("got %+v, want the POST", post)
	}
	if post.Header.Get("Authorization") != "" || post.Header.Get("Content-Type") != "application/json" {
		t.Errorf("got headers %v, want Content-Type without Authorization", post.Header)
	}

	e.sim.ResetStats()
	if got := e.sim.Stats(); got.Total.Requests != 0 || len(got.Routes) != 0 || len(e.sim.Requests()) != 0 {
		t.Errorf("got %+v after reset, want nothing", got)
	}
	raw := e.outsideDocument() // validated above; 1100 times would be slow
	for range 1100 {
		raw.do("GET", "/v1/nowhere", nil)
	}
	if got := len(e.sim.Requests()); got != 1000 {
		t.Errorf("got %d recorded requests, want the last 1000", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	sim := dixasim.New(dixasim.Options{APIKey: testKey, Users: 200, AnonymizeDelay: time.Millisecond})
	h := http.Handler(sim)
	do := func(method, path, body string) int {
		req := httptest.NewRequestWithContext(t.Context(), method, path, stringsReader(body))
		req.Header.Set("Authorization", testKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	done := make(chan struct{})
	for w := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 40 {
				switch (w + i) % 6 {
				case 0:
					do("GET", "/v1/endusers?pageLimit=20", "")
				case 1:
					do("POST", "/v1/endusers", `{"displayName": "Concurrent"}`)
				case 2:
					do("PATCH", "/v1/endusers/"+dixasim.DemoBusyUserID, `{"lastName": "Racy"}`)
				case 3:
					do("GET", "/v1/endusers/"+dixasim.DemoBusyUserID+"/conversations", "")
				case 4:
					do("PATCH", "/v1/endusers/"+dixasim.DemoMinimalUserID+"/anonymize", "")
				case 5:
					sim.Stats()
					sim.Requests()
					sim.UserCount()
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	if got := sim.UserCount(); got < 200 {
		t.Errorf("got %d users, want at least 200", got)
	}
}
