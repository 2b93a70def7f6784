package erasure

import (
	"context"
	"errors"
	"strconv"
)

// scrub removes a verified erasure's person from the console's own
// records: the cached previews, and through the Scrubber every import row
// and problem text holding one of the identifiers sealed with the request.
// The sealed identifiers are deleted afterwards. An erasure that ended in
// any other final state keeps nothing either: its sealed identifiers are
// deleted without a scrub.
func (s *Service) scrub(ctx context.Context, e Erasure) error {
	s.previews.forget(e.SubjectID)
	if e.State != Verified {
		return s.Store.DropScrubList(ctx, e.ID)
	}
	values, err := s.Store.ScrubList(ctx, e.ID)
	if errors.Is(err, ErrNotFound) {
		return nil // scrubbed before
	}
	if err != nil {
		return err
	}
	if s.Scrubber == nil {
		s.log().Warn("no scrubber: the console's import records were not searched for the erased person", "erasure", e.ID)
		return s.Store.DropScrubList(ctx, e.ID)
	}
	n := 0
	if len(values) > 0 {
		if n, err = s.Scrubber.ScrubImportRows(ctx, values); err != nil {
			return err
		}
	}
	if err := s.Store.DropScrubList(ctx, e.ID); err != nil {
		return err
	}
	s.record(ctx, tracked(Event{Action: ActScrubbed, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK,
		Details: map[string]string{"subjectId": e.SubjectID, "importRows": strconv.Itoa(n)}}))
	return nil
}

// ScrubPending finishes the scrubs of requests that reached a final state
// and still hold sealed identifiers (a scrub that failed, or a restart in
// between). It returns how many it finished.
func (s *Service) ScrubPending(ctx context.Context) (int, error) {
	pending, err := s.Store.PendingScrubs(ctx, 50)
	if err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	for _, e := range pending {
		if ctx.Err() != nil {
			break
		}
		if err := s.scrub(ctx, e); err != nil {
			errs = append(errs, err)
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}
