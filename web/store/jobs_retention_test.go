package store

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/web/importjob"
)

// newImportJob uploads a small create file as a job and moves it to state.
func newImportJob(t *testing.T, st importjob.Store, file string, state importjob.State) importjob.Job {
	t.Helper()
	j, err := importjob.Prepare(t.Context(), st, importjob.Upload{File: strings.NewReader(file), Mode: importjob.ModeCreate,
		BatchSize: 10, Region: "DK", Limit: 1 << 20, CreatedBy: "lead@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != state {
		if j, err = st.SetState(t.Context(), j.ID, []importjob.State{j.State}, state); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

func countRows(t *testing.T, db *Store, jobID string) int {
	t.Helper()
	var n int
	if err := db.db.QueryRowContext(t.Context(), db.q(`SELECT COUNT(*) FROM job_rows WHERE job_id = ?`), jobID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportJobsRetention: the runner's sweep deletes, with their rows, the
// jobs that are ready, paused or finished and unchanged for longer than
// the retention, on the runner's clock, and keeps the others.
func TestImportJobsRetention(t *testing.T) {
	eachImportDB(t, func(t *testing.T, db *Store) {
		t0 := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
		db.now = func() time.Time { return t0 }
		st := db.ImportJobs()
		file := "email,firstName\nr1@example.com,A\nr2@example.com,B\n"
		byState := map[importjob.State]importjob.Job{}
		for _, s := range []importjob.State{importjob.StateChecking, importjob.StateReady, importjob.StateRunning,
			importjob.StatePaused, importjob.StateCancelled, importjob.StateDone, importjob.StateFailed} {
			byState[s] = newImportJob(t, st, file, s)
		}
		// A job that changed later is kept longer.
		db.now = func() time.Time { return t0.Add(24 * time.Hour) }
		later := newImportJob(t, st, file, importjob.StateDone)

		now := t0.Add(importjob.DefaultRetention)
		rn := importjob.NewRunner(st, nil, nil)
		rn.Now = func() time.Time { return now }
		if n, err := rn.Sweep(t.Context()); err != nil || n != 0 {
			t.Fatalf("sweep at exactly the retention: %d deleted (%v); want 0", n, err)
		}
		now = now.Add(time.Second)
		if n, err := rn.Sweep(t.Context()); err != nil || n != 5 {
			t.Fatalf("sweep after the retention: %d deleted (%v); want 5", n, err)
		}
		for s, j := range byState {
			_, err := st.Job(t.Context(), j.ID)
			kept := err == nil
			if want := !slices.Contains(importjob.Idle, s); kept != want {
				t.Errorf("%s job kept = %v (%v), want %v", s, kept, err, want)
			}
			if want := map[bool]int{true: 2, false: 0}[kept]; countRows(t, db, j.ID) != want {
				t.Errorf("%s job has %d rows, want %d", s, countRows(t, db, j.ID), want)
			}
		}
		if _, err := st.Job(t.Context(), later.ID); err != nil {
			t.Errorf("the job that changed a day later is gone: %v", err)
		}
	})
}

// TestScrubImportRows: once a person's erasure is verified, no import row
// holds their email, phone number, names or external ID: payloads go,
// problem texts that quote them are replaced, a row still to be sent
// becomes a problem so that it never is, and nobody else's row changes.
func TestScrubImportRows(t *testing.T) {
	eachImportDB(t, func(t *testing.T, db *Store) {
		st := db.ImportJobs()
		file := "email,phoneNumber,firstName,lastName,externalId\n" +
			"Alice@Example.com,+4520123456,Alice,Ørsted,@alice\n" + // row 2: to be sent
			"bob@example.com,+4520123457,Bob,Builder,bob-1\n" + // row 3: someone else
			"alice@example.com,,,,\n" + // row 4: a duplicate; its problem quotes the email
			"not-an-email,,Carl,,\n" // row 5: someone else's problem
		j := newImportJob(t, st, file, importjob.StateReady)
		rows, err := st.Rows(t.Context(), j.ID, importjob.RowQuery{})
		if err != nil || len(rows) != 4 || rows[0].Problem != "" || !strings.Contains(rows[2].Problem, "alice@example.com") {
			t.Fatalf("rows before = %+v (%v)", rows, err)
		}
		// Short or unrelated values change nothing.
		if n, err := db.ScrubImportRows(t.Context(), []string{"Bo", " ", "Al", "nobody@example.com"}); err != nil || n != 0 {
			t.Fatalf("scrub of unrelated values changed %d rows (%v); want 0", n, err)
		}
		n, err := db.ScrubImportRows(t.Context(), []string{"alice@example.com", "+4520123456", "Alice", "Ørsted", "@alice"})
		if err != nil || n != 2 {
			t.Fatalf("scrub changed %d rows (%v); want 2", n, err)
		}
		after, _ := st.Rows(t.Context(), j.ID, importjob.RowQuery{})
		if r := after[0]; !r.Item.IsZero() || r.Problem != importjob.ErasedNote || r.Kind != importjob.KindErased {
			t.Errorf("row 2 after = %+v; want no payload, an erased problem", r)
		}
		if r := after[2]; r.Problem != importjob.ErasedNote || r.Kind != importjob.KindDuplicate {
			t.Errorf("row 4 after = %+v; want the problem text replaced, its kind kept", r)
		}
		if !reflect.DeepEqual(after[1], rows[1]) || !reflect.DeepEqual(after[3], rows[3]) {
			t.Errorf("rows of others changed: %+v, %+v", after[1], after[3])
		}
		if pending, _ := st.Rows(t.Context(), j.ID, importjob.RowQuery{Filter: importjob.RowsPending}); len(pending) != 1 || pending[0].Num != 3 {
			t.Errorf("pending rows after the scrub = %+v; want only row 3", pending)
		}
		var left int
		err = db.db.QueryRowContext(t.Context(), db.q(`SELECT COUNT(*) FROM job_rows WHERE payload LIKE ? OR problem LIKE ? OR payload LIKE ?`),
			"%lice%", "%lice%", "%4520123456%").Scan(&left)
		if err != nil || left != 0 {
			t.Errorf("%d rows still hold the person (%v)", left, err)
		}
	})
}
