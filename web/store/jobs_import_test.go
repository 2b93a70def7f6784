package store

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/importjob"
)

// TestImportJobsRestart runs an import on the store (SQLite, and
// PostgreSQL when TEST_DATABASE_URL is set), stops the runner twice in the
// middle of a batch, reopens the database (a console restart) and finishes
// with a new runner: every row exactly once.
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

func testImportJobsRestart(t *testing.T, reopen func() (*Store, error)) {
	sim := dixasim.New(dixasim.Options{APIKey: "k", Users: -1})
	sim.SetLatency("POST /endusers/bulk", 25*time.Millisecond, 25*time.Millisecond)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
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
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			cur, err := st.Job(context.Background(), j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if until(cur) {
				return cur
			}
		}
		t.Fatal("timed out")
		return importjob.Job{}
	}
	for round := 0; round < 2; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		rn := newRunner(st)
		done := make(chan struct{})
		go func() { rn.Run(ctx); close(done) }()
		if round == 0 {
			wait(st, func(c importjob.Job) bool { return c.State == importjob.StateReady })
			if _, err := st.SetState(t.Context(), j.ID, []string{importjob.StateReady}, importjob.StateRunning); err != nil {
				t.Fatal(err)
			}
			rn.Wake()
		}
		wait(st, func(c importjob.Job) bool { return c.OK >= (round+1)*n/3 })
		time.Sleep(12 * time.Millisecond) // mid-request
		cancel()
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
	if final.OK != n || final.Failed != 0 {
		t.Errorf("ok %d failed %d; want %d, 0", final.OK, final.Failed, n)
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
	if _, err := st.SetState(t.Context(), j.ID, []string{importjob.StateChecking}, importjob.StateRunning); err != nil {
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
