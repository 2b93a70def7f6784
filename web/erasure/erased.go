package erasure

import (
	"context"
	"errors"
	"time"
)

// Identifier kinds of IdentifierErased, as the requests' keyed hashes were
// made (an email compared without case, a phone number in E.164).
const (
	IdentEmail      = "email"
	IdentPhone      = "phone"
	IdentExternalID = "externalId"
)

// IdentLabel names an identifier kind for people: "email", "phone number",
// "external ID".
func IdentLabel(kind string) string {
	switch kind {
	case IdentPhone:
		return "phone number"
	case IdentExternalID:
		return "external ID"
	}
	return kind
}

// Mark is the console's record that a customer was erased, or is being
// erased: the request, its reference, its state and when it got there.
type Mark struct {
	ErasureID, Reference string
	State                State
	// At is when Dixa processed the erasure, or for one in progress when
	// it was approved or sent.
	At time.Time
}

// Done reports whether Dixa has processed the erasure.
func (m Mark) Done() bool { return m.State == Processed || m.State == Verified }

// markOf is the mark of a request that erased, or is erasing, its subject.
func markOf(e Erasure) (Mark, bool) {
	m := Mark{ErasureID: e.ID, Reference: e.Reference, State: e.State}
	switch e.State {
	case Processed, Verified:
		m.At = e.ProcessedAt
		if m.At.IsZero() {
			m.At = e.VerifiedAt
		}
	case Submitted:
		m.At = e.SubmittedAt
	case Approved:
		m.At = e.DecidedAt
	default:
		return Mark{}, false
	}
	return m, true
}

// newer keeps the later of two marks, a processed one over one in progress.
func newer(a Mark, haveA bool, b Mark) Mark {
	if !haveA || (b.Done() && !a.Done()) || (b.Done() == a.Done() && b.At.After(a.At)) {
		return b
	}
	return a
}

// SubjectErased returns the mark of the customer with Dixa id subjectID
// when the console erased them or is erasing them. It reads only the
// console's database.
func (s *Service) SubjectErased(ctx context.Context, subjectID string) (Mark, bool, error) {
	es, err := s.Store.ErasuresOf(ctx, subjectID)
	if err != nil {
		return Mark{}, false, err
	}
	var best Mark
	found := false
	for _, e := range es {
		if m, ok := markOf(e); ok {
			best, found = newer(best, found, m), true
		}
	}
	return best, found, nil
}

// maxIdentifierMatches bounds the requests read for one identifier.
const maxIdentifierMatches = 20

// IdentifierErased answers whether a person with this identifier (kind
// IdentEmail, IdentPhone or IdentExternalID, value normalised as the
// customer rules do) was erased or is being erased, by the keyed hashes
// kept with the requests: nothing readable is stored or compared. It reads
// only the console's database.
func (s *Service) IdentifierErased(ctx context.Context, kind, value string) (Mark, bool, error) {
	if value == "" {
		return Mark{}, false, nil
	}
	ids, err := s.Store.ErasuresByIdentifier(ctx, kind, value)
	if err != nil {
		return Mark{}, false, err
	}
	if len(ids) > maxIdentifierMatches {
		ids = ids[:maxIdentifierMatches]
	}
	var best Mark
	found := false
	for _, id := range ids {
		e, err := s.Store.GetErasure(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Mark{}, false, err
		}
		if m, ok := markOf(e); ok {
			best, found = newer(best, found, m), true
		}
	}
	return best, found, nil
}

// Awaiting counts the requests waiting for the lead me: requested by
// another lead and not decided, or handed over by an agent and not
// completed. One count in the database, no call to Dixa.
func (s *Service) Awaiting(ctx context.Context, me Actor) (int, error) {
	return s.Store.CountAwaiting(ctx, me.ID)
}
