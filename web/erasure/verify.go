package erasure

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/example/dixa-console/apiclient"
)

// verifyRetries is how many times a verification that finds data left is
// repeated (with back-off) before the erasure is marked failed, in case
// Dixa's processing is visible a little later than processedAt.
const verifyRetries = 2

// leftovers re-reads the customer and every conversation: it names the
// personal fields still filled (or matching one of the request's recorded
// identifier digests) and the conversations not anonymized. A customer
// Dixa no longer has counts as blank.
func (s *Service) leftovers(ctx context.Context, e Erasure) ([]string, []int64, error) {
	u, err := s.Dixa.GetEndUser(ctx, e.SubjectID)
	if errors.Is(err, apiclient.ErrNotFound) {
		return nil, nil, nil // the record itself is gone: nothing personal is left in it
	}
	if err != nil {
		return nil, nil, err
	}
	left := leftoverFields(u)
	recorded, err := s.Store.ErasureDigests(ctx, e.ID)
	if err != nil {
		return nil, nil, err
	}
	have := map[string]bool{}
	for _, d := range recorded {
		have[d] = true
	}
	if u.DisplayName != "" && have[s.Store.IdentifierDigest("name", u.DisplayName)] {
		left = append(left, "displayName")
	}
	for _, id := range identifiers(u) {
		if have[s.Store.IdentifierDigest(id.kind, id.value)] && !slices.Contains(left, id.kind) {
			left = append(left, id.kind)
		}
	}
	convs, err := conversations(ctx, s.Dixa, e.SubjectID, nil)
	if err != nil && !errors.Is(err, apiclient.ErrNotFound) {
		return nil, nil, err
	}
	var notAnon []int64
	for _, c := range convs {
		if c.Type != apiclient.ConvAnonymized {
			notAnon = append(notAnon, c.ID)
		}
	}
	return left, notAnon, nil
}

// verify checks a processed erasure in Dixa: the personal fields must be
// blank (and none of the recorded identifiers may be found there again),
// every conversation must be anonymized. Then the console's own records
// are scrubbed.
func (s *Service) verify(ctx context.Context, e Erasure) (Erasure, error) {
	left, notAnon, err := s.leftovers(ctx, e)
	if err != nil {
		ne, terr := s.later(ctx, e)
		return ne, errors.Join(err, terr)
	}
	now := s.now()
	if len(left) == 0 && len(notAnon) == 0 {
		ne, err := s.Store.Transition(ctx, e.ID, Processed, func(x *Erasure) error {
			x.State, x.VerifiedAt, x.LastCheckedAt, x.Failure = Verified, now, now, ""
			return nil
		})
		if err != nil {
			return e, err
		}
		s.record(ctx, tracked(Event{Action: ActVerified, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK,
			Details: map[string]string{"subjectId": e.SubjectID, "dixaRequestId": e.DixaRequestID}}))
		if err := s.scrub(ctx, ne); err != nil {
			s.log().Error("erasure verified; scrubbing the console's records failed, will retry", "erasure", e.ID, "err", err)
		}
		return ne, nil
	}
	if e.PollAttempts < verifyRetries {
		return s.later(ctx, e)
	}
	msg := verificationProblem(left, notAnon)
	ne, err := s.Store.Transition(ctx, e.ID, Processed, func(x *Erasure) error {
		x.State, x.LastCheckedAt, x.Failure = Failed, now, msg
		return nil
	})
	if err != nil {
		return e, err
	}
	s.record(ctx, tracked(Event{Action: ActFailed, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeFailed, Details: map[string]string{
		"subjectId": e.SubjectID, "dixaRequestId": e.DixaRequestID, "fieldsLeft": strings.Join(left, ","),
		"conversationsNotAnonymized": joinInts(notAnon)}}))
	s.log().Error("erasure verification failed", "erasure", e.ID, "fields", strings.Join(left, ","), "conversations", len(notAnon))
	return ne, nil
}

func verificationProblem(fields []string, convs []int64) string {
	var parts []string
	if len(fields) > 0 {
		parts = append(parts, "fields still filled: "+strings.Join(fields, ", "))
	}
	if len(convs) > 0 {
		ids := joinInts(convs)
		if len(convs) > 20 {
			ids = joinInts(convs[:20]) + ", …"
		}
		parts = append(parts, fmt.Sprintf("%s not anonymized: %s", plural(len(convs), "conversation"), ids))
	}
	return "Verification after Dixa's processing found " + strings.Join(parts, "; ") + "."
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
