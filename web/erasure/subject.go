package erasure

import (
	"context"
	"errors"

	"github.com/example/dixa-console/apiclient"
)

// Subject is the customer a request would erase, as Dixa holds them when a
// lead opens the request to decide on it. It is looked up then and shown,
// never stored with the request.
type Subject struct {
	User apiclient.EndUser
	// Conversations is how many conversations the customer has;
	// ConversationsIncomplete is set when not every page could be read
	// (Conversations is then a lower bound).
	Conversations           int
	ConversationsIncomplete bool
}

// Subject looks the customer of a request up in Dixa: the profile and the
// number of conversations. Like a profile page, the profile and the first
// page of conversations come with the page's request; every further page
// of conversations counts against the person's request budget (Spend). A
// failure to read the conversations leaves the count incomplete rather
// than failing the look-up.
func (s *Service) Subject(ctx context.Context, subjectID string) (Subject, error) {
	u, err := s.Dixa.GetEndUser(ctx, subjectID)
	if err != nil {
		return Subject{}, err
	}
	first := true
	convs, err := conversations(ctx, s.Dixa, subjectID, func() error {
		if first {
			first = false
			return nil
		}
		return s.spend(ctx, 1)
	})
	sub := Subject{User: u, Conversations: len(convs)}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, errTooManyPages) {
			return sub, err
		}
		sub.ConversationsIncomplete = true
	}
	return sub, nil
}
