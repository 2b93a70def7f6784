package erasure_test

import (
	"context"
	"testing"
	"time"

	"github.com/example/dixa-console/web/erasure"
)

// stuck makes the state a crash leaves behind: the request approved by a
// second lead, the console gone before it recorded Dixa's answer. With
// reached, the anonymize call did reach Dixa.
func (f *fixture) stuck(t *testing.T, name, email, phone string, reached bool) erasure.Erasure {
	t.Helper()
	u := f.subject(t, name, email, phone)
	e := f.request(t, u)
	e, err := f.st.Transition(t.Context(), e.ID, erasure.Requested, func(x *erasure.Erasure) error {
		x.State, x.DecidedByID, x.DecidedByName, x.DecidedAt = erasure.Approved, approver, "Lee Two", f.clock.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if reached {
		if _, err := f.api.AnonymizeEndUser(t.Context(), u.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// TestReconcileStuckApproved: requests left in approved by a crash are
// looked up in Dixa after the grace period, never re-sent by the tracker:
// one that reached Dixa and was processed moves on to verified; one that
// did not goes back for approval with the reason recorded, and its
// re-approval checks Dixa before sending; an approval younger than the
// grace period (a call that may still be in flight) is left alone.
func TestReconcileStuckApproved(t *testing.T) {
	f := newFixture(t, time.Minute)
	reached := f.stuck(t, "Rita Reached", "rita.reached@example.com", "+4520771201", true)
	lost := f.stuck(t, "Luke Lost", "luke.lost@example.com", "+4520771202", false)
	if f.anonymizeCalls() != 1 {
		t.Fatalf("setup: %d anonymize calls", f.anonymizeCalls())
	}

	// Within the grace period nothing moves: the call may be in flight.
	f.clock.Advance(2 * time.Minute)
	if n, err := f.svc.Reconcile(t.Context()); n != 0 || err != nil {
		t.Fatalf("Reconcile within the grace period moved %d (%v)", n, err)
	}

	f.clock.Advance(5 * time.Minute)
	if n, err := f.svc.Reconcile(t.Context()); n != 2 || err != nil {
		t.Fatalf("Reconcile moved %d (%v), want 2", n, err)
	}
	if e := f.state(t, reached.ID); e.State != erasure.Processed {
		t.Errorf("reached: state %s, want processed", e.State)
	}
	if e := f.settle(t, reached.ID); e.State != erasure.Verified {
		t.Errorf("reached: state %s after the passes (%s), want verified", e.State, e.Failure)
	}
	e := f.state(t, lost.ID)
	if e.State != erasure.Requested || !e.MaybeSent || e.Failure == "" || e.DecidedByID != "" {
		t.Errorf("lost: %s maybeSent=%v decidedBy=%q failure=%q; want back in requested with the reason", e.State, e.MaybeSent, e.DecidedByID, e.Failure)
	}
	if ev := f.audit.of(lost.ID, erasure.ActReconciled); len(ev) != 1 || ev[0].Details["to"] != "requested" || !ev[0].System {
		t.Errorf("lost: audit %+v, want one erasure.reconciled to requested", ev)
	}
	if ev := f.audit.of(reached.ID, erasure.ActReconciled); len(ev) != 1 || ev[0].Details["to"] != "processed" {
		t.Errorf("reached: audit %+v, want one erasure.reconciled to processed", ev)
	}
	if n := f.anonymizeCalls(); n != 1 {
		t.Fatalf("%d anonymize calls after reconciliation, want still 1", n)
	}

	// A lead approves the lost one again: Dixa is checked, then called.
	e, err := f.svc.Approve(t.Context(), lost.ID, erasure.Actor{ID: approver}, "again")
	if err != nil || e.State != erasure.Submitted || e.MaybeSent {
		t.Fatalf("re-approval: %s maybeSent=%v %v; want submitted", e.State, e.MaybeSent, err)
	}
	if n := f.anonymizeCalls(); n != 2 {
		t.Errorf("%d anonymize calls, want 2", n)
	}
}

// TestReconcileQueuedThenProcessed: the call reached Dixa, which had not
// processed it when the tracker looked, so the request went back for
// approval; by the time a lead approves again Dixa has processed it, and
// the approval sends nothing.
func TestReconcileQueuedThenProcessed(t *testing.T) {
	f := newFixture(t, time.Hour)
	e := f.stuck(t, "Quinn Queued", "quinn.queued@example.com", "+4520771203", true)
	f.clock.Advance(10 * time.Minute)
	if n, err := f.svc.Reconcile(t.Context()); n != 1 || err != nil {
		t.Fatalf("Reconcile = %d, %v", n, err)
	}
	if st := f.state(t, e.ID).State; st != erasure.Requested {
		t.Fatalf("state %s, want requested", st)
	}
	f.clock.Advance(time.Hour)
	e, err := f.svc.Approve(t.Context(), e.ID, erasure.Actor{ID: approver}, "")
	if err != nil || e.State != erasure.Processed {
		t.Fatalf("re-approval: %s %v, want processed without a call", e.State, err)
	}
	if n := f.anonymizeCalls(); n != 1 {
		t.Errorf("%d anonymize calls, want 1", n)
	}
	if e = f.settle(t, e.ID); e.State != erasure.Verified {
		t.Errorf("state %s, want verified", e.State)
	}
}

// TestOutcomeUnknownIsReconciled: Dixa's answer to the anonymize call is
// lost (timeout after sending). The request stays approved, marked; the
// tracker then finds the customer anonymized and moves it on, with the
// one call only.
func TestOutcomeUnknownIsReconciled(t *testing.T) {
	f := newFixture(t, time.Minute)
	f.svc.Dixa = anonymizeLost{f.api}
	u := f.subject(t, "Otto Unknown", "otto.unknown@example.com", "+4520771204")
	e := f.request(t, u)
	e, err := f.svc.Approve(t.Context(), e.ID, erasure.Actor{ID: approver}, "")
	if err != nil || e.State != erasure.Approved || !e.MaybeSent {
		t.Fatalf("approve: %s maybeSent=%v %v; want approved, maybe sent", e.State, e.MaybeSent, err)
	}
	f.clock.Advance(10 * time.Minute)
	if n, err := f.svc.Reconcile(t.Context()); n != 1 || err != nil {
		t.Fatalf("Reconcile = %d, %v", n, err)
	}
	if e = f.settle(t, e.ID); e.State != erasure.Verified {
		t.Errorf("state %s, want verified", e.State)
	}
	if n := f.anonymizeCalls(); n != 1 {
		t.Errorf("%d anonymize calls, want 1", n)
	}
}

// TestRunReconcilesOnStart: the tracker reconciles as soon as it starts.
func TestRunReconcilesOnStart(t *testing.T) {
	f := newFixture(t, time.Minute)
	e := f.stuck(t, "Stan Start", "stan.start@example.com", "+4520771205", false)
	f.clock.Advance(time.Hour)
	f.svc.Tracking = erasure.Tracking{Tick: time.Hour, ReconcileEvery: time.Hour}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); f.svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); f.state(t, e.ID).State != erasure.Requested; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not reconciled 10s after the start: %s", f.state(t, e.ID).State)
		}
	}
}
