package erasure

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// reconcileNote is shown on a request that went back for approval.
const reconcileNote = "The console lost track of the call to Dixa for this request and found the customer not (yet) anonymized in Dixa. " +
	"It went back for approval: approving again checks the customer in Dixa before anything is sent."

// Reconcile moves on the requests stuck in approved whose call to Dixa has
// ended without the console learning the outcome (the process stopped in
// between, or Dixa did not answer in time). It never sends an anonymize
// call; it looks at the customer in Dixa:
//   - anonymized (no personal field left, every conversation anonymized,
//     or the customer gone): the call reached Dixa; the request moves to
//     processed and is verified as usual;
//   - not anonymized: the call may not have reached Dixa, or Dixa has not
//     processed it yet; the request goes back to requested, marked
//     MaybeSent, with the reason on the request and in the audit log. A
//     lead approves it again, and that approval checks Dixa again first.
//
// It returns how many requests it moved on.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	before := s.now().Add(-orDefault(s.Tracking.ReconcileAfter, 5*time.Minute))
	stuck, err := s.Store.ApprovedBefore(ctx, before, 20)
	if err != nil {
		s.failed(ctx, err)
		return 0, err
	}
	moved := 0
	var errs []error
	for _, e := range stuck {
		if ctx.Err() != nil {
			break
		}
		_, _, err := s.alreadyAnonymized(apiclient.WithLowPriority(ctx), e, true)
		switch {
		case errors.Is(err, ErrStateChanged):
		case err != nil:
			s.failed(ctx, err)
			errs = append(errs, err)
		default:
			moved++
		}
	}
	return moved, errors.Join(errs...)
}

// alreadyAnonymized looks at the customer of an approved request whose
// earlier call may have reached Dixa. When Dixa shows them anonymized it
// moves the request to processed and done is true: no call must be sent.
// Otherwise, for the reconciliation (sendBack), it puts the request back
// to requested with the reason; for an approval it leaves the request
// approved for the call to be sent.
func (s *Service) alreadyAnonymized(ctx context.Context, e Erasure, sendBack bool) (done bool, ne Erasure, err error) {
	left, notAnon, err := s.leftovers(ctx, e)
	if err != nil {
		s.log().Warn("reconciliation: the customer could not be read in Dixa; trying later", "erasure", e.ID, "err", err)
		return false, e, err
	}
	now := s.now()
	if len(left) == 0 && len(notAnon) == 0 {
		ne, err = s.Store.Transition(ctx, e.ID, Approved, func(x *Erasure) error {
			x.State, x.ProcessedAt, x.LastCheckedAt, x.NextPollAt, x.PollAttempts = Processed, now, now, now, 0
			x.MaybeSent, x.Failure = false, ""
			return nil
		})
		if err != nil {
			return false, e, err
		}
		s.record(ctx, tracked(Event{Action: ActReconciled, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK, Details: map[string]string{
			"subjectId": e.SubjectID, "finding": "anonymized in Dixa", "to": string(Processed)}}))
		s.log().Info("reconciled: Dixa shows the customer anonymized; no call sent", "erasure", e.ID)
		return true, ne, nil
	}
	if !sendBack {
		return false, e, nil
	}
	ne, err = s.Store.Transition(ctx, e.ID, Approved, func(x *Erasure) error {
		x.State, x.DecidedByID, x.DecidedByName, x.DecidedAt, x.DecisionComment = Requested, "", "", time.Time{}, ""
		x.MaybeSent, x.Failure = true, reconcileNote
		return nil
	})
	if err != nil {
		return false, e, err
	}
	s.record(ctx, tracked(Event{Action: ActReconciled, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeUnknown, Details: map[string]string{
		"subjectId": e.SubjectID, "finding": "not anonymized in Dixa", "fieldsLeft": strings.Join(left, ","),
		"conversationsNotAnonymized": joinInts(notAnon), "to": string(Requested), "next": "approve again"}}))
	s.log().Warn("reconciled: customer not anonymized in Dixa; request back for approval", "erasure", e.ID)
	return false, ne, nil
}
