package dixasim_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient/dixasim"
)

// zonedStyle is Dixa's Java ZonedDateTime style: "2021-12-01T12:46:36.581Z[GMT]".
var zonedStyle = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z\[GMT\]$`)

func TestAnonymizeEndUser(t *testing.T) {
	e := newEnv(t, dixasim.Options{AnonymizeDelay: 5 * time.Second})
	id := dixasim.DemoOpenConversationUserID
	before := e.getUser(id)
	path := "/v1/endusers/" + id + "/anonymize"

	// Open conversations block it.
	r := e.do("PATCH", path, nil).want(t, 409)
	if msg := r.message(t); !strings.Contains(msg, "force=true") {
		t.Errorf("got %q, want a hint at force=true", msg)
	}
	e.do("PATCH", path+"?force=false", nil).want(t, 409)

	// force=true closes them and accepts.
	var acc struct{ Data anonRequest }
	e.do("PATCH", path+"?force=true", nil).want(t, 202).decode(t, &acc)
	req := acc.Data
	if req.EntityType != "UserAnonymizationType" || req.Type != "User" || req.TargetEntityID != id ||
		req.RequestedBy != dixasim.TokenOwnerID || req.ProcessedAt != "" || !zonedStyle.MatchString(req.InitiatedAt) {
		t.Errorf("got %+v, want a pending User request with a zoned initiatedAt", req)
	}
	for _, c := range e.conversations(id) {
		if c.State != "Closed" {
			t.Errorf("got conversation %d %s after force, want Closed", c.ID, c.State)
		}
	}

	// Not processed before the delay…
	status := "/beta/anonymization/request/" + req.ID
	var st struct{ Data anonRequest }
	e.clock.Advance(4 * time.Second)
	e.do("GET", status, nil).want(t, 200).decode(t, &st)
	if st.Data.ProcessedAt != "" {
		t.Errorf("got processedAt %s before the delay, want none", st.Data.ProcessedAt)
	}
	if got := e.getUser(id); got.Email != before.Email {
		t.Errorf("got email %q before processing, want it kept", got.Email)
	}
	// …and processed after it.
	e.clock.Advance(time.Second)
	e.do("GET", status, nil).want(t, 200).decode(t, &st)
	if !zonedStyle.MatchString(st.Data.ProcessedAt) {
		t.Errorf("got processedAt %q, want a zoned timestamp", st.Data.ProcessedAt)
	}
	got := e.getUser(id)
	if got.DisplayName != "Anonymized user" || got.Email != "" || got.PhoneNumber != "" || got.FirstName != "" ||
		got.LastName != "" || got.ExternalID != "" || len(got.CustomAttributes) != 0 || got.CreatedAt != before.CreatedAt {
		t.Errorf("got %+v, want the personal data blanked", got)
	}
	for _, c := range e.conversations(id) {
		if c.Type != "AnonymizedConversation" || c.AnonymizedAt == "" || c.Subject != "" {
			t.Errorf("got conversation %+v, want it anonymized", c)
		}
	}
	// The phone number is free again.
	e.createUser(map[string]any{"phoneNumber": before.PhoneNumber})

	// Again: a new request, processed like the first.
	var again struct{ Data anonRequest }
	e.do("PATCH", path, nil).want(t, 202).decode(t, &again)
	if again.Data.ID == req.ID {
		t.Errorf("got the same request id again, want a new request")
	}
}

func TestAnonymizationRequestStatus(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	var st struct{ Data anonRequest }
	e.do("GET", "/v1/anonymization/request/"+dixasim.DemoAnonymizationRequestID, nil).want(t, 200).decode(t, &st)
	if st.Data.TargetEntityID != dixasim.DemoAnonymizedUserID || st.Data.ProcessedAt == "" {
		t.Errorf("got %+v, want the processed demo request", st.Data)
	}
	if got := e.getUser(dixasim.DemoAnonymizedUserID); got.Email != "" || got.DisplayName != "Anonymized user" {
		t.Errorf("got %+v, want the demo user anonymized", got)
	}

	tests := []struct {
		name, method, path string
		status             int
		msg                string
	}{
		{"unknown request", "GET", "/v1/anonymization/request/0f0f0f0f-0000-4000-8000-000000000000", 404, "The requested resource could not be found"},
		{"request id not a uuid", "GET", "/v1/anonymization/request/42", 400, "Invalid value for: path parameter requestId"},
		{"unknown user", "PATCH", "/v1/endusers/0f0f0f0f-0000-4000-8000-000000000000/anonymize", 404, "The requested resource could not be found"},
		{"user id not a uuid", "PATCH", "/v1/endusers/42/anonymize", 400, "Invalid value for: path parameter userId"},
		{"bad force", "PATCH", "/v1/endusers/" + dixasim.DemoMinimalUserID + "/anonymize?force=maybe", 400, "Invalid value for: query parameter force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.do(tt.method, tt.path, nil).want(t, tt.status).message(t); got != tt.msg {
				t.Errorf("got %q, want %q", got, tt.msg)
			}
		})
	}
}

func TestAnonymizeImmediately(t *testing.T) {
	e := newEnv(t, dixasim.Options{AnonymizeDelay: -1})
	var acc struct{ Data anonRequest }
	e.do("PATCH", "/v1/endusers/"+dixasim.DemoMinimalUserID+"/anonymize", nil).want(t, 202).decode(t, &acc)
	var st struct{ Data anonRequest }
	e.do("GET", "/v1/anonymization/request/"+acc.Data.ID, nil).want(t, 200).decode(t, &st)
	if st.Data.ProcessedAt == "" {
		t.Errorf("got no processedAt with a negative delay, want it processed at once")
	}
}
