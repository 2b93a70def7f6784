package erasure

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/apperr"
)

// Form is an erasure request as the lead typed it.
type Form struct {
	Reference, Reason, ReceivedAt string
	Force                         bool
	ForceReason, Confirm          string
}

// Limits of the request form, in bytes.
const (
	MaxReference = 200
	MaxText      = 1000 // reason, force justification, comments
)

// FormErrors is a request refused for its input: a message per field
// ("form" for the request as a whole). The form is shown again with them.
type FormErrors map[string]string

func (f FormErrors) Error() string { return "erasure: the request form has mistakes" }

// Validate checks a request form against today's date and the customer:
// it returns the mistakes by field and the date the data subject's request
// was received.
func Validate(f Form, u apiclient.EndUser, today time.Time) (FormErrors, time.Time) {
	errs := FormErrors{}
	checkReference(errs, f.Reference)
	switch {
	case f.Reason == "":
		errs["reason"] = "Enter the legal ground or reason."
	case len(f.Reason) > MaxText:
		errs["reason"] = "Keep the reason under 1000 characters."
	}
	received := checkReceived(errs, f.ReceivedAt, today)
	if f.Force && f.ForceReason == "" {
		errs["forceReason"] = "Say why open conversations may be closed by force."
	}
	if len(f.ForceReason) > MaxText {
		errs["forceReason"] = "Keep the justification under 1000 characters."
	}
	want, what := u.Email, "the customer's email address"
	if want == "" {
		want, what = u.ID, "the customer's Dixa ID"
	}
	switch {
	case f.Confirm == "":
		errs["confirm"] = "Type " + what + " to confirm."
	case !strings.EqualFold(f.Confirm, strings.TrimSpace(want)):
		errs["confirm"] = "This does not match " + what + "."
	}
	return errs, received
}

// checkReference requires a ticket or DSAR reference of bounded length.
func checkReference(errs FormErrors, ref string) {
	switch {
	case ref == "":
		errs["reference"] = "Enter the ticket or DSAR reference."
	case len(ref) > MaxReference:
		errs["reference"] = "Keep the reference under 200 characters."
	}
}

// checkReceived requires the date the data subject's request arrived
// (YYYY-MM-DD): not in the future, not more than three years ago.
func checkReceived(errs FormErrors, s string, today time.Time) time.Time {
	received, err := time.Parse("2006-01-02", s)
	switch {
	case s == "":
		errs["receivedAt"] = "Enter the date the request was received."
	case err != nil:
		errs["receivedAt"] = "Write the date as YYYY-MM-DD."
	case received.After(today):
		errs["receivedAt"] = "The date cannot be in the future."
	case received.Before(today.AddDate(-3, 0, 0)):
		errs["receivedAt"] = "That date is more than three years ago; check it."
	}
	return received
}

// Request records a lead's request to erase a customer. A form with
// mistakes is refused with FormErrors and nothing is stored. A draft an
// agent handed over for the customer is completed by it (same id, the
// lead becomes the requester). With single approval the request is
// approved and submitted at once. The request keeps keyed hashes of the
// customer's identifiers and, sealed, the identifiers themselves for the
// scrub after verification.
func (s *Service) Request(ctx context.Context, me Actor, subjectID string, f Form) (Erasure, error) {
	u, err := s.Dixa.GetEndUser(ctx, subjectID)
	if err != nil {
		return Erasure{}, err
	}
	now := s.now()
	errs, received := Validate(f, u, s.today())
	draft, err := s.openDraft(ctx, subjectID, errs)
	if err != nil {
		return Erasure{}, err
	}
	if len(errs) > 0 {
		return Erasure{}, errs
	}
	e := Erasure{ID: uuid.NewString(), SubjectID: subjectID, State: Requested, Reference: f.Reference, Reason: f.Reason,
		ReceivedAt: received, Deadline: Deadline(received), Force: f.Force, ForceReason: f.ForceReason,
		ConversationCount: s.conversationCount(ctx, subjectID), RequestedByID: me.ID, RequestedByName: me.Name, RequestedAt: now}
	if !f.Force {
		e.ForceReason = ""
	}
	details := map[string]string{
		"subjectId": subjectID, "reference": e.Reference, "reason": e.Reason, "receivedAt": FmtDate(e.ReceivedAt),
		"deadline": FmtDate(e.Deadline), "force": boolText(e.Force), "forceReason": e.ForceReason,
		"approval": string(s.approval())}
	if draft != nil {
		e.ID, e.HandedOverByID, e.HandedOverByName, e.HandedOverAt, e.Note = draft.ID, draft.HandedOverByID, draft.HandedOverByName, draft.HandedOverAt, draft.Note
		details["handedOverBy"] = draft.HandedOverByID
		err = s.Store.CompleteDraft(ctx, e, digests(s.Store, u), scrubValues(u))
		if errors.Is(err, ErrStateChanged) {
			err = &apperr.Error{Code: apperr.Conflict, Cause: err, Msg: "Another lead completed or discarded this handed-over request first. Open the customer's erasure page again."}
		}
	} else {
		err = s.Store.CreateErasure(ctx, e, digests(s.Store, u), scrubValues(u))
	}
	if err != nil {
		return Erasure{}, err
	}
	s.record(ctx, Event{Action: ActRequested, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK, Details: details})
	if s.approval() == Single {
		if _, err := s.approveAndSubmit(ctx, e, me, "single approval mode"); err != nil {
			return e, err
		}
	}
	return e, nil
}

// openDraft returns the customer's draft waiting to be completed, if any;
// any other request in progress is a mistake of the form (errs["form"]).
func (s *Service) openDraft(ctx context.Context, subjectID string, errs FormErrors) (*Erasure, error) {
	earlier, err := s.Store.ErasuresOf(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	var draft *Erasure
	for _, e := range earlier {
		switch {
		case e.State == Draft && draft == nil:
			draft = &e
		case !e.State.Final():
			errs["form"] = "There is already an erasure request for this customer in progress."
		}
	}
	return draft, nil
}

// conversationCount is how many conversations the customer has, from the
// preview the lead saw when it is still cached.
func (s *Service) conversationCount(ctx context.Context, id string) int {
	if p, ok := s.previews.get(id, s.now()); ok {
		return len(p.Conversations)
	}
	convs, _ := conversations(apiclient.WithLowPriority(ctx), s.Dixa, id, func() error { return s.spend(ctx, 1) })
	return len(convs)
}

func (s *Service) approval() Approval {
	if s.Approval == Single {
		return Single
	}
	return FourEyes
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
