package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/example/dixa-console/web/erasure"
)

func newErasure(subject, by string) erasure.Erasure {
	now := time.Now().UTC()
	recv := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	return erasure.Erasure{ID: uuid.NewString(), SubjectID: subject, State: erasure.Requested, Reference: "DSAR-1", Reason: "Art. 17(1)(a)",
		ReceivedAt: recv, Deadline: erasure.Deadline(recv), RequestedByID: by, RequestedByName: "Lea", RequestedAt: now}
}

func TestErasureRoundTripAndTransitions(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		e := newErasure(uuid.NewString(), "lea@example.com")
		e.Force, e.ForceReason, e.ConversationCount = true, "customer insists", 3
		dig := []string{s.IdentifierDigest("email", "Ann@Example.com"), s.IdentifierDigest("phone", "+4511223344")}
		if err := s.CreateErasure(ctx, e, dig, nil); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetErasure(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != erasure.Requested || !got.Force || got.ForceReason != "customer insists" || got.ConversationCount != 3 ||
			got.Deadline.Format(dateFormat) != "2026-02-28" || !got.RequestedAt.Equal(e.RequestedAt.Truncate(time.Microsecond)) {
			t.Errorf("round trip: %+v", got)
		}
		if _, err := s.GetErasure(ctx, uuid.NewString()); !errors.Is(err, ErrNotFound) || !errors.Is(err, erasure.ErrNotFound) {
			t.Errorf("missing erasure: %v", err)
		}
		ids, _ := s.ErasuresByIdentifier(ctx, "email", "ann@example.com ")
		if len(ids) != 1 || ids[0] != e.ID {
			t.Errorf("ErasuresByIdentifier = %v", ids)
		}

		// Concurrent approvals: exactly one wins the conditional update.
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				_, err := s.Transition(ctx, e.ID, erasure.Requested, func(x *erasure.Erasure) error {
					x.State, x.DecidedByID, x.DecidedAt = erasure.Approved, fmt.Sprint("lead", i), time.Now()
					return nil
				})
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, ErrStateChanged) || !errors.Is(err, erasure.ErrStateChanged):
					t.Errorf("Transition: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d approvals won, want exactly 1", wins.Load())
		}
		if stuck, err := s.ApprovedBefore(ctx, time.Now().Add(time.Minute), 10); err != nil || len(stuck) != 1 {
			t.Errorf("ApprovedBefore(in a minute) = %d, %v; want the approved one", len(stuck), err)
		}
		if stuck, _ := s.ApprovedBefore(ctx, time.Now().Add(-time.Minute), 10); len(stuck) != 0 {
			t.Errorf("ApprovedBefore(a minute ago) = %d, want 0", len(stuck))
		}
		// An error from the change is returned and nothing is written.
		refuse := errors.New("refused")
		if _, err := s.Transition(ctx, e.ID, erasure.Approved, func(x *erasure.Erasure) error {
			x.State = erasure.Failed
			return refuse
		}); !errors.Is(err, refuse) {
			t.Errorf("Transition with a refusing change: %v", err)
		}
		now := time.Now()
		sub, err := s.Transition(ctx, e.ID, erasure.Approved, func(x *erasure.Erasure) error {
			x.State, x.DixaRequestID, x.SubmittedAt, x.NextPollAt = erasure.Submitted, "req-1", now, now
			x.BlockedConversations, x.MaybeSent = []int64{10001, 10002}, true
			return nil
		})
		if err != nil || sub.State != erasure.Submitted {
			t.Fatalf("submit: %v", err)
		}
		due, err := s.DueForPoll(ctx, now.Add(time.Second), 10)
		if err != nil || len(due) != 1 || due[0].DixaRequestID != "req-1" || len(due[0].BlockedConversations) != 2 || !due[0].MaybeSent {
			t.Fatalf("DueForPoll = %+v, %v", due, err)
		}
		if due, _ := s.DueForPoll(ctx, now.Add(-time.Minute), 10); len(due) != 0 {
			t.Errorf("not yet due: %d", len(due))
		}
		list, _ := s.ListErasures(ctx)
		if len(list) != 1 {
			t.Errorf("ListErasures: %d", len(list))
		}
	})
}

// TestErasureScrubListSealed: the identifiers kept for the scrub after
// verification are not readable in the database, open again with the
// store's key (also after a restart), not with another, and are gone
// after DropScrubList.
func TestErasureScrubListSealed(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	e := newErasure(uuid.NewString(), "lea@example.com")
	values := []string{"ann.sealed@example.com", "+4511223344", "Ann Sealed", "ext-sealed-1"}
	if err := s.CreateErasure(ctx, e, nil, values); err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := s.db.QueryRowContext(ctx, `SELECT sealed FROM erasure_scrub WHERE erasure_id = ?`, e.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	for _, v := range append(values, "ann.sealed", "11223344", "Sealed") {
		if strings.Contains(raw, v) {
			t.Errorf("the stored scrub list shows %q", v)
		}
	}
	s.Close()

	s, err = Open(ctx, dir, "") // a restart: the same key file
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	got, err := s.ScrubList(ctx, e.ID)
	if err != nil || strings.Join(got, "|") != strings.Join(values, "|") {
		t.Fatalf("ScrubList after a restart = %q, %v", got, err)
	}
	other, err := Open(ctx, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	if _, err := other.openScrubList(e.ID, raw); err == nil {
		t.Error("the scrub list opens with another key")
	}

	e2, _ := s.Transition(ctx, e.ID, erasure.Requested, func(x *erasure.Erasure) error { x.State = erasure.Verified; return nil })
	if p, err := s.PendingScrubs(ctx, 10); err != nil || len(p) != 1 || p[0].ID != e2.ID {
		t.Errorf("PendingScrubs = %+v, %v; want the verified erasure", p, err)
	}
	if err := s.DropScrubList(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ScrubList(ctx, e.ID); !errors.Is(err, erasure.ErrNotFound) {
		t.Errorf("ScrubList after DropScrubList: %v, want not found", err)
	}
	if p, _ := s.PendingScrubs(ctx, 10); len(p) != 0 {
		t.Errorf("PendingScrubs after the drop: %d", len(p))
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM erasure_scrub`).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) || n != 0 {
		t.Errorf("%d scrub rows left, %v", n, err)
	}
}

// A draft handed over by an agent keeps who handed it over and the note;
// completing it writes the lead's request over it (same id) with the
// identifier digests and the sealed identifiers, once: a second completion
// finds no draft. The count of requests waiting for a lead counts drafts
// and other leads' requests, not the lead's own (in any letter case).
func TestErasureDraftCompleteAndAwaitingCount(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		now := time.Now().UTC()
		d := newErasure(uuid.NewString(), "")
		d.State, d.RequestedByName, d.Reason = erasure.Draft, "", ""
		d.HandedOverByID, d.HandedOverByName, d.HandedOverAt, d.Note = "agent@example.com", "Agnes", now, "called in, wants everything gone"
		if err := s.CreateErasure(ctx, d, nil, nil); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetErasure(ctx, d.ID)
		if err != nil || got.State != erasure.Draft || got.HandedOverByID != "agent@example.com" || got.HandedOverByName != "Agnes" ||
			got.Note != d.Note || !got.HandedOverAt.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("draft round trip: %+v, %v", got, err)
		}
		own := newErasure(uuid.NewString(), "Lea@Example.com ")
		other := newErasure(uuid.NewString(), "max@example.com")
		for _, e := range []erasure.Erasure{own, other} {
			if err := s.CreateErasure(ctx, e, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.CountAwaiting(ctx, "lea@example.com"); err != nil || n != 2 {
			t.Errorf("CountAwaiting(lea) = %d, %v; want 2 (the draft and max's request)", n, err)
		}

		done := got
		done.State, done.Reason, done.RequestedByID, done.RequestedByName, done.RequestedAt = erasure.Requested, "Art. 17", "max@example.com", "Max", now
		dig := []string{s.IdentifierDigest("email", "eve@example.com")}
		if err := s.CompleteDraft(ctx, done, dig, []string{"eve@example.com"}); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteDraft(ctx, done, dig, nil); !errors.Is(err, erasure.ErrStateChanged) {
			t.Errorf("second completion: %v, want ErrStateChanged", err)
		}
		got, _ = s.GetErasure(ctx, d.ID)
		if got.State != erasure.Requested || got.RequestedByID != "max@example.com" || got.HandedOverByID != "agent@example.com" || got.Note != d.Note {
			t.Errorf("completed draft: %+v", got)
		}
		if ids, _ := s.ErasuresByIdentifier(ctx, "email", "EVE@example.com"); len(ids) != 1 || ids[0] != d.ID {
			t.Errorf("digests of the completed draft: %v", ids)
		}
		if vals, err := s.ScrubList(ctx, d.ID); err != nil || len(vals) != 1 {
			t.Errorf("scrub list of the completed draft: %v, %v", vals, err)
		}
		if n, _ := s.CountAwaiting(ctx, "lea@example.com"); n != 2 {
			t.Errorf("CountAwaiting(lea) after completion = %d, want 2 (two requests by max)", n)
		}
		if n, _ := s.CountAwaiting(ctx, "MAX@example.com"); n != 1 {
			t.Errorf("CountAwaiting(max) = %d, want 1 (lea's request)", n)
		}
	})
}
