package erasure_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/erasure"
)

func TestDeadline(t *testing.T) {
	for in, want := range map[string]string{
		"2026-01-15": "2026-02-15", "2026-01-31": "2026-02-28", "2028-01-31": "2028-02-29",
		"2026-12-20": "2027-01-20", "2026-03-31": "2026-04-30",
	} {
		d, _ := time.Parse("2006-01-02", in)
		if got := erasure.FmtDate(erasure.Deadline(d)); got != want {
			t.Errorf("Deadline(%s) = %s, want %s", in, got, want)
		}
	}
	if got := erasure.FmtDate(erasure.Extend(erasure.Deadline(time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)))); got != "2025-04-10" {
		t.Errorf("extended deadline = %s, want 2025-04-10", got)
	}
}

func TestFinalStates(t *testing.T) {
	final := map[erasure.State]bool{erasure.Rejected: true, erasure.Blocked: true, erasure.Verified: true, erasure.Failed: true}
	for _, s := range []erasure.State{erasure.Draft, erasure.Requested, erasure.Approved, erasure.Rejected, erasure.Submitted,
		erasure.Blocked, erasure.Processed, erasure.Verified, erasure.Failed} {
		if s.Final() != final[s] {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
	}
}

// TestFourEyesSamePersonWrittenDifferently: the requester cannot approve
// or reject their own request under their identity written in other
// letters or with spaces around it; nothing reaches Dixa. Another lead
// can.
func TestFourEyesSamePersonWrittenDifferently(t *testing.T) {
	f := newFixture(t, time.Minute)
	u := f.subject(t, "Fay Foureyes", "fay.foureyes@example.com", "+4520771101")
	e := f.request(t, u)
	for _, id := range []string{"LEAD1@corp.example", "Lead1@Corp.Example", " lead1@corp.example ", requester} {
		me := erasure.Actor{ID: id, Name: "Lea One"}
		if erasure.CanDecide(e, me) || !erasure.IsRequester(e, me) {
			t.Errorf("%q: offered the decision on their own request", id)
		}
		_, err := f.svc.Approve(t.Context(), e.ID, me, "")
		if !errors.Is(err, erasure.ErrOwnRequest) || apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("%q approves their own request: %v, want ErrOwnRequest (forbidden)", id, err)
		}
		if err := f.svc.Reject(t.Context(), e.ID, me, ""); !errors.Is(err, erasure.ErrOwnRequest) {
			t.Errorf("%q rejects their own request: %v, want ErrOwnRequest", id, err)
		}
	}
	if n := f.anonymizeCalls(); n != 0 {
		t.Fatalf("%d anonymize calls after self-approvals", n)
	}
	if st := f.state(t, e.ID).State; st != erasure.Requested {
		t.Fatalf("state %s after self-approvals, want requested", st)
	}
	if _, err := f.svc.Approve(t.Context(), e.ID, erasure.Actor{ID: approver, Name: "Lee Two"}, "ok"); err != nil {
		t.Fatalf("another lead approves: %v", err)
	}
	if n := f.anonymizeCalls(); n != 1 {
		t.Errorf("%d anonymize calls after the approval, want 1", n)
	}
}

// TestBlockedIsNeverRetried: Dixa refuses because of open conversations;
// however long the tracker runs afterwards (two days of passes on the
// test's clock), it never calls anonymize again, with force or without.
func TestBlockedIsNeverRetried(t *testing.T) {
	f := newFixture(t, time.Minute)
	u, err := f.api.GetEndUser(t.Context(), dixasim.DemoOpenConversationUserID)
	if err != nil {
		t.Fatal(err)
	}
	e := f.request(t, u)
	e, err = f.svc.Approve(t.Context(), e.ID, erasure.Actor{ID: approver}, "")
	if err != nil || e.State != erasure.Blocked || len(e.BlockedConversations) == 0 {
		t.Fatalf("approve: %s %v %v, want blocked with the open conversations", e.State, e.BlockedConversations, err)
	}
	for range 2 * 24 * 6 {
		f.clock.Advance(10 * time.Minute)
		if _, err := f.svc.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
		f.svc.Housekeep(t.Context())
	}
	if n := f.anonymizeCalls(); n != 1 {
		t.Fatalf("%d anonymize calls after two days of passes, want 1", n)
	}
	if st := f.state(t, e.ID).State; st != erasure.Blocked {
		t.Errorf("state %s, want blocked", st)
	}
}

// TestErasureFlowVerifiedAndScrubbed: approved, submitted, processed by
// Dixa, verified; then the console's own records are scrubbed of the
// person's emails, phone, names and external id, the sealed list is gone
// and the preview cache no longer holds them.
func TestErasureFlowVerifiedAndScrubbed(t *testing.T) {
	f := newFixture(t, 90*time.Second)
	sc := &scrubber{fail: 1}
	f.svc.Scrubber = sc
	u := f.subject(t, "Sally Scrub", "sally.scrub@example.com", "+4520771102")
	if _, err := f.svc.Preview(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	e := f.request(t, u)
	if _, err := f.svc.Approve(t.Context(), e.ID, erasure.Actor{ID: approver}, ""); err != nil {
		t.Fatal(err)
	}
	if e = f.settle(t, e.ID); e.State != erasure.Verified {
		t.Fatalf("state %s (%s), want verified", e.State, e.Failure)
	}
	// The first scrub failed: the sealed list waits for the next try.
	if len(sc.calls) != 0 {
		t.Fatalf("scrubbed %d times despite the failure", len(sc.calls))
	}
	if n, err := f.svc.ScrubPending(t.Context()); n != 1 || err != nil {
		t.Fatalf("ScrubPending = %d, %v; want 1", n, err)
	}
	if len(sc.calls) != 1 {
		t.Fatalf("%d scrubs, want 1", len(sc.calls))
	}
	got := map[string]bool{}
	for _, v := range sc.calls[0] {
		got[v] = true
	}
	for _, want := range []string{u.Email, u.PhoneNumber, u.DisplayName, u.ExternalID} {
		if !got[want] {
			t.Errorf("scrub values %q lack %q", sc.calls[0], want)
		}
	}
	if _, err := f.st.ScrubList(t.Context(), e.ID); !errors.Is(err, erasure.ErrNotFound) {
		t.Errorf("sealed list after the scrub: %v, want gone", err)
	}
	if n, _ := f.svc.ScrubPending(t.Context()); n != 0 || len(sc.calls) != 1 {
		t.Errorf("a second ScrubPending scrubbed again")
	}
	if len(f.audit.of(e.ID, erasure.ActScrubbed)) != 1 || len(f.audit.of(e.ID, erasure.ActVerified)) != 1 {
		t.Errorf("audit lacks erasure.verified or erasure.scrubbed: %+v", f.audit.events)
	}
	before := len(f.sim.Requests())
	p, err := f.svc.Preview(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.sim.Requests()) == before || p.User.Email != "" {
		t.Errorf("the preview after verification came from the cache (email %q)", p.User.Email)
	}
}

// TestNoScrubberDropsTheSealedList: without a scrubber the identifiers
// are not kept either.
func TestNoScrubberDropsTheSealedList(t *testing.T) {
	f := newFixture(t, 90*time.Second)
	u := f.subject(t, "Nora Noscrub", "nora.noscrub@example.com", "+4520771103")
	e := f.request(t, u)
	if _, err := f.svc.Approve(t.Context(), e.ID, erasure.Actor{ID: approver}, ""); err != nil {
		t.Fatal(err)
	}
	if e = f.settle(t, e.ID); e.State != erasure.Verified {
		t.Fatalf("state %s, want verified", e.State)
	}
	if _, err := f.st.ScrubList(t.Context(), e.ID); !errors.Is(err, erasure.ErrNotFound) {
		t.Errorf("sealed list kept without a scrubber: %v", err)
	}
}

// TestSnapshotThresholds: the counts behind the erasure alert gauges, at
// chosen moments: unprocessed past AlertAfter (default 24h), past the
// legal deadline (one month after receipt, the deadline day counting).
func TestSnapshotThresholds(t *testing.T) {
	f := newFixture(t, 1000*time.Hour)
	u := f.subject(t, "Sven Snapshot", "sven.snapshot@example.com", "+4520771104")
	e := f.request(t, u)
	e, err := f.svc.Approve(t.Context(), e.ID, erasure.Actor{ID: approver}, "")
	if err != nil || e.State != erasure.Submitted {
		t.Fatalf("approve: %s %v, want submitted", e.State, err)
	}
	submitted := e.SubmittedAt
	for _, tc := range []struct {
		name              string
		after, alertAfter time.Duration
		want              erasure.Snapshot
	}{
		{"at once", 0, 0, erasure.Snapshot{}},
		{"23h, default threshold", 23 * time.Hour, 0, erasure.Snapshot{}},
		{"25h, default threshold", 25 * time.Hour, 0, erasure.Snapshot{UnprocessedOverdue: 1}},
		{"3h, threshold 2h", 3 * time.Hour, 2 * time.Hour, erasure.Snapshot{UnprocessedOverdue: 1}},
		{"40 days", 40 * 24 * time.Hour, 0, erasure.Snapshot{UnprocessedOverdue: 1, PastDeadline: 1}},
	} {
		svc := erasure.Service{Store: f.st, Tracking: erasure.Tracking{AlertAfter: tc.alertAfter}, Now: func() time.Time { return submitted.Add(tc.after) }}
		got, err := svc.Snapshot(t.Context())
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

// anonymizeLost is Dixa whose answer to the anonymize call is lost after
// the call reached it.
type anonymizeLost struct{ erasure.Dixa }

func (d anonymizeLost) AnonymizeEndUser(ctx context.Context, id string, force bool) (apiclient.AnonymizationRequest, error) {
	d.Dixa.AnonymizeEndUser(ctx, id, force)
	return apiclient.AnonymizationRequest{}, &apiclient.Error{Status: 0, Unknown: true}
}
