package dixasim_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

func TestListConversations(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	all := e.conversations(dixasim.DemoBusyUserID)
	if len(all) != 30 {
		t.Fatalf("got %d conversations, want 30", len(all))
	}
	kinds, channels, states := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, c := range all {
		kinds[c.Type], channels[c.Channel], states[c.State] = true, true, true
		if c.RequesterID != dixasim.DemoBusyUserID {
			t.Errorf("got requester %s, want the user", c.RequesterID)
		}
		if i > 0 && (c.CreatedAt < all[i-1].CreatedAt || c.CreatedAt == all[i-1].CreatedAt && c.ID <= all[i-1].ID) {
			t.Errorf("got %d after %d, want createdAt then id order", c.ID, all[i-1].ID)
		}
	}
	if len(kinds) != 11 || len(channels) != 11 || len(states) != 4 {
		t.Errorf("got %d kinds, %d channels, %d states, want 11, 11, 4", len(kinds), len(channels), len(states))
	}

	// Pages of 7: 5 pages, next absent on the last, previous on later ones.
	var ids []int64
	path := "/beta/endusers/" + dixasim.DemoBusyUserID + "/conversations?pageLimit=7"
	n := 0
	for path != "" {
		var p conversationList
		e.do("GET", path, nil).want(t, 200).decode(t, &p)
		n++
		if (n > 1) != (p.Meta.Previous != "") {
			t.Errorf("page %d: got previous %q", n, p.Meta.Previous)
		}
		for _, c := range p.Data {
			ids = append(ids, c.ID)
		}
		path = p.Meta.Next
	}
	if n != 5 || len(ids) != 30 {
		t.Errorf("got %d pages and %d conversations, want 5 and 30", n, len(ids))
	}

	var empty conversationList
	e.do("GET", "/v1/endusers/"+dixasim.DemoMinimalUserID+"/conversations", nil).want(t, 200).decode(t, &empty)
	if empty.Data == nil || len(empty.Data) != 0 || empty.Meta.Next != "" {
		t.Errorf("got %+v, want an empty list", empty)
	}
	tests := []struct {
		name, path string
		status     int
		msg        string
	}{
		{"unknown user", "/v1/endusers/0f0f0f0f-0000-4000-8000-000000000000/conversations", 404, "The requested resource could not be found"},
		{"not a uuid", "/v1/endusers/nope/conversations", 400, "Invalid value for: path parameter userId"},
		{"bad page limit", "/v1/endusers/" + dixasim.DemoBusyUserID + "/conversations?pageLimit=-1", 400, "Invalid value for: query parameter pageLimit"},
		{"bad page key", "/v1/endusers/" + dixasim.DemoBusyUserID + "/conversations?pageKey=AAAA", 400, "Invalid value for: query parameter pageKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.do("GET", tt.path, nil).want(t, tt.status).message(t); got != tt.msg {
				t.Errorf("got %q, want %q", got, tt.msg)
			}
		})
	}
	// Another user's key does not page this user's conversations.
	var p conversationList
	e.do("GET", "/v1/endusers/"+dixasim.DemoBusyUserID+"/conversations?pageLimit=2", nil).decode(t, &p)
	other := "/v1/endusers/" + dixasim.DemoOpenConversationUserID + "/conversations" + p.Meta.Next[len("/v1/endusers/"+dixasim.DemoBusyUserID+"/conversations"):]
	e.do("GET", other, nil).want(t, 400)
}

// message is a message as the tests read it.
type message struct {
	ID         string         `json:"id"`
	AuthorID   string         `json:"authorId"`
	ExternalID string         `json:"externalId"`
	CreatedAt  string         `json:"createdAt"`
	Attributes map[string]any `json:"attributes"`
}

type note struct {
	ID        string `json:"id"`
	AuthorID  string `json:"authorId"`
	CreatedAt string `json:"createdAt"`
	CSID      int64  `json:"csid"`
	Message   string `json:"message"`
}

type tag struct {
	ID, Name, Color, State string
}

type agent struct {
	ID          string   `json:"id"`
	CreatedAt   string   `json:"createdAt"`
	DisplayName string   `json:"displayName"`
	Email       string   `json:"email"`
	Roles       []string `json:"roles"`
}

// content fetches a conversation's messages, notes and tags.
func (e *env) content(id int64) (msgs []message, notes []note, tags []tag) {
	e.t.Helper()
	var m struct{ Data []message }
	var n struct{ Data []note }
	var g struct{ Data []tag }
	e.do("GET", fmt.Sprintf("/v1/conversations/%d/messages", id), nil).want(e.t, 200).decode(e.t, &m)
	e.do("GET", fmt.Sprintf("/v1/conversations/%d/notes", id), nil).want(e.t, 200).decode(e.t, &n)
	e.do("GET", fmt.Sprintf("/beta/conversations/%d/tags", id), nil).want(e.t, 200).decode(e.t, &g)
	return m.Data, n.Data, g.Data
}

// directory returns every listed agent by id, following the pages.
func (e *env) directory() map[string]agent {
	e.t.Helper()
	out := map[string]agent{}
	path := "/v1/agents?pageLimit=7"
	for path != "" {
		var p struct {
			Data []agent
			Meta meta
		}
		e.do("GET", path, nil).want(e.t, 200).decode(e.t, &p)
		for _, a := range p.Data {
			if _, dup := out[a.ID]; dup {
				e.t.Errorf("got agent %s twice", a.ID)
			}
			out[a.ID] = a
		}
		path = p.Meta.Next
	}
	return out
}

// body is a message's text: its content, or an email's regular content.
func body(m message) string {
	if c, ok := m.Attributes["content"].(map[string]any); ok {
		return c["value"].(string)
	}
	if ec, ok := m.Attributes["emailContent"].(map[string]any); ok {
		if c, ok := ec["content"].(map[string]any); ok {
			return c["value"].(string)
		}
	}
	return ""
}

func TestConversationContent(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	dir := e.directory()
	deleted := map[string]bool{}
	for _, id := range e.sim.DeletedAgentIDs() {
		deleted[id] = true
	}
	isAgent := func(id string) bool { _, ok := dir[id]; return ok || deleted[id] }
	kinds := map[string]bool{}
	for _, uid := range []string{dixasim.DemoBusyUserID, dixasim.DemoOpenConversationUserID, dixasim.DemoQuotesRTLUserID, dixasim.DemoScriptUserID} {
		for _, c := range e.conversations(uid) {
			var one struct {
				Data struct {
					conversation
					CustomAttributes []attribute `json:"customAttributes"`
				}
			}
			r := e.do("GET", fmt.Sprintf("/v1/conversations/%d", c.ID), nil).want(t, 200)
			r.decode(t, &one)
			if one.Data.ID != c.ID || one.Data.RequesterID != uid || one.Data.CustomAttributes == nil {
				t.Errorf("conversation %d: got %s", c.ID, r.Body)
			}
			msgs, notes, tags := e.content(c.ID)
			if len(msgs) == 0 {
				t.Errorf("conversation %d: got no messages", c.ID)
			}
			last, _ := apiclient.ParseTime(c.CreatedAt)
			for _, m := range msgs {
				kinds[m.Attributes["_type"].(string)] = true
				at, err := apiclient.ParseTime(m.CreatedAt)
				if err != nil || !at.After(last) {
					t.Errorf("conversation %d: message at %s, after %v", c.ID, m.CreatedAt, last)
				}
				last = at
				inbound := m.Attributes["direction"] == "Inbound"
				if inbound && m.AuthorID != uid || !inbound && m.AuthorID != uid && !isAgent(m.AuthorID) {
					t.Errorf("conversation %d: message %s by %s (%v)", c.ID, m.ID, m.AuthorID, m.Attributes["direction"])
				}
			}
			for _, n := range notes {
				if n.CSID != c.ID || !isAgent(n.AuthorID) || n.Message == "" {
					t.Errorf("conversation %d: got note %+v", c.ID, n)
				}
			}
			for _, g := range tags {
				if g.ID == "" || g.Name == "" || g.State != "Active" && g.State != "Inactive" {
					t.Errorf("conversation %d: got tag %+v", c.ID, g)
				}
			}
		}
	}
	if len(kinds) != 12 {
		t.Errorf("got message kinds %v, want all 12", kinds)
	}
}

func TestDemoConversations(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	id := func(d dixasim.DemoConversation) int64 {
		t.Helper()
		n, ok := e.sim.DemoConversationID(d)
		if !ok {
			t.Fatalf("no %s", d)
		}
		return n
	}

	huge := e.do("GET", fmt.Sprintf("/v1/conversations/%d/messages", id(dixasim.DemoHugeMessage)), nil).want(t, 200)
	var msgs struct{ Data []message }
	huge.decode(t, &msgs)
	tooLarge, quoted := false, false
	for _, m := range msgs.Data {
		if ec, _ := m.Attributes["emailContent"].(map[string]any); ec["_type"] == "TooLarge" {
			tooLarge = true
		}
		quoted = quoted || strings.Contains(body(m), "\n> ") || strings.Contains(body(m), "<blockquote")
	}
	if n := len(body(msgs.Data[0])); n < 1<<20 || n > 1<<20+16<<10 || !tooLarge || !quoted {
		t.Errorf("got a first body of %d bytes, TooLarge %v, quoted %v; want about 1 MB, both", n, tooLarge, quoted)
	}

	msgsH, notes, tags := e.content(id(dixasim.DemoHostileEmail))
	all := fmt.Sprint(msgsH, notes, tags)
	for _, s := range []string{"<script>", "javascript:", "\u202E", "<style>", "onerror=", "<iframe"} {
		if !strings.Contains(all, s) {
			t.Errorf("hostile conversation: no %q", s)
		}
	}

	rtl, _, _ := e.content(id(dixasim.DemoRTLChat))
	text := fmt.Sprint(rtl)
	for name, tab := range map[string]*unicode.RangeTable{"Arabic": unicode.Arabic, "Hebrew": unicode.Hebrew} {
		if !strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(tab, r) }) {
			t.Errorf("RTL chat: no %s", name)
		}
	}
	if !strings.Contains(text, "\u202E") {
		t.Errorf("RTL chat: no right-to-left override")
	}
	if _, ok := e.sim.DemoConversationID("nope"); ok {
		t.Errorf("got an id for an unknown demo conversation")
	}
}

func TestConversationErrors(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	busy := e.conversations(dixasim.DemoBusyUserID)
	tests := []struct {
		path   string
		status int
		msg    string
	}{
		{"/v1/conversations/abc", 400, "Invalid value for: path parameter conversationId"},
		{"/v1/conversations/1.5/messages", 400, "Invalid value for: path parameter conversationId"},
		{"/v1/conversations/99999999999999999999/notes", 400, "Invalid value for: path parameter conversationId"},
		{"/v1/conversations/1", 404, "The requested resource could not be found"},
		{"/v1/conversations/-4/messages", 404, "The requested resource could not be found"},
		{"/beta/conversations/1/notes", 404, "The requested resource could not be found"},
		{"/v1/conversations/1/tags", 404, "The requested resource could not be found"},
		{"/v1/endusers/" + dixasim.DemoBusyUserID + "/conversations?pageLimit=101", 400, "Invalid value for: query parameter pageLimit"},
	}
	for _, tt := range tests {
		if got := e.do("GET", tt.path, nil).want(t, tt.status).message(t); got != tt.msg {
			t.Errorf("%s: got %q, want %q", tt.path, got, tt.msg)
		}
	}
	// At the maximum the conversations list answers; the end users list
	// lowers a larger limit instead of refusing it.
	var p conversationList
	e.do("GET", "/v1/endusers/"+dixasim.DemoBusyUserID+"/conversations?pageLimit=100", nil).want(t, 200).decode(t, &p)
	if len(p.Data) != len(busy) {
		t.Errorf("got %d conversations, want %d", len(p.Data), len(busy))
	}
	e.do("GET", "/v1/endusers?pageLimit=500", nil).want(t, 200)
}

// The content is generated, not stored: it must be the same every time and
// in every simulator with the same seed.
func TestConversationContentIsDeterministic(t *testing.T) {
	a, b := newEnv(t, dixasim.Options{}), newEnv(t, dixasim.Options{})
	for i, c := range a.conversations(dixasim.DemoBusyUserID) {
		if i%3 != 0 {
			continue
		}
		for _, suffix := range []string{"", "/messages", "/notes", "/tags"} {
			path := fmt.Sprintf("/v1/conversations/%d%s", c.ID, suffix)
			first, again, other := a.do("GET", path, nil), a.do("GET", path, nil), b.do("GET", path, nil)
			if !bytes.Equal(first.Body, again.Body) || !bytes.Equal(first.Body, other.Body) {
				t.Errorf("%s: answers differ", path)
			}
		}
	}
}

// Anonymizing a user blanks their conversations' messages and notes but
// keeps ids, authors, times, kinds and tags.
func TestAnonymizationBlanksConversationContent(t *testing.T) {
	e := newEnv(t, dixasim.Options{AnonymizeDelay: -1})
	type snapshot struct {
		msgs  []message
		notes []note
		tags  []tag
	}
	before := map[int64]snapshot{}
	for _, c := range e.conversations(dixasim.DemoOpenConversationUserID) {
		m, n, g := e.content(c.ID)
		before[c.ID] = snapshot{m, n, g}
	}
	e.do("PATCH", "/v1/endusers/"+dixasim.DemoOpenConversationUserID+"/anonymize?force=true", nil).want(t, 202)
	for id, was := range before {
		m, n, g := e.content(id)
		if len(m) != len(was.msgs) || len(n) != len(was.notes) || fmt.Sprint(g) != fmt.Sprint(was.tags) {
			t.Fatalf("conversation %d: got %d messages, %d notes, tags %v; want %d, %d, %v",
				id, len(m), len(n), g, len(was.msgs), len(was.notes), was.tags)
		}
		for i := range m {
			if m[i].ID != was.msgs[i].ID || m[i].AuthorID != was.msgs[i].AuthorID || m[i].CreatedAt != was.msgs[i].CreatedAt ||
				m[i].Attributes["_type"] != was.msgs[i].Attributes["_type"] {
				t.Errorf("conversation %d: message %d changed its metadata", id, i)
			}
			if body(m[i]) != "" || len(m[i].Attributes["attachments"].([]any)) != 0 {
				t.Errorf("conversation %d: message %d keeps %q", id, i, body(m[i]))
			}
			if from, ok := m[i].Attributes["from"].(map[string]any); ok && from["email"] != "" {
				t.Errorf("conversation %d: message %d keeps its sender %v", id, i, from)
			}
		}
		for _, x := range n {
			if x.Message != "" {
				t.Errorf("conversation %d: note keeps %q", id, x.Message)
			}
		}
		var one struct {
			Data struct {
				Type             string      `json:"_type"`
				CustomAttributes []attribute `json:"customAttributes"`
			}
		}
		e.do("GET", fmt.Sprintf("/v1/conversations/%d", id), nil).want(t, 200).decode(t, &one)
		if one.Data.Type != "AnonymizedConversation" || len(one.Data.CustomAttributes) != 0 {
			t.Errorf("conversation %d: got %+v", id, one.Data)
		}
	}
}

func TestAgents(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	dir := e.directory()
	if len(dir) < 40 {
		t.Fatalf("got %d agents, want at least 40", len(dir))
	}
	if _, ok := dir[dixasim.TokenOwnerID]; !ok {
		t.Errorf("the API token's owner is not in the directory")
	}
	for _, id := range e.sim.DeletedAgentIDs() {
		if _, ok := dir[id]; ok {
			t.Errorf("deleted agent %s is listed", id)
		}
		e.do("GET", "/v1/agents/"+id, nil).want(t, 404)
	}
	var one struct{ Data agent }
	e.do("GET", "/beta/agents/"+dixasim.TokenOwnerID, nil).want(t, 200).decode(t, &one)
	if one.Data.Email == "" || one.Data.DisplayName == "" || !slices.Contains(one.Data.Roles, "Admin") {
		t.Errorf("got %+v, want the admin owning the token", one.Data)
	}
	if got := e.do("GET", "/v1/agents/42", nil).want(t, 400).message(t); got != "Invalid value for: path parameter agentId" {
		t.Errorf("got %q", got)
	}
	filters := []struct {
		query string
		n     int
	}{
		{"email=METTE.KJAERGAARD@nordlys-shop.example", 1},
		{"email=olivia.hughes%40nordlys-uk.example", 1},
		{"phone=%2B4530112233", 1},
		{"email=nobody@nordlys-shop.example", 0},
	}
	for _, f := range filters {
		var p struct{ Data []agent }
		e.do("GET", "/v1/agents?"+f.query, nil).want(t, 200).decode(t, &p)
		if len(p.Data) != f.n {
			t.Errorf("%s: got %d agents, want %d", f.query, len(p.Data), f.n)
		}
	}
	if got := e.do("GET", "/v1/agents?email=a@b.example&phone=%2B4512345678", nil).want(t, 400).message(t); !strings.Contains(got, "Invalid filters") {
		t.Errorf("got %q for both filters", got)
	}
}

// The new routes sit behind the same gateway: authentication, rate limit
// and injected faults.
func TestConversationRoutesBehindGateway(t *testing.T) {
	e := newEnv(t, dixasim.Options{RateLimit: 1, Burst: 1})
	id, _ := e.sim.DemoConversationID(dixasim.DemoHugeMessage)
	path := fmt.Sprintf("/v1/conversations/%d/tags", id)
	e.doAuth("GET", path, nil, "wrong").want(t, 401)
	e.sim.FailNext("GET /conversations/{conversationId}/tags", 1, 503)
	e.do("GET", path, nil).want(t, 503)
	e.do("GET", "/v1/agents", nil).want(t, 429)
	e.clock.Advance(time.Second)
	e.do("GET", path, nil).want(t, 200)
	if st := e.sim.Stats().Routes["GET /conversations/{conversationId}/tags"]; st.Requests != 3 {
		t.Errorf("got %+v, want 3 requests on the tags route", st)
	}
}
