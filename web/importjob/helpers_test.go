package importjob

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

const testKey = "bulk-test-key"

// simEnv is a simulator behind an HTTP server, and a client for it.
type simEnv struct {
	sim *dixasim.Sim
	api *apiclient.Client
	srv *httptest.Server
}

type envOpts struct {
	users      int           // sim users (-1 none)
	simRPS     float64       // sim's own rate limit (0 off)
	clientRPS  float64       // console's limiter (0: 1000)
	burst      int           // 0: 4
	timeout    time.Duration // client per-request timeout
	wrap       func(http.Handler) http.Handler
	clientOpts []apiclient.Option
}

func newSimEnv(t testing.TB, o envOpts) *simEnv {
	t.Helper()
	if o.users == 0 {
		o.users = -1
	}
	sim := dixasim.New(dixasim.Options{APIKey: testKey, Users: o.users, RateLimit: o.simRPS, Burst: o.burst})
	var h http.Handler = sim
	if o.wrap != nil {
		h = o.wrap(sim)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rps, burst := o.clientRPS, o.burst
	if rps == 0 {
		rps, burst = 1000, 50
	}
	if burst == 0 {
		burst = 4
	}
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	opts := append([]apiclient.Option{apiclient.WithAPIKey(testKey), apiclient.WithLimiter(apiclient.NewLimiter(rps, burst)),
		apiclient.WithTimeout(o.timeout), apiclient.WithBreaker(1000, time.Millisecond)}, o.clientOpts...)
	api, err := apiclient.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &simEnv{sim: sim, api: api, srv: srv}
}

// handlerTransport serves requests with an http.Handler in memory. Unlike
// a real network it keeps everything inside a synctest bubble, so fake
// time advances while a handler waits. It reports WroteHeaders like the
// real transport, so the client sees the request as sent.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteHeaders != nil {
		tr.WroteHeaders()
	}
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	sreq.Host = req.URL.Host
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.h.ServeHTTP(rec, sreq)
	}()
	select {
	case <-done:
		resp := rec.Result()
		resp.Request = req
		return resp, nil
	case <-req.Context().Done():
		<-done // the simulator honours the context; nothing outlives the call
		return nil, req.Context().Err()
	}
}

// newMemEnv is newSimEnv without a network: the simulator serves the
// client in memory, so that the whole test can run in a synctest bubble
// (call it inside the bubble).
func newMemEnv(t testing.TB, users int) *simEnv {
	t.Helper()
	if users == 0 {
		users = -1
	}
	sim := dixasim.New(dixasim.Options{APIKey: testKey, Users: users})
	api, err := apiclient.New("https://dixa.test", apiclient.WithAPIKey(testKey),
		apiclient.WithHTTPClient(&http.Client{Transport: handlerTransport{sim}}),
		apiclient.WithLimiter(apiclient.NewLimiter(1000, 50)), apiclient.WithTimeout(5*time.Second),
		apiclient.WithBreaker(1000, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return &simEnv{sim: sim, api: api}
}

// csvRows builds a create file of n customers with unique emails, phones
// and external ids (prefix keeps files of one test apart).
func csvRows(prefix string, n int) string {
	var b strings.Builder
	b.WriteString("email,phoneNumber,firstName,lastName,externalId\n")
	for i := range n {
		fmt.Fprintf(&b, "%s%d@example.com,+4531%06d,First%d,Last%d,%s-%d\n", prefix, i, i, i, i, prefix, i)
	}
	return b.String()
}

// prepare runs the upload step on a file.
func prepare(t testing.TB, st Store, mode Mode, file string, batch int) Job {
	t.Helper()
	j, err := Prepare(t.Context(), st, Upload{File: strings.NewReader(file), FileName: "t.csv", Mode: mode,
		BatchSize: batch, Region: "DK", Limit: 20 << 20, CreatedBy: "lead@example.com", CreatedByName: "Lead"})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return j
}

// runUntil runs a runner until the job reaches one of the states (or the
// timeout), then stops it.
func runUntil(t testing.TB, rn *Runner, st Store, id string, timeout time.Duration, states ...State) Job {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rn.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		j, err := st.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if j.State == s {
				return j
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	j, _ := st.Job(context.Background(), id)
	t.Fatalf("job still %s after %s (ok %d failed %d of %d)", j.State, timeout, j.OK, j.Failed, j.Eligible())
	return j
}

func start(t testing.TB, st Store, id string) {
	t.Helper()
	if _, err := st.SetState(t.Context(), id, []State{StateReady, StatePaused}, StateRunning); err != nil {
		t.Fatalf("start: %v", err)
	}
}

// skipCheck moves a job past its dry run's check, when that is not what a
// test is about.
func skipCheck(t testing.TB, st Store, id string) {
	t.Helper()
	if _, err := st.SetState(t.Context(), id, []State{StateChecking}, StateReady); err != nil {
		t.Fatalf("skip the check: %v", err)
	}
}

// runInBackground runs a runner until the test ends.
func runInBackground(t testing.TB, rn *Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rn.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls the job until cond holds, and fails the test when it does
// not within timeout.
func waitFor(t testing.TB, st Store, id string, timeout time.Duration, what string, cond func(Job) bool) Job {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		j, err := st.Job(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(j) {
			return j
		}
	}
	j, _ := st.Job(t.Context(), id)
	t.Fatalf("%s: never happened within %s (state %s, ok %d, waiting %q since %v)", what, timeout, j.State, j.OK, j.WaitingFor, j.WaitingSince)
	return j
}

func fastRunner(st Store, api API) *Runner {
	rn := NewRunner(st, api, nil)
	rn.Poll = 20 * time.Millisecond
	rn.Backoff = 50 * time.Millisecond
	rn.Settle = 150 * time.Millisecond
	return rn
}

// emailCounts counts the simulator's customers per email with prefix.
func emailCounts(sim *dixasim.Sim, prefix string) map[string]int {
	c := map[string]int{}
	sim.AnyUserID(func(u apiclient.EndUser) bool {
		if strings.HasPrefix(u.Email, prefix) {
			c[u.Email]++
		}
		return false
	})
	return c
}

// checkExactlyOnce fails unless each of the n rows' customers exists once.
func checkExactlyOnce(t testing.TB, sim *dixasim.Sim, prefix string, n int) (dups, lost int) {
	t.Helper()
	c := emailCounts(sim, prefix)
	for i := range n {
		switch k := c[fmt.Sprintf("%s%d@example.com", prefix, i)]; {
		case k == 0:
			lost++
		case k > 1:
			dups += k - 1
		}
	}
	if dups != 0 || lost != 0 {
		t.Errorf("duplicates %d, lost %d; want 0, 0", dups, lost)
	}
	return dups, lost
}

// allRows returns every row of a job.
func allRows(t testing.TB, st Store, id string) []Row {
	t.Helper()
	rows, err := st.Rows(t.Context(), id, RowQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
