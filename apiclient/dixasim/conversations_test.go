package dixasim_test

import (
	"testing"

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
