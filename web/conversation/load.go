package conversation

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/apperr"
)

// API is what reading one conversation needs from Dixa.
type API interface {
	GetConversation(ctx context.Context, id int64) (apiclient.Conversation, error)
	ListConversationMessages(ctx context.Context, id int64) ([]apiclient.Message, error)
	ListConversationNotes(ctx context.Context, id int64) ([]apiclient.InternalNote, error)
	ListConversationTags(ctx context.Context, id int64) ([]apiclient.Tag, error)
}

// Parts says what to read besides the conversation itself.
type Parts uint8

// The parts of a conversation.
const (
	Messages Parts = 1 << iota
	Notes
	Tags
	All = Messages | Notes | Tags
)

// Thread is a conversation with what was read of it.
type Thread struct {
	Conversation apiclient.Conversation
	// Messages are oldest first.
	Messages []apiclient.Message
	Notes    []apiclient.InternalNote
	Tags     []apiclient.Tag
	// NotesErr and TagsErr are set when those could not be read; the rest
	// is still shown.
	NotesErr, TagsErr error
}

// ParseID reads a conversation id from a URL: a positive whole number
// (digits only, no sign) that fits an int64.
func ParseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// NotFound is the one answer for a conversation that does not exist and
// for one another customer requested: the two cannot be told apart.
func NotFound() *apperr.Error {
	return apperr.New(apperr.NotFound, "This customer has no conversation with that ID. Check the link, or open the conversation from the customer's profile.")
}

// Load reads the conversation and the parts asked for, in parallel, and
// checks that userID requested it; when not, or when Dixa has no such
// conversation, it returns NotFound and nothing else. userID must already
// be a valid id (lower case).
func Load(ctx context.Context, api API, userID string, id int64, parts Parts) (Thread, error) {
	var t Thread
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		t.Conversation, err = api.GetConversation(gctx, id)
		return err
	})
	if parts&Messages != 0 {
		g.Go(func() (err error) {
			t.Messages, err = api.ListConversationMessages(gctx, id)
			return err
		})
	}
	if parts&Notes != 0 {
		g.Go(func() error {
			t.Notes, t.NotesErr = api.ListConversationNotes(gctx, id)
			return nil
		})
	}
	if parts&Tags != 0 {
		g.Go(func() error {
			t.Tags, t.TagsErr = api.ListConversationTags(gctx, id)
			return nil
		})
	}
	err := g.Wait()
	// Ownership first: a failure reading the messages of someone else's
	// conversation must not tell that it exists.
	if err == nil || t.Conversation.ID != 0 {
		if !strings.EqualFold(t.Conversation.RequesterID, userID) {
			return Thread{}, NotFound()
		}
	}
	if errors.Is(err, apiclient.ErrNotFound) {
		return Thread{}, apperr.Wrap(err, apperr.NotFound, NotFound().Msg)
	}
	if err != nil {
		return Thread{}, err
	}
	return t, nil
}
