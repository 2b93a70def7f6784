package erasure

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
)

// HandoverForm is a GDPR request as an agent who received it hands it to
// the leads: the ticket reference, the date it arrived and a note.
type HandoverForm struct {
	Reference, ReceivedAt, Note string
}

// ValidateHandover checks a hand-over form against today's date: the
// mistakes by field, and the date the data subject's request arrived.
func ValidateHandover(f HandoverForm, today time.Time) (FormErrors, time.Time) {
	errs := FormErrors{}
	checkReference(errs, f.Reference)
	received := checkReceived(errs, f.ReceivedAt, today)
	if len(f.Note) > MaxText {
		errs["note"] = "Keep the note under 1000 characters."
	}
	return errs, received
}

// Handover records a GDPR request an agent received as a draft for the
// leads to complete: nothing is sent to Dixa and nothing can be approved
// until a lead has filled in the rest of the request. The deadline runs
// from the date the request arrived. A form with mistakes, or a customer
// with a request already in progress, is refused with FormErrors and
// nothing is stored. The draft holds no identifiers of the customer; the
// lead's request adds them. The audit entry says whether there is a note,
// not what it says: a note may name the customer, and the audit log is
// never scrubbed.
func (s *Service) Handover(ctx context.Context, me Actor, subjectID string, f HandoverForm) (Erasure, error) {
	f.Reference, f.ReceivedAt, f.Note = strings.TrimSpace(f.Reference), strings.TrimSpace(f.ReceivedAt), strings.TrimSpace(f.Note)
	if _, err := s.Dixa.GetEndUser(ctx, subjectID); err != nil {
		return Erasure{}, err
	}
	errs, received := ValidateHandover(f, s.today())
	earlier, err := s.Store.ErasuresOf(ctx, subjectID)
	if err != nil {
		return Erasure{}, err
	}
	for _, e := range earlier {
		if !e.State.Final() {
			errs["form"] = "The leads already have an erasure request for this customer in progress (" + e.Reference + ")."
		}
	}
	if len(errs) > 0 {
		return Erasure{}, errs
	}
	now := s.now()
	e := Erasure{ID: uuid.NewString(), SubjectID: subjectID, State: Draft, Reference: f.Reference,
		ReceivedAt: received, Deadline: Deadline(received), RequestedAt: now,
		HandedOverByID: me.ID, HandedOverByName: me.Name, HandedOverAt: now, Note: f.Note}
	if err := s.Store.CreateErasure(ctx, e, nil, nil); err != nil {
		return Erasure{}, err
	}
	s.record(ctx, Event{Action: ActHandedOver, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK, Details: map[string]string{
		"subjectId": subjectID, "reference": e.Reference, "receivedAt": FmtDate(e.ReceivedAt),
		"deadline": FmtDate(e.Deadline), "note": boolText(e.Note != "")}})
	return e, nil
}

// CanDiscard reports whether a lead may discard e: a draft nobody has
// completed yet.
func CanDiscard(e Erasure) bool { return e.State == Draft }
