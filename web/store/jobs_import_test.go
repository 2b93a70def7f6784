package store

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/importjob"
)

// importPostgres returns the PostgreSQL server the import store tests also
// run on (TEST_DATABASE_URL). Without one they run on SQLite only, except
// in CI (CI=true), where its absence fails the run.
func importPostgres(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set: CI must run the store tests on PostgreSQL too")
		}
		t.Skip("TEST_DATABASE_URL not set")
	}
	return u
}

// eachImportDB runs fn on a fresh SQLite store and on a fresh schema of
// the PostgreSQL at TEST_DATABASE_URL.
func eachImportDB(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres(t, importPostgres(t))) })
}

// TestImportJobsRestart runs an import on the store (SQLite and
// PostgreSQL), stops the runner twice in the middle of a batch (once after
// Dixa applied it, once before it reached Dixa), reopens the database (a
// console restart) and finishes with a new runner: every row exactly once.
func TestImportJobsRestart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		testImportJobsRestart(t, func() (*Store, error) { return Open(t.Context(), dir, "") })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, dir := postgresSchema(t, postgresURL(t)), t.TempDir()
		testImportJobsRestart(t, func() (*Store, error) { return Open(t.Context(), dir, dsn) })
	})
}

// bulkGate holds a bulk request after arm(): it reaches the
// simulator first when apply is set, or never, and is then kept waiting
// until the client gives up, as a request is when the console shuts down
// in the middle of it.
type bulkGate struct {
	mu      sync.Mutex
	armed   bool
	skip    int // bulk requests to let through before the one held
	apply   bool
	entered chan struct{}
	stop    chan struct{} // closed when the test ends
}

// arm makes the gate hold the bulk request after the next skip ones.
func (g *bulkGate) arm(skip int, apply bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.skip, g.apply, g.entered = true, skip, apply, make(chan struct{})
}

// held returns once the gate holds a request.
func (g *bulkGate) held(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	entered := g.entered
	g.mu.Unlock()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("no bulk request reached the gate within 20s")
	}
}

// waitImportJob polls the job until until holds, failing the test after 20s.
func waitImportJob(t *testing.T, st importjob.Store, id string, until func(importjob.Job) bool) importjob.Job {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		cur, err := st.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if until(cur) {
			return cur
		}
	}
	cur, _ := st.Job(context.Background(), id)
	t.Fatalf("timed out after 20s: job %s, ok %d", cur.State, cur.OK)
	return importjob.Job{}
}

func (g *bulkGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		held := g.armed && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/endusers/bulk")
		if held && g.skip > 0 {
			g.skip, held = g.skip-1, false
		}
		apply, entered := g.apply, g.entered
		if held {
			g.armed = false
		}
		g.mu.Unlock()
		if !held {
			next.ServeHTTP(w, r)
			return
		}
		if apply {
			next.ServeHTTP(httptest.NewRecorder(), r)
		}
		io.Copy(io.Discard, r.Body) // so that the server notices the client going away
		close(entered)
		select {
		case <-r.Context().Done():
		case <-g.stop:
		}
	})
}

func testImportJobsRestart(t *testing.T, reopen func() (*Store, error)) {
	sim := dixasim.New(dixasim.Options{APIKey: "k", Users: -1})
	gate := &bulkGate{stop: make(chan struct{})}
	srv := httptest.NewServer(gate.wrap(sim))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(gate.stop) }) // before the server closes
	api, err := apiclient.New(srv.URL, apiclient.WithAPIKey("k"), apiclient.WithLimiter(apiclient.NewLimiter(1000, 50)))
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	var b strings.Builder
	b.WriteString("email,firstName,attr.nothing\n")
	for i := range n {
		fmt.Fprintf(&b, "sq%d@example.com,N%d,\n", i, i)
	}

	open := func() (*Store, importjob.Store) {
		s, err := reopen()
		if err != nil {
			t.Fatal(err)
		}
		return s, s.ImportJobs()
	}
	db, st := open()
	j, err := importjob.Prepare(t.Context(), st, importjob.Upload{File: strings.NewReader(b.String()), Mode: importjob.ModeCreate,
		BatchSize: 10, Region: "DK", Limit: 1 << 20, CreatedBy: "lead@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Unknown) != 1 || j.Total != n {
		t.Fatalf("job = %+v", j)
	}
	if got, _ := st.Job(t.Context(), j.ID); got.State != importjob.StateChecking || got.CheckCost != n {
		t.Fatalf("stored job: state %s cost %d", got.State, got.CheckCost)
	}
	newRunner := func(st importjob.Store) *importjob.Runner {
		rn := importjob.NewRunner(st, api, nil)
		rn.Poll, rn.Backoff, rn.Settle = 10*time.Millisecond, 20*time.Millisecond, 150*time.Millisecond
		return rn
	}
	wait := func(st importjob.Store, until func(importjob.Job) bool) importjob.Job {
		t.Helper()
		return waitImportJob(t, st, j.ID, until)
	}
	for round := 0; round < 2; round++ {
		// Each runner gets 3 batches through; the 4th is on the wire when
		// it stops.
		gate.arm(3, round == 0)
		ctx, cancel := context.WithCancel(context.Background())
		rn := newRunner(st)
		done := make(chan struct{})
		go func() { rn.Run(ctx); close(done) }()
		if round == 0 {
			wait(st, func(c importjob.Job) bool { return c.State == importjob.StateReady })
			if _, err := st.SetState(t.Context(), j.ID, []importjob.State{importjob.StateReady}, importjob.StateRunning); err != nil {
				t.Fatal(err)
			}
			rn.Wake()
		}
		gate.held(t)
		cancel() // in the middle of the request
		<-done
	}
	db.Close()

	db, st = open()
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	rn := newRunner(st)
	done := make(chan struct{})
	go func() { rn.Run(ctx); close(done) }()
	final := wait(st, func(c importjob.Job) bool { return c.State == importjob.StateDone })
	cancel()
	<-done
	if final.OK != n || final.Failed != 0 || final.Rechecked != 20 {
		t.Errorf("ok %d failed %d rechecked %d; want %d, 0, 20", final.OK, final.Failed, final.Rechecked, n)
	}
	counts := map[string]int{}
	sim.AnyUserID(func(u apiclient.EndUser) bool { counts[u.Email]++; return false })
	for i := range n {
		if c := counts[fmt.Sprintf("sq%d@example.com", i)]; c != 1 {
			t.Errorf("sq%d exists %d times; want once", i, c)
		}
	}
	var res strings.Builder
	if err := importjob.WriteResults(t.Context(), st, final, &res); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(res.String(), "\n"); lines != n+1 || strings.Count(res.String(), ",created,") != n {
		t.Errorf("results.csv has %d lines, %d created", lines, strings.Count(res.String(), ",created,"))
	}
	if kept := countPayloads(t, db, j.ID); kept != 0 {
		t.Errorf("%d finished rows keep their payload; want none", kept)
	}
}

// countPayloads counts the rows of a job whose payload is stored.
func countPayloads(t *testing.T, db *Store, jobID string) int {
	t.Helper()
	var n int
	if err := db.db.QueryRowContext(t.Context(), db.q(`SELECT COUNT(*) FROM job_rows WHERE job_id = ? AND payload <> ''`), jobID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportJobsWaiting: the runner's "waiting for Dixa" state is kept
// with the job (in its params) and cleared for good, on SQLite and, when
// TEST_DATABASE_URL is set, PostgreSQL.
func TestImportJobsWaiting(t *testing.T) {
	run := func(t *testing.T, dsn string) {
		db, err := Open(t.Context(), t.TempDir(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		st := db.ImportJobs()
		j, err := importjob.Prepare(t.Context(), st, importjob.Upload{File: strings.NewReader("email\nw@example.com\n"), Mode: importjob.ModeCreate,
			BatchSize: 10, Region: "DK", Limit: 1 << 20, CreatedBy: "lead@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		since := time.Date(2025, 3, 4, 10, 42, 5, 0, time.UTC)
		j.WaitingSince, j.WaitingFor = since, importjob.WaitRateLimited
		if err := st.SaveJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
		got, err := st.Job(t.Context(), j.ID)
		if err != nil || !got.WaitingSince.Equal(since) || got.WaitingFor != importjob.WaitRateLimited {
			t.Fatalf("stored: waiting for %q since %v (%v); want %q since %v", got.WaitingFor, got.WaitingSince, err, importjob.WaitRateLimited, since)
		}
		got.WaitingSince, got.WaitingFor = time.Time{}, ""
		if err := st.UpdateRows(t.Context(), j.ID, nil, &got); err != nil {
			t.Fatal(err)
		}
		if got, _ = st.Job(t.Context(), j.ID); !got.WaitingSince.IsZero() || got.WaitingFor != "" {
			t.Errorf("cleared: waiting for %q since %v", got.WaitingFor, got.WaitingSince)
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "") })
	t.Run("postgres", func(t *testing.T) {
		run(t, postgresSchema(t, postgresURL(t)))
	})
}

// TestImportLoadSQLite imports 10,000 rows through the SQLite store against
// the simulator with Dixa's rate limit (10/s, burst 4) on both sides, and
// reports the time against the floor (rows ÷ batch size ÷ 10/s):
//
//	IMPORT_LOAD=1 go test -run TestImportLoadSQLite -v ./web/store/
func TestImportLoadSQLite(t *testing.T) {
	if os.Getenv("IMPORT_LOAD") == "" {
		t.Skip("set IMPORT_LOAD=1 to run the 10,000-row load test")
	}
	const n, batch = 10000, 100
	sim := dixasim.New(dixasim.Options{APIKey: "k", Users: -1, RateLimit: 10, Burst: 4})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	api, err := apiclient.New(srv.URL, apiclient.WithAPIKey("k"), apiclient.WithLimiter(apiclient.NewLimiter(10, 4)))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := db.ImportJobs()
	var b strings.Builder
	b.WriteString("email,phoneNumber,firstName,lastName,externalId\n")
	for i := range n {
		fmt.Fprintf(&b, "load%d@example.com,+4531%06d,F%d,L%d,ext-%d\n", i, i, i, i, i)
	}
	t0 := time.Now()
	j, err := importjob.Prepare(t.Context(), st, importjob.Upload{File: strings.NewReader(b.String()), Mode: importjob.ModeCreate,
		BatchSize: batch, Region: "DK", Limit: 20 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("upload and validation of %d rows into SQLite: %s", n, time.Since(t0).Round(time.Millisecond))
	// The dry run's check (30,000 identifiers: a scan of the empty list) is
	// not what this measures.
	if _, err := st.SetState(t.Context(), j.ID, []importjob.State{importjob.StateChecking}, importjob.StateRunning); err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	rn := importjob.NewRunner(st, api, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t0 = time.Now()
	go func() { rn.Run(ctx); close(done) }()
	for {
		cur, err := st.Job(t.Context(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.State == importjob.StateDone {
			j = cur
			break
		}
		if time.Since(t0) > 5*time.Minute {
			t.Fatalf("not done after 5 min: ok %d", cur.OK)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(t0)
	cancel()
	<-done
	floor := time.Duration(float64(n) / batch / 10 * float64(time.Second))
	counts := map[string]int{}
	sim.AnyUserID(func(u apiclient.EndUser) bool { counts[u.Email]++; return false })
	dups, lost := 0, 0
	for i := range n {
		switch c := counts[fmt.Sprintf("load%d@example.com", i)]; {
		case c == 0:
			lost++
		case c > 1:
			dups += c - 1
		}
	}
	s := sim.Stats()
	t.Logf("rows %d, batch %d: %s (floor %s, %+.1f%%); requests %d, 429s %d, max/s %d; ok %d failed %d; duplicates %d, lost %d",
		n, batch, took.Round(time.Millisecond), floor, (took.Seconds()/floor.Seconds()-1)*100,
		s.Total.Requests, s.Total.TooManyRequests, s.Total.MaxPerSecond, j.OK, j.Failed, dups, lost)
	if dups != 0 || lost != 0 || j.OK != n {
		t.Errorf("duplicates %d lost %d ok %d", dups, lost, j.OK)
	}
}
