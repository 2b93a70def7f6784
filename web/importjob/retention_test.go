package importjob

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestRunnerSweepsOnItsClock: a running runner deletes a finished job once
// the retention has passed on its clock (checked every SweepEvery), not at
// exactly the retention, and keeps a job that changed later.
func TestRunnerSweepsOnItsClock(t *testing.T) {
	t0 := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	clock := &testClock{now: t0}
	st := NewMemStore()
	st.SetClock(clock.Now)
	file := "email,firstName\nr1@example.com,A\n"
	done := prepare(t, st, ModeCreate, file, 10)
	skipCheck(t, st, done.ID)
	if _, err := st.SetState(t.Context(), done.ID, []State{StateReady}, StateDone); err != nil {
		t.Fatal(err)
	}
	old := prepare(t, st, ModeCreate, file, 10) // left in checking: active

	rn := fastRunner(st, nil)
	rn.Now, rn.Retention, rn.SweepEvery = clock.Now, 7*24*time.Hour, time.Hour
	sweeps := &countingStore{Store: st}
	rn.Store = sweeps
	// A checking job would be claimed, and there is no Dixa to ask: the
	// runner here only sweeps.
	if _, err := st.SetState(t.Context(), old.ID, []State{StateChecking}, StatePaused); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(7 * 24 * time.Hour)) // exactly the retention: kept
	runInBackground(t, rn)
	sweeps.waitSweeps(t, 1)
	if _, err := st.Job(t.Context(), done.ID); err != nil {
		t.Fatalf("job deleted at exactly the retention: %v", err)
	}
	// A job changed a day later is kept a day longer.
	clock.Set(t0.Add(24 * time.Hour))
	cur, _ := st.Job(t.Context(), old.ID)
	if err := st.SaveJob(t.Context(), cur); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(7*24*time.Hour + time.Hour + time.Second)) // the next sweep is due

	sweeps.waitSweeps(t, 2)
	if _, err := st.Job(t.Context(), done.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the finished job is still there after the retention: %v", err)
	}
	if _, err := st.Job(t.Context(), old.ID); err != nil {
		t.Errorf("the job changed a day later was deleted: %v", err)
	}
}

// countingStore counts the runner's sweeps.
type countingStore struct {
	Store
	mu sync.Mutex
	n  int
}

func (s *countingStore) PurgeJobs(ctx context.Context, states []State, before time.Time) (int, error) {
	n, err := s.Store.PurgeJobs(ctx, states, before)
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return n, err
}

// waitSweeps waits until the runner has swept n times.
func (s *countingStore) waitSweeps(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		s.mu.Lock()
		got := s.n
		s.mu.Unlock()
		if got >= n {
			return
		}
	}
	t.Fatalf("the runner did not sweep %d times within 10s", n)
}
