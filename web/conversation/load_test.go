package conversation_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/conversation"
)

func simClient(t *testing.T, o dixasim.Options) (*dixasim.Sim, *apiclient.Client) {
	t.Helper()
	if o.Users == 0 {
		o.Users = 20
	}
	sim := dixasim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	api, err := apiclient.New(srv.URL, apiclient.WithAPIKey(dixasim.DefaultAPIKey), apiclient.WithLimiter(apiclient.NewLimiter(1000, 50)), apiclient.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return sim, api
}

// pageLimits returns the pageLimit of each conversation list request.
func pageLimits(sim *dixasim.Sim) []string {
	var out []string
	for _, r := range sim.Requests() {
		if strings.HasSuffix(r.Path, "/conversations") && strings.Contains(r.Path, "/endusers/") {
			q, _ := parseQuery(r.RawQuery)
			out = append(out, q)
		}
	}
	return out
}

func parseQuery(raw string) (string, error) {
	for kv := range strings.SplitSeq(raw, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == "pageLimit" {
			return v, nil
		}
	}
	return "", nil
}

// TestRecentNewestFirst: the simulator lists the oldest first, as Dixa
// does; the console shows the open and pending ones first, then the rest
// newest first.
func TestRecentNewestFirst(t *testing.T) {
	sim, api := simClient(t, dixasim.Options{})
	l := conversation.NewLister(api, 0)
	r, err := l.Recent(t.Context(), dixasim.DemoBusyUserID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete || r.Read != 30 || len(r.Items) != 30 || r.More() || r.Limit != 50 {
		t.Fatalf("busy customer: read %d, complete %v, shown %d, limit %d", r.Read, r.Complete, len(r.Items), r.Limit)
	}
	dixa, _ := api.ListEndUserConversations(t.Context(), dixasim.DemoBusyUserID, apiclient.PageOptions{PageLimit: 50})
	if first, last := dixa.Items[0], dixa.Items[len(dixa.Items)-1]; !first.CreatedAt.Before(last.CreatedAt.Time) {
		t.Fatalf("the simulator no longer lists the oldest first; this test proves nothing")
	}
	attention := 0
	for i, c := range r.Items {
		if conversation.NeedsAttention(c) {
			attention++
			if i >= r.Attention {
				t.Errorf("conversation %d needs attention but is listed at %d, after the others", c.ID, i)
			}
		}
		if i > 0 && i != r.Attention && r.Items[i-1].CreatedAt.Before(c.CreatedAt.Time) {
			t.Errorf("conversation %d (%v) comes after an older one (%v)", c.ID, c.CreatedAt, r.Items[i-1].CreatedAt)
		}
	}
	if attention != r.Attention || attention == 0 {
		t.Errorf("attention %d, counted %d (the busy customer has some open ones)", r.Attention, attention)
	}
	if got := pageLimits(sim); len(got) != 2 || got[0] != "50" {
		t.Errorf("page limits asked: %v", got)
	}
}

// TestRecentMorePages: with a small page, up to MaxListPages are read and
// the customer is told there are more.
func TestRecentMorePages(t *testing.T) {
	_, api := simClient(t, dixasim.Options{})
	r, err := conversation.NewLister(api, 7).Recent(t.Context(), dixasim.DemoBusyUserID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || r.Read != 7*conversation.MaxListPages || !r.More() {
		t.Errorf("read %d, complete %v, more %v; want %d, false, true", r.Read, r.Complete, r.More(), 7*conversation.MaxListPages)
	}
	if len(r.Items) < 7 || len(r.Items) > max(7, r.Attention) {
		t.Errorf("%d shown with %d needing attention, want 7 (more only when more need attention)", len(r.Items), r.Attention)
	}
	r, err = conversation.NewLister(api, 10).Recent(t.Context(), dixasim.DemoBusyUserID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Complete || r.Read != 30 || !r.More() {
		t.Errorf("pages of 10: read %d, complete %v, more %v; want 30, true, true", r.Read, r.Complete, r.More())
	}
}

// TestPageLimitFallback: a page size Dixa refuses with 400 falls back to
// 25, then 10, and the size that worked is kept.
func TestPageLimitFallback(t *testing.T) {
	sim, api := simClient(t, dixasim.Options{MaxPageSize: 20})
	l := conversation.NewLister(api, 50)
	r, err := l.Recent(t.Context(), dixasim.DemoBusyUserID)
	if err != nil {
		t.Fatal(err)
	}
	if l.Limit() != 10 || r.Limit != 10 {
		t.Errorf("limit %d, want 10", l.Limit())
	}
	if got := strings.Join(pageLimits(sim), ","); got != "50,25,10,10,10" {
		t.Errorf("page limits asked: %s, want 50,25,10,10,10", got)
	}
	sim.ResetStats()
	if _, err := l.Recent(t.Context(), dixasim.DemoOpenConversationUserID); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pageLimits(sim), ","); got != "10" {
		t.Errorf("the next customer: page limits asked %s, want 10 only", got)
	}
	_, api = simClient(t, dixasim.Options{MaxPageSize: 5})
	if _, err := conversation.NewLister(api, 50).Page(t.Context(), dixasim.DemoBusyUserID, ""); !errors.Is(err, apiclient.ErrBadRequest) {
		t.Errorf("every size refused: err %v, want the 400", err)
	}
}

// TestLoadChecksTheRequester: a conversation is read only for the customer
// who requested it; another's is "not found", like one that does not exist.
func TestLoadChecksTheRequester(t *testing.T) {
	sim, api := simClient(t, dixasim.Options{})
	id, ok := sim.DemoConversationID(dixasim.DemoHostileEmail)
	if !ok {
		t.Fatal("no hostile demo conversation")
	}
	th, err := conversation.Load(t.Context(), api, dixasim.DemoScriptUserID, id, conversation.All)
	if err != nil {
		t.Fatal(err)
	}
	if th.Conversation.ID != id || len(th.Messages) == 0 || len(th.Notes) == 0 || len(th.Tags) == 0 {
		t.Errorf("got conversation %d, %d messages, %d notes, %d tags", th.Conversation.ID, len(th.Messages), len(th.Notes), len(th.Tags))
	}
	for _, c := range []struct {
		user string
		id   int64
	}{{dixasim.DemoBusyUserID, id}, {dixasim.DemoScriptUserID, 999999999}} {
		_, err := conversation.Load(t.Context(), api, c.user, c.id, conversation.All)
		if e, ok := apperr.As(err); !ok || e.Code != apperr.NotFound || e.Msg != conversation.NotFound().Msg {
			t.Errorf("user %s, conversation %d: err %v, want the one not-found answer", c.user, c.id, err)
		}
	}
}

// TestLoadNotesFailing: notes and tags that cannot be read leave the rest.
func TestLoadNotesFailing(t *testing.T) {
	sim, api := simClient(t, dixasim.Options{})
	id, _ := sim.DemoConversationID(dixasim.DemoHostileEmail)
	sim.FailNext("GET /conversations/{conversationId}/notes", 1, http.StatusInternalServerError)
	th, err := conversation.Load(t.Context(), api, dixasim.DemoScriptUserID, id, conversation.All)
	if err != nil || th.NotesErr == nil || th.TagsErr != nil || len(th.Messages) == 0 {
		t.Errorf("err %v, notes err %v, tags err %v, %d messages", err, th.NotesErr, th.TagsErr, len(th.Messages))
	}
	sim.FailNext("GET /conversations/{conversationId}/messages", 1, http.StatusInternalServerError)
	if _, err := conversation.Load(t.Context(), api, dixasim.DemoScriptUserID, id, conversation.All); !errors.Is(err, apiclient.ErrUpstream) {
		t.Errorf("messages failing: err %v, want the upstream error", err)
	}
}
