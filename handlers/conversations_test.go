package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web/agents"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/role"
	"github.com/example/dixa-console/web/store"
)

const (
	convUser  = "c0000000-0000-4000-8000-000000000001"
	convAgent = "a0000000-0000-4000-8000-000000000001"
	convID    = 4242
)

// longConversation is a conversation of n messages, alternating between the
// customer and an agent; message 5's id is not a plain token.
type longConversation struct{ n int }

func (l longConversation) GetConversation(_ context.Context, id int64) (apiclient.Conversation, error) {
	if id != convID {
		return apiclient.Conversation{}, &apiclient.Error{Status: http.StatusNotFound}
	}
	return apiclient.Conversation{Type: apiclient.ConvChat, ID: id, RequesterID: convUser, Channel: "WidgetChat", State: apiclient.StateOpen,
		CreatedAt: apiclient.Time{Time: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}, Assignment: &apiclient.Assignment{AgentID: convAgent}}, nil
}

func (l longConversation) ListConversationMessages(context.Context, int64) ([]apiclient.Message, error) {
	out := make([]apiclient.Message, l.n)
	for i := range out {
		m := apiclient.Message{ID: "m" + strconv.Itoa(i), AuthorID: convUser, CreatedAt: apiclient.ZonedTime{Time: time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC)},
			Attributes: apiclient.MessageAttributes{Type: apiclient.MsgChat, Direction: apiclient.DirectionInbound, Content: &apiclient.Content{Type: apiclient.ContentText, Value: "line " + strconv.Itoa(i)}}}
		if i%2 == 1 {
			m.AuthorID, m.Attributes.Direction = convAgent, apiclient.DirectionOutbound
		}
		if i == 5 {
			m.ID = `"><x y="`
		}
		out[i] = m
	}
	return out, nil
}

func (longConversation) ListConversationNotes(context.Context, int64) ([]apiclient.InternalNote, error) {
	return []apiclient.InternalNote{{ID: "n1", AuthorID: convAgent, Message: "a note"}}, nil
}

func (longConversation) ListConversationTags(context.Context, int64) ([]apiclient.Tag, error) {
	return []apiclient.Tag{{ID: "t1", Name: "vip", State: apiclient.TagActive}}, nil
}

type fixedNames struct{}

func (fixedNames) Names(_ context.Context, ids ...string) map[string]agents.Person {
	out := map[string]agents.Person{}
	for _, id := range ids {
		if id == convAgent {
			out[id] = agents.Person{ID: id, Name: "Ann Agent", Email: "ann@example.com", Status: agents.Known}
		}
	}
	return out
}

type failingAudit struct{}

func (failingAudit) Audit(context.Context, store.AuditEntry) error { return errors.New("disk full") }

// serveConv runs one request through the conversation handlers, as a
// viewer, with the route's path values.
func serveConv(t *testing.T, h *handlers.Conversations, path string, htmx bool) (int, *goquery.Document, string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /endusers/{id}/conversations/{conversationId}", h.Show)
	mux.HandleFunc("GET /endusers/{id}/conversations/{conversationId}/messages", h.Messages)
	mux.HandleFunc("GET /endusers/{id}/conversations/{conversationId}/messages/{messageId}", h.Message)
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if htmx {
		r.Header.Set("HX-Request", "true")
	}
	r = r.WithContext(reqctx.WithIdentity(r.Context(), reqctx.Identity{ID: "v@example.com", Name: "V", Role: role.Viewer}))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	d, err := goquery.NewDocumentFromReader(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return w.Code, d, w.Body.String()
}

func messageIDs(d *goquery.Document) []string {
	var ids []string
	d.Find(`article[data-testid="message"]`).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr("data-id", "")) })
	return ids
}

// TestConversationEarlierMessages: a long conversation shows its newest
// 50 messages; "show earlier messages" grows the list 50 at a time, each
// view on record.
func TestConversationEarlierMessages(t *testing.T) {
	audit := &recordingAudit{}
	h := &handlers.Conversations{API: longConversation{n: 120}, Agents: fixedNames{}, Audit: audit}
	base := "/endusers/" + convUser + "/conversations/" + strconv.Itoa(convID)
	code, d, _ := serveConv(t, h, base, false)
	ids := messageIDs(d)
	if code != http.StatusOK || len(ids) != 50 || ids[0] != "m70" || ids[49] != "m119" {
		t.Fatalf("page: status %d, messages %v", code, ids)
	}
	if d.Find(`article[data-testid="message"] h3`).Length() != 50 {
		t.Error("each message on the page wants an h3")
	}
	earlier := d.Find(`[data-testid="earlier"]`)
	if !strings.Contains(earlier.Parent().Text(), "70 not shown") {
		t.Errorf("earlier: %q", earlier.Parent().Text())
	}
	next := earlier.AttrOr("hx-get", "")
	// Without the script the same link opens the page from that message on.
	if code, page, body := serveConv(t, h, earlier.AttrOr("href", ""), false); code != http.StatusOK || !strings.Contains(body, "<html") || len(messageIDs(page)) != 100 {
		t.Errorf("earlier messages as a page: status %d, %d messages", code, len(messageIDs(page)))
	}
	for _, want := range []struct {
		first   string
		n       int
		earlier bool
	}{{"m20", 100, true}, {"m0", 120, false}} {
		code, d, _ = serveConv(t, h, next, true)
		ids = messageIDs(d)
		if code != http.StatusOK || len(ids) != want.n || ids[0] != want.first {
			t.Fatalf("%s: status %d, %d messages from %v", next, code, len(ids), ids[:1])
		}
		if d.Find(`[data-testid="message"][data-focus]`).AttrOr("data-id", "") != want.first {
			t.Error("focus does not go to the first message shown")
		}
		next = d.Find(`[data-testid="earlier"]`).AttrOr("hx-get", "")
		if (next != "") != want.earlier {
			t.Errorf("from %s: earlier link %q", want.first, next)
		}
	}
	if !slices.Contains(ids, "n5") || d.Find("x").Length() > 0 {
		t.Error("a message id that is not a token was used as it is")
	}
	audit.mu.Lock()
	defer audit.mu.Unlock()
	if len(audit.entries) != 4 || audit.entries[0].Details["view"] != "page" || audit.entries[2].Details["view"] != "earlier" {
		t.Errorf("audit entries: %+v", audit.entries)
	}
	for _, e := range audit.entries {
		if e.Action != handlers.ActConversationViewed || e.TargetID != strconv.Itoa(convID) || strings.Contains(strings.Join(mapValues(e.Details), " "), "line") {
			t.Errorf("entry %+v", e)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestConversationPanelHeadings: under the profile's row (level 2
// "Conversations") the panel's title is an h3, its sections h4, its
// messages h5, and the earlier messages keep those levels.
func TestConversationPanelHeadings(t *testing.T) {
	h := &handlers.Conversations{API: longConversation{n: 60}, Agents: fixedNames{}}
	code, d, body := serveConv(t, h, "/endusers/"+convUser+"/conversations/"+strconv.Itoa(convID), true)
	if code != http.StatusOK || strings.Contains(body, "<html") {
		t.Fatalf("panel: status %d", code)
	}
	if d.Find(`article[data-testid="conversation"] > h3`).Length() != 1 || d.Find("h4").Length() != 3 || d.Find(`[data-testid="message"] h5`).Length() != 50 {
		t.Errorf("headings: %d h3, %d h4, %d h5", d.Find("h3").Length(), d.Find("h4").Length(), d.Find("h5").Length())
	}
	if d.Find(`[data-testid="conv-assignee"]`).Text() != "Ann Agent" {
		t.Errorf("assignee reads %q", d.Find(`[data-testid="conv-assignee"]`).Text())
	}
	earlier := d.Find(`[data-testid="earlier"]`).AttrOr("hx-get", "")
	if !strings.Contains(earlier, "in=panel") {
		t.Fatalf("earlier link %q does not keep the panel's levels", earlier)
	}
	_, d, _ = serveConv(t, h, earlier, true)
	if d.Find(`[data-testid="message"] h5`).Length() != 60 {
		t.Errorf("earlier messages in the panel: %d h5", d.Find("h5").Length())
	}
}

// TestConversationViewNotRecordedNotShown: when the audit log cannot be
// written the conversation is not shown.
func TestConversationViewNotRecordedNotShown(t *testing.T) {
	h := &handlers.Conversations{API: longConversation{n: 3}, Agents: fixedNames{}, Audit: failingAudit{}}
	code, d, body := serveConv(t, h, "/endusers/"+convUser+"/conversations/"+strconv.Itoa(convID), false)
	if code != http.StatusServiceUnavailable || d.Find(`[data-testid="message"]`).Length() != 0 || strings.Contains(body, "line 1") {
		t.Errorf("status %d, %d messages shown", code, d.Find(`[data-testid="message"]`).Length())
	}
}
