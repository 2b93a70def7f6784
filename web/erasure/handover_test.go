package erasure_test

import (
	"errors"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/erasure"
)

// An agent's hand-over is a draft: nothing reaches Dixa, it cannot be
// approved, a second hand-over or a lead's fresh request for the customer
// does not start another; the lead's request completes it (same id, the
// lead is the requester, the agent stays recorded), and only then can
// another lead approve it.
func TestHandoverDraftCompletedByALead(t *testing.T) {
	f := newFixture(t, time.Minute)
	u := f.subject(t, "Hana Handover", "hana.handover@example.com", "+4520771301")
	agent := erasure.Actor{ID: "agent@corp.example", Name: "Agnes Agent"}
	today := f.clock.Now().Format("2006-01-02")

	_, err := f.svc.Handover(t.Context(), agent, u.ID, erasure.HandoverForm{Reference: " ", ReceivedAt: "tomorrow"})
	var mistakes erasure.FormErrors
	if !errors.As(err, &mistakes) || mistakes["reference"] == "" || mistakes["receivedAt"] == "" {
		t.Fatalf("empty hand-over: %v, want mistakes on reference and receivedAt", err)
	}
	d, err := f.svc.Handover(t.Context(), agent, u.ID, erasure.HandoverForm{Reference: "TICKET-9", ReceivedAt: today, Note: "Asked by phone"})
	if err != nil {
		t.Fatal(err)
	}
	if d.State != erasure.Draft || d.HandedOverByID != agent.ID || d.RequestedByID != "" || erasure.FmtDate(d.Deadline) != "2026-04-10" {
		t.Errorf("draft %+v", d)
	}
	if ev := f.audit.of(d.ID, erasure.ActHandedOver); len(ev) != 1 || ev[0].Details["note"] != "true" || ev[0].Details["reference"] != "TICKET-9" {
		t.Errorf("hand-over audit %+v", ev)
	}
	if _, err := f.svc.Handover(t.Context(), agent, u.ID, erasure.HandoverForm{Reference: "TICKET-10", ReceivedAt: today}); !errors.As(err, &mistakes) || mistakes["form"] == "" {
		t.Errorf("second hand-over: %v, want a form mistake", err)
	}
	lead2 := erasure.Actor{ID: approver, Name: "Lee Two"}
	if erasure.CanDecide(d, lead2) || !erasure.CanDiscard(d) {
		t.Error("a draft is offered for approval, or not for discarding")
	}
	if _, err := f.svc.Approve(t.Context(), d.ID, lead2, ""); !errors.Is(err, erasure.ErrDecided) {
		t.Errorf("approving a draft: %v, want ErrDecided", err)
	}
	if n, _ := f.svc.Awaiting(t.Context(), lead2); n != 1 {
		t.Errorf("awaiting = %d, want 1 (the draft)", n)
	}

	e := f.request(t, u)
	if e.ID != d.ID || e.State != erasure.Requested {
		t.Fatalf("the lead's request did not complete the draft: %+v", e)
	}
	got := f.state(t, d.ID)
	if got.RequestedByID != requester || got.HandedOverByID != agent.ID || got.Note != "Asked by phone" || got.Reason == "" {
		t.Errorf("completed draft %+v", got)
	}
	if ev := f.audit.of(d.ID, erasure.ActRequested); len(ev) != 1 || ev[0].Details["handedOverBy"] != agent.ID {
		t.Errorf("request audit %+v", ev)
	}
	if n, _ := f.svc.Awaiting(t.Context(), erasure.Actor{ID: requester}); n != 0 {
		t.Errorf("awaiting for the requester = %d, want 0", n)
	}
	if _, err := f.svc.Approve(t.Context(), d.ID, lead2, "ok"); err != nil {
		t.Fatal(err)
	}
	if n := f.anonymizeCalls(); n != 1 {
		t.Errorf("%d anonymize calls, want 1", n)
	}
}

// A lead may discard a draft; it ends rejected and nothing reaches Dixa.
func TestHandoverDiscarded(t *testing.T) {
	f := newFixture(t, time.Minute)
	u := f.subject(t, "Dora Discard", "dora.discard@example.com", "+4520771302")
	d, err := f.svc.Handover(t.Context(), erasure.Actor{ID: "agent@corp.example"}, u.ID,
		erasure.HandoverForm{Reference: "T-1", ReceivedAt: f.clock.Now().Format("2006-01-02")})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Reject(t.Context(), d.ID, erasure.Actor{ID: approver}, "not a GDPR request"); err != nil {
		t.Fatal(err)
	}
	if st := f.state(t, d.ID).State; st != erasure.Rejected || f.anonymizeCalls() != 0 {
		t.Errorf("state %s, %d anonymize calls", st, f.anonymizeCalls())
	}
}

// The console knows whom it erased, by Dixa id and by the keyed hashes of
// the identifiers: nothing before the approval, "being erased" once sent,
// erased with the processing time once Dixa processed it. An email matches
// in any letter case; a rejected request marks nobody.
func TestErasedMarks(t *testing.T) {
	f := newFixture(t, time.Minute)
	u := f.subject(t, "Mia Marked", "mia.marked@example.com", "+4520771303")
	ctx := t.Context()
	e := f.request(t, u)
	check := func(when string, want erasure.State) {
		t.Helper()
		for _, look := range []func() (erasure.Mark, bool, error){
			func() (erasure.Mark, bool, error) { return f.svc.SubjectErased(ctx, u.ID) },
			func() (erasure.Mark, bool, error) {
				return f.svc.IdentifierErased(ctx, erasure.IdentEmail, "MIA.marked@example.com")
			},
			func() (erasure.Mark, bool, error) {
				return f.svc.IdentifierErased(ctx, erasure.IdentPhone, "+4520771303")
			},
			func() (erasure.Mark, bool, error) {
				return f.svc.IdentifierErased(ctx, erasure.IdentExternalID, "ext-mia.marked")
			},
		} {
			m, ok, err := look()
			if err != nil || ok != (want != "") || (ok && (m.State != want || m.ErasureID != e.ID || m.Reference != "DSAR-T" || m.At.IsZero())) {
				t.Errorf("%s: mark %+v, %v, %v; want state %q", when, m, ok, err, want)
			}
		}
	}
	check("requested", "")
	if _, ok, _ := f.svc.IdentifierErased(ctx, erasure.IdentEmail, "someone.else@example.com"); ok {
		t.Error("another email is marked")
	}
	if _, err := f.svc.Approve(ctx, e.ID, erasure.Actor{ID: approver}, ""); err != nil {
		t.Fatal(err)
	}
	check("submitted", erasure.Submitted)
	if got := f.settle(t, e.ID); got.State != erasure.Verified {
		t.Fatalf("state %s, want verified", got.State)
	}
	check("verified", erasure.Verified)
	if m, _, _ := f.svc.SubjectErased(ctx, u.ID); !m.Done() {
		t.Error("a verified erasure is not done")
	}

	v := f.subject(t, "Rita Rejected", "rita.rejected@example.com", "+4520771304")
	r := f.request(t, v)
	if err := f.svc.Reject(ctx, r.ID, erasure.Actor{ID: approver}, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.svc.IdentifierErased(ctx, erasure.IdentEmail, v.Email); ok {
		t.Error("a rejected request marks its customer as erased")
	}
}

// The approving lead types the request's reference once more; spaces and
// letter case aside it must match.
func TestConfirmsReference(t *testing.T) {
	e := erasure.Erasure{Reference: "DSAR-2026-017"}
	for typed, want := range map[string]bool{"DSAR-2026-017": true, " dsar-2026-017 ": true, "DSAR-2026-01": false, "": false} {
		if got := erasure.ConfirmsReference(e, typed); got != want {
			t.Errorf("ConfirmsReference(%q) = %v, want %v", typed, got, want)
		}
	}
	if erasure.ConfirmsReference(erasure.Erasure{}, "") {
		t.Error("an empty reference is confirmed by nothing typed")
	}
}

// The approval page's look-up: the customer as Dixa has them now, with the
// number of their conversations.
func TestSubjectLookup(t *testing.T) {
	f := newFixture(t, time.Minute)
	u := f.subject(t, "Sol Subject", "sol.subject@example.com", "+4520771305")
	s, err := f.svc.Subject(t.Context(), u.ID)
	if err != nil || s.User.Email != u.Email || s.Conversations != 0 || s.ConversationsIncomplete {
		t.Errorf("Subject = %+v, %v", s, err)
	}
	s, err = f.svc.Subject(t.Context(), dixasim.DemoBusyUserID)
	if err != nil || s.Conversations != 30 || s.ConversationsIncomplete {
		t.Errorf("busy customer: %d conversations (incomplete %v), %v; want 30", s.Conversations, s.ConversationsIncomplete, err)
	}
}
