package importjob

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestHeartbeatKeepsAndLosesTheLease: on the bubble's clock, a runner
// working on a job for many lease lifetimes keeps it (no other runner can
// claim it); once another runner has the job, the work's context is
// cancelled within a lease lifetime.
func TestHeartbeatKeepsAndLosesTheLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		st := NewMemStore()
		if err := st.CreateJob(ctx, Job{ID: "j1", State: StateRunning}); err != nil {
			t.Fatal(err)
		}
		r := NewRunner(st, nil, nil)
		r.LeaseTTL = 3 * time.Second
		if _, ok, err := st.Claim(ctx, r.owner, []State{StateRunning}, r.LeaseTTL); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		wctx, stop := r.heartbeat(ctx, "j1")
		defer stop()
		time.Sleep(5 * r.LeaseTTL) // the work goes on, the heartbeat renews
		if _, ok, _ := st.Claim(ctx, "other", []State{StateRunning}, r.LeaseTTL); ok {
			t.Fatal("another runner claimed a job whose lease is renewed")
		}
		if wctx.Err() != nil {
			t.Fatal("work cancelled while the lease was held")
		}
		// The lease is lost (e.g. renewals failed while the database was
		// away and another runner took the job).
		st.Release(ctx, "j1", r.owner)
		if _, ok, _ := st.Claim(ctx, "other", []State{StateRunning}, r.LeaseTTL); !ok {
			t.Fatal("the released job could not be claimed")
		}
		select {
		case <-wctx.Done():
		case <-time.After(r.LeaseTTL):
			t.Fatal("work not stopped within a lease lifetime of losing the lease")
		}
	})
}
