package apiclient_test

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

// 50 concurrent callers share one Limiter in front of the simulator, whose
// rate limit is Dixa's (10/s, burst 4), and the Limiter is given the same
// numbers: the simulator answers no 429 and every call succeeds. 60 calls
// take about 5.7s (3 at once, then 10/s).
func TestConcurrentCallersStayUnderRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~6s of wall time")
	}
	const (
		key     = "concurrency-test-key"
		callers = 50
		calls   = 60 // callers 0..9 make two calls
	)
	sim := dixasim.New(dixasim.Options{APIKey: key, RateLimit: 10, Burst: 4, Users: 100, RetryAfter: true})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	id, ok := sim.AnyUserID(func(apiclient.EndUser) bool { return true })
	if !ok {
		t.Fatal("simulator has no end users")
	}

	lim := apiclient.NewLimiter(10, 4)
	// Two clients on one limiter, as handlers and jobs would share it.
	newClient := func() *apiclient.Client {
		c, err := apiclient.New(srv.URL, apiclient.WithAPIKey(key), apiclient.WithLimiter(lim),
			apiclient.WithMaxWait(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	clients := []*apiclient.Client{newClient(), newClient()}

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range callers {
		c := clients[i%2]
		ctx := t.Context()
		if i%5 == 4 {
			ctx = apiclient.WithLowPriority(ctx) // a bulk job among the agents
		}
		n := 1
		if i < calls-callers {
			n = 2
		}
		wg.Go(func() {
			for j := range n {
				var err error
				if (i+j)%2 == 0 {
					_, err = c.GetEndUser(ctx, id)
				} else {
					_, err = c.ListEndUsers(ctx, apiclient.ListOptions{PageLimit: 5})
				}
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	elapsed := time.Since(start)
	for err := range errs {
		if err != nil {
			t.Errorf("call failed: %v", err)
		}
	}
	st := sim.Stats()
	if st.Total.Requests != calls {
		t.Errorf("simulator saw %d requests, want %d", st.Total.Requests, calls)
	}
	if st.Total.TooManyRequests != 0 {
		t.Errorf("simulator answered %d 429s, want 0", st.Total.TooManyRequests)
	}
	if st.Total.MaxPerSecond > 10+4 {
		t.Errorf("simulator saw %d requests in one second, want ≤ 14 (rate + burst)", st.Total.MaxPerSecond)
	}
	t.Logf("%d calls in %v; max %d per second", calls, elapsed.Round(time.Millisecond), st.Total.MaxPerSecond)
}
