package importjob

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// waitLog is a Store that notes each change of a job's waiting state as the
// runner saves it, so that short waits are not missed by polling.
type waitLog struct {
	Store
	mu      sync.Mutex
	changes []Job
}

func (s *waitLog) note(j Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.changes); n > 0 && s.changes[n-1].WaitingFor == j.WaitingFor && s.changes[n-1].WaitingSince.Equal(j.WaitingSince) {
		return
	}
	s.changes = append(s.changes, j)
}

func (s *waitLog) SaveJob(ctx context.Context, j Job) error {
	s.note(j)
	return s.Store.SaveJob(ctx, j)
}

func (s *waitLog) UpdateRows(ctx context.Context, id string, rows []Row, j *Job) error {
	if j != nil {
		s.note(*j)
	}
	return s.Store.UpdateRows(ctx, id, rows, j)
}

func (s *waitLog) reasons() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, j := range s.changes {
		out = append(out, j.WaitingFor)
	}
	return out
}

// TestImportWaitingDuringStorm: while Dixa answers 429 the job says it is
// waiting, rate limited, since the first refusal; once the storm is over
// the wait is cleared and every row is created once. It runs in a synctest
// bubble, so the storm's two seconds are fake and "the start of the wait
// does not move" is shown over time in which the runner kept retrying.
func TestImportWaitingDuringStorm(t *testing.T) {
	synctest.Test(t, testImportWaitingDuringStorm)
}

func testImportWaitingDuringStorm(t *testing.T) {
	env := newMemEnv(t, -1)
	st := &waitLog{Store: NewMemStore()}
	const n = 60
	j := prepare(t, st, ModeCreate, csvRows("wstorm", n), 10)
	skipCheck(t, st, j.ID)
	start(t, st, j.ID)
	const storm = 10 * time.Second // fake time: it costs nothing
	t0 := time.Now()
	env.sim.Storm429(storm, false)
	runInBackground(t, fastRunner(st, env.api))

	w := waitFor(t, st, j.ID, storm, "waiting during the storm", Job.Waiting)
	if time.Since(t0) >= storm {
		t.Fatalf("waiting reported only after the storm")
	}
	if w.WaitingFor != WaitRateLimited || w.OK != 0 {
		t.Errorf("during the storm: waiting for %q, ok %d; want %q, 0", w.WaitingFor, w.OK, WaitRateLimited)
	}
	if w.WaitingSince.Before(t0) || w.WaitingSince.After(time.Now()) {
		t.Errorf("waiting since %v; want since the storm began (%v)", w.WaitingSince, t0)
	}
	// A later refusal keeps the start of the wait.
	cur := waitFor(t, st, j.ID, storm-time.Since(t0), "another refusal during the storm", func(c Job) bool { return c.RateLimited > w.RateLimited })
	if !cur.Waiting() || !cur.WaitingSince.Equal(w.WaitingSince) {
		t.Errorf("waiting %v since %v; want still waiting since %v during one storm", cur.Waiting(), cur.WaitingSince, w.WaitingSince)
	}

	j = waitFor(t, st, j.ID, 30*time.Second, "done", func(j Job) bool { return j.State == StateDone })
	if j.Waiting() || !j.WaitingSince.IsZero() || j.WaitingFor != "" {
		t.Errorf("done job still waiting: %q since %v", j.WaitingFor, j.WaitingSince)
	}
	if j.OK != n || j.Failed != 0 || j.RateLimited == 0 {
		t.Errorf("ok %d failed %d rateLimited %d; want %d, 0, >0", j.OK, j.Failed, j.RateLimited, n)
	}
	// The first batch through cleared the wait.
	rs := st.reasons()
	if rs[len(rs)-1] != "" || !slices.Contains(rs, WaitRateLimited) || slices.Contains(rs, WaitFailing) || slices.Contains(rs, WaitRechecking) {
		t.Errorf("waiting changes = %q; want rate-limited, then cleared", rs)
	}
	checkExactlyOnce(t, env.sim, "wstorm", n)
}

// TestImportWaitingWhileDixaFails: a batch's answer is a 503 (its outcome
// is unknown: re-checking), then the re-check's lookups fail too (Dixa
// failing), then Dixa recovers: the wait keeps its start across the two
// reasons, is cleared once the rows are settled, and nothing is created
// twice.
func TestImportWaitingWhileDixaFails(t *testing.T) {
	env := newSimEnv(t, envOpts{})
	st := &waitLog{Store: NewMemStore()}
	const n = 30
	j := prepare(t, st, ModeCreate, csvRows("wfail", n), 10)
	st.SetState(t.Context(), j.ID, []State{StateChecking}, StateReady)
	env.sim.FailNext("POST /endusers/bulk", 1, http.StatusServiceUnavailable)
	// The client tries a GET 4 times: the re-check fails twice.
	env.sim.FailNext("GET /endusers", 8, http.StatusServiceUnavailable)
	start(t, st, j.ID)
	runInBackground(t, fastRunner(st, env.api))

	// Polled as the job page does: the re-check waits Settle first.
	waitFor(t, st, j.ID, 10*time.Second, "re-checking", func(j Job) bool { return j.Waiting() && j.WaitingFor == WaitRechecking })
	j = waitFor(t, st, j.ID, 30*time.Second, "done", func(j Job) bool { return j.State == StateDone })
	if j.Waiting() || !j.WaitingSince.IsZero() {
		t.Errorf("done job still waiting: %q since %v", j.WaitingFor, j.WaitingSince)
	}
	if j.OK != n || j.Failed != 0 || j.Rechecked == 0 {
		t.Errorf("ok %d failed %d rechecked %d; want %d, 0, >0", j.OK, j.Failed, j.Rechecked, n)
	}
	// Every change the runner saved: re-checking, then failing with the
	// same start, then cleared.
	st.mu.Lock()
	changes := slices.Clone(st.changes)
	st.mu.Unlock()
	var since time.Time
	var got []string
	for _, c := range changes {
		if c.WaitingFor == "" {
			if len(got) > 0 && got[len(got)-1] != "" {
				got = append(got, "")
			}
			continue
		}
		if len(got) == 0 || got[len(got)-1] == "" {
			since = c.WaitingSince
		} else if !c.WaitingSince.Equal(since) {
			t.Errorf("waiting for %s since %v; want the wait's start %v kept", c.WaitingFor, c.WaitingSince, since)
		}
		got = append(got, c.WaitingFor)
	}
	if want := []string{WaitRechecking, WaitFailing, ""}; !slices.Equal(got, want) {
		t.Errorf("waiting changes = %q; want %q", got, want)
	}
	checkExactlyOnce(t, env.sim, "wfail", n)
}

func TestWaitReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("send: %w", apiclient.ErrRateLimited), WaitRateLimited},
		{fmt.Errorf("send: %w", apiclient.ErrBreakerOpen), WaitFailing},
		{fmt.Errorf("send: %w", apiclient.ErrUpstream), WaitFailing},
		{fmt.Errorf("send: %w", context.DeadlineExceeded), WaitFailing},
	} {
		if got := waitReason(c.err); got != c.want {
			t.Errorf("waitReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	var j Job
	t0 := time.Date(2025, 3, 4, 10, 42, 5, 0, time.UTC)
	if !markWaiting(&j, WaitRateLimited, t0) || markWaiting(&j, WaitRateLimited, t0.Add(time.Second)) {
		t.Errorf("markWaiting reports changes wrongly")
	}
	since := j.WaitingSince
	markWaiting(&j, WaitFailing, t0.Add(2*time.Second))
	if !since.Equal(t0) || !j.WaitingSince.Equal(since) || j.WaitingFor != WaitFailing {
		t.Errorf("reason change: since %v → %v, for %q", since, j.WaitingSince, j.WaitingFor)
	}
	j.State = StatePaused
	if j.Waiting() {
		t.Errorf("a paused job reports waiting")
	}
	clearWaiting(&j)
	if j.State = StateRunning; j.Waiting() {
		t.Errorf("cleared job still waiting")
	}
}
