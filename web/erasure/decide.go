package erasure

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/apperr"
)

// Get returns one request; an unknown id is an apperr NotFound.
func (s *Service) Get(ctx context.Context, id string) (Erasure, error) {
	e, err := s.Store.GetErasure(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return e, apperr.Wrap(err, apperr.NotFound, "There is no erasure request with that ID.")
	}
	return e, err
}

// List returns every request, newest first.
func (s *Service) List(ctx context.Context) ([]Erasure, error) { return s.Store.ListErasures(ctx) }

// CanDecide reports whether me may approve or reject e: it is waiting for
// a decision and me is not the requester.
func CanDecide(e Erasure, me Actor) bool {
	return e.State == Requested && !sameperson(e.RequestedByID, me.ID)
}

// IsRequester reports whether me requested e.
func IsRequester(e Erasure, me Actor) bool { return sameperson(e.RequestedByID, me.ID) }

// ConfirmsReference reports whether typed is the reference of e, as the
// approving lead types it once more before the request goes to Dixa
// (spaces around it and letter case aside).
func ConfirmsReference(e Erasure, typed string) bool {
	return e.Reference != "" && strings.EqualFold(strings.TrimSpace(typed), strings.TrimSpace(e.Reference))
}

// checkDecision refuses a decision by the requester and an overlong
// comment; it returns the comment trimmed.
func checkDecision(e Erasure, me Actor, comment string) (string, error) {
	if sameperson(e.RequestedByID, me.ID) {
		return "", &apperr.Error{Code: apperr.Forbidden, Cause: ErrOwnRequest,
			Msg: "You requested this erasure, so another lead has to approve or reject it."}
	}
	comment = strings.TrimSpace(comment)
	if len(comment) > MaxText {
		// Refused rather than cut: a decision must not record half a comment.
		return "", apperr.OnField("comment", "Keep the comment under 1000 characters; nothing was decided.")
	}
	return comment, nil
}

// Reject records a lead's rejection of a request, or the discarding of a
// draft an agent handed over; nothing reaches Dixa.
func (s *Service) Reject(ctx context.Context, id string, me Actor, comment string) error {
	e, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if comment, err = checkDecision(e, me, comment); err != nil {
		return err
	}
	from := Requested
	if e.State == Draft {
		from = Draft
	}
	_, err = s.Store.Transition(ctx, e.ID, from, func(x *Erasure) error {
		x.State, x.DecidedByID, x.DecidedByName, x.DecidedAt, x.DecisionComment = Rejected, me.ID, me.Name, s.now(), comment
		return nil
	})
	if err != nil {
		return s.decisionConflict(ctx, e.ID, me, err)
	}
	s.record(ctx, Event{Action: ActRejected, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK,
		Details: map[string]string{"subjectId": e.SubjectID, "comment": comment}})
	return nil
}

// Approve records a second lead's approval and sends the one anonymize
// call to Dixa. Of several leads approving at once exactly one wins; a
// repeat by the winner (a double click) is no error.
func (s *Service) Approve(ctx context.Context, id string, me Actor, comment string) (Erasure, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return e, err
	}
	if comment, err = checkDecision(e, me, comment); err != nil {
		return e, err
	}
	ne, err := s.approveAndSubmit(ctx, e, me, comment)
	if errors.Is(err, ErrStateChanged) {
		return e, s.decisionConflict(ctx, e.ID, me, err)
	}
	return ne, err
}

// decisionConflict explains a decision that lost the race: nil when it was
// me who decided (a repeated click), else ErrDecided.
func (s *Service) decisionConflict(ctx context.Context, id string, me Actor, err error) error {
	if !errors.Is(err, ErrStateChanged) {
		return err
	}
	if cur, gerr := s.Store.GetErasure(ctx, id); gerr == nil && sameperson(cur.DecidedByID, me.ID) {
		return nil
	}
	return &apperr.Error{Code: apperr.Conflict, Cause: ErrDecided,
		Msg: "Another lead decided on this request first. Open the request to see its current state."}
}

// approveAndSubmit records the approval — the conditional update from
// requested that exactly one caller wins — and then, as the winner, sends
// the one anonymize call. A request whose earlier call may have reached
// Dixa is looked up in Dixa first and not sent again when Dixa has
// anonymized the customer already.
func (s *Service) approveAndSubmit(ctx context.Context, e Erasure, me Actor, comment string) (Erasure, error) {
	now := s.now()
	e, err := s.Store.Transition(ctx, e.ID, Requested, func(x *Erasure) error {
		x.State, x.DecidedByID, x.DecidedByName, x.DecidedAt, x.DecisionComment = Approved, me.ID, me.Name, now, comment
		x.Failure = ""
		return nil
	})
	if err != nil {
		return e, err
	}
	s.record(ctx, Event{Action: ActApproved, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK, Details: map[string]string{
		"subjectId": e.SubjectID, "requestedBy": e.RequestedByID, "comment": comment, "approval": string(s.approval())}})

	// From here the outcome must be recorded even if the person closes the
	// tab: Dixa may act on the call.
	ctx = context.WithoutCancel(ctx)
	defer s.previews.forget(e.SubjectID)
	if e.MaybeSent {
		done, ne, err := s.alreadyAnonymized(ctx, e, false)
		if errors.Is(err, ErrStateChanged) || done {
			return ne, err
		}
		if err != nil {
			return s.notSent(ctx, e, err)
		}
	}
	req, err := s.Dixa.AnonymizeEndUser(ctx, e.SubjectID, e.Force)
	return s.submitted(ctx, e, req, err)
}

// submitted records the outcome of the anonymize call.
func (s *Service) submitted(ctx context.Context, e Erasure, req apiclient.AnonymizationRequest, err error) (Erasure, error) {
	switch {
	case err == nil:
		ne, terr := s.Store.Transition(ctx, e.ID, Approved, func(x *Erasure) error {
			x.State, x.DixaRequestID, x.SubmittedAt, x.MaybeSent, x.Failure = Submitted, req.ID, s.now(), false, ""
			if !req.InitiatedAt.IsZero() {
				x.SubmittedAt = req.InitiatedAt.Time
			}
			x.NextPollAt = s.now().Add(time.Second)
			return nil
		})
		if terr != nil {
			s.log().Error("anonymize call accepted but not recorded", "erasure", e.ID, "dixaRequestId", req.ID, "err", terr)
		}
		s.record(ctx, Event{Action: ActSubmitted, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK, Details: map[string]string{
			"subjectId": e.SubjectID, "dixaRequestId": req.ID, "force": boolText(e.Force), "status": "202"}})
		return ne, terr
	case errors.Is(err, apiclient.ErrConflict):
		return s.blocked(ctx, e)
	case errors.Is(err, apiclient.ErrRateLimited), errors.Is(err, apiclient.ErrBreakerOpen):
		return s.notSent(ctx, e, err)
	case errors.Is(err, apiclient.ErrOutcomeUnknown):
		return s.outcomeUnknown(ctx, e)
	}
	status, title := s.describe(err)
	ne, terr := s.Store.Transition(ctx, e.ID, Approved, func(x *Erasure) error {
		x.State, x.Failure = Failed, "Dixa did not accept the request ("+title+")."
		return nil
	})
	s.record(ctx, Event{Action: ActFailed, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeFailed, Details: map[string]string{
		"subjectId": e.SubjectID, "status": strconv.Itoa(status), "error": title}})
	return ne, terr
}

// blocked records Dixa's refusal because of open conversations and lists
// them. The console never retries with force on its own.
func (s *Service) blocked(ctx context.Context, e Erasure) (Erasure, error) {
	convs, _ := conversations(ctx, s.Dixa, e.SubjectID, nil)
	open := openIDs(convs)
	ne, err := s.Store.Transition(ctx, e.ID, Approved, func(x *Erasure) error {
		x.State, x.BlockedConversations, x.MaybeSent = Blocked, open, false
		x.Failure = "Dixa refused (409) because the customer has conversations that are not closed."
		return nil
	})
	s.record(ctx, Event{Action: ActBlocked, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeBlocked, Details: map[string]string{
		"subjectId": e.SubjectID, "status": "409", "openConversations": joinInts(open), "force": boolText(e.Force)}})
	return ne, err
}

// notSent puts a request whose call never left the console back to
// requested, so that it can be approved again, and returns err.
func (s *Service) notSent(ctx context.Context, e Erasure, err error) (Erasure, error) {
	ne, terr := s.Store.Transition(ctx, e.ID, Approved, func(x *Erasure) error {
		x.State, x.DecidedByID, x.DecidedByName, x.DecidedAt, x.DecisionComment = Requested, "", "", time.Time{}, ""
		return nil
	})
	if terr != nil {
		s.log().Error("erasure not sent and not put back", "erasure", e.ID, "err", terr)
	}
	_, title := s.describe(err)
	s.record(ctx, Event{Action: ActFailed, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeNotSent, Details: map[string]string{
		"subjectId": e.SubjectID, "error": title, "next": "approve again"}})
	return ne, err
}

// outcomeUnknown leaves a request whose call may have reached Dixa in
// approved, marked MaybeSent: the tracker's reconciliation looks at the
// customer in Dixa and moves it on.
func (s *Service) outcomeUnknown(ctx context.Context, e Erasure) (Erasure, error) {
	ne, err := s.Store.Transition(ctx, e.ID, Approved, func(x *Erasure) error {
		x.MaybeSent = true
		x.Failure = "Dixa did not confirm the request in time: it may or may not have been queued. The console checks the customer in Dixa and moves the request on by itself."
		return nil
	})
	s.record(ctx, Event{Action: ActFailed, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeUnknown, Details: map[string]string{
		"subjectId": e.SubjectID, "error": "outcome unknown", "next": "reconcile"}})
	return ne, err
}

// Extend moves the deadline by two further months, once, with a reason.
func (s *Service) Extend(ctx context.Context, id string, me Actor, reason string) (Erasure, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return e, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > MaxText {
		return e, apperr.OnField("reason", "Give the reason for extending the deadline (at most 1000 characters).")
	}
	extended := &apperr.Error{Code: apperr.Conflict, Cause: ErrExtended, Msg: "The deadline of this request has already been extended once."}
	if !e.ExtendedAt.IsZero() {
		return e, extended
	}
	ne, err := s.Store.Transition(ctx, e.ID, e.State, func(x *Erasure) error {
		if !x.ExtendedAt.IsZero() {
			return extended
		}
		x.Deadline = Extend(x.Deadline)
		x.ExtendedAt, x.ExtendedByID, x.ExtensionReason = s.now(), me.ID, reason
		return nil
	})
	if errors.Is(err, ErrStateChanged) {
		return e, apperr.Wrap(err, apperr.Conflict, "The request changed while you were extending it. Open it again.")
	}
	if err != nil {
		return e, err
	}
	s.record(ctx, Event{Action: ActExtended, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK, Details: map[string]string{
		"from": FmtDate(e.Deadline), "to": FmtDate(ne.Deadline), "reason": reason}})
	return ne, nil
}

func joinInts(ns []int64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ",")
}
