package apiclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		base    string
		opts    []Option
		wantErr bool
		wantURL string // the URL of a GET /endusers
	}{
		{name: "defaults", base: "https://dev.dixa.io", wantURL: "https://dev.dixa.io/v1/endusers"},
		{name: "trailing slash", base: "https://dev.dixa.io/", wantURL: "https://dev.dixa.io/v1/endusers"},
		{name: "beta", base: "https://dev.dixa.io", opts: []Option{WithVersion("beta")}, wantURL: "https://dev.dixa.io/beta/endusers"},
		{name: "path prefix (vendor mock)", base: "https://docs.dixa.io/_mock/openapi/dixa-api/v1",
			wantURL: "https://docs.dixa.io/_mock/openapi/dixa-api/v1/v1/endusers"},
		{name: "loopback http", base: "http://127.0.0.1:1234", wantURL: "http://127.0.0.1:1234/v1/endusers"},
		{name: "bad version", base: "https://dev.dixa.io", opts: []Option{WithVersion("v2")}, wantErr: true},
		{name: "empty version", base: "https://dev.dixa.io", opts: []Option{WithVersion("")}, wantErr: true},
		{name: "no scheme", base: "dev.dixa.io", wantErr: true},
		{name: "ftp", base: "ftp://dev.dixa.io", wantErr: true},
		{name: "credentials in URL", base: "https://user:pw@dev.dixa.io", wantErr: true},
		{name: "query", base: "https://dev.dixa.io?x=1", wantErr: true},
		{name: "unparsable", base: "https://dev.dixa.io/%zz", wantErr: true},
		{name: "zero timeout", base: "https://dev.dixa.io", opts: []Option{WithTimeout(0)}, wantErr: true},
		{name: "negative retries", base: "https://dev.dixa.io", opts: []Option{WithRetries(-1)}, wantErr: true},
		{name: "negative max wait", base: "https://dev.dixa.io", opts: []Option{WithMaxWait(-time.Second)}, wantErr: true},
		{name: "breaker without interval", base: "https://dev.dixa.io", opts: []Option{WithBreaker(3, 0)}, wantErr: true},
		{name: "breaker disabled", base: "https://dev.dixa.io", opts: []Option{WithBreaker(0, 0)}, wantURL: "https://dev.dixa.io/v1/endusers"},
		{name: "key with newline", base: "https://dev.dixa.io", opts: []Option{WithAPIKey("abc\ndef")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotURL string
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				gotURL = r.URL.String()
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"data":[]}`)), Request: r}, nil
			})
			c, err := New(tt.base, append([]Option{WithHTTPClient(&http.Client{Transport: rt})}, tt.opts...)...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) error = %v, want error %v", tt.base, err, tt.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error %q repeats the URL's password", err)
				}
				return
			}
			if _, err := c.ListEndUsers(t.Context(), ListOptions{}); err != nil {
				t.Fatalf("ListEndUsers: %v", err)
			}
			if gotURL != tt.wantURL {
				t.Errorf("URL = %q, want %q", gotURL, tt.wantURL)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Every request carries the raw key and never an idempotency key.
func TestRequestHeaders(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		wantAuth string
	}{
		{"raw key", "abc123", "abc123"},
		{"bearer prefix removed", "Bearer abc123", "abc123"},
		{"no key", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(ok(`{"data":{"id":"` + userID + `","createdAt":"2020-12-16T09:41:43Z"}}`))
			c := newMemClient(t, rec, WithAPIKey(tt.key))
			name := "x"
			calls := map[string]func() error{
				"GET":  func() error { _, err := c.GetEndUser(t.Context(), userID); return err },
				"POST": func() error { _, err := c.CreateEndUser(t.Context(), CreateEndUserInput{DisplayName: "x"}); return err },
				"PUT": func() error {
					_, err := c.UpdateEndUser(t.Context(), userID, UpdateEndUserInput{DisplayName: "x"})
					return err
				},
				"PATCH": func() error {
					_, err := c.PatchEndUser(t.Context(), userID, PatchEndUserInput{DisplayName: &name})
					return err
				},
			}
			for m, fn := range calls {
				if err := fn(); err != nil {
					t.Fatalf("%s: %v", m, err)
				}
			}
			for _, r := range rec.requests() {
				if got := r.Header.Get("Authorization"); got != tt.wantAuth {
					t.Errorf("%s Authorization = %q, want %q", r.Method, got, tt.wantAuth)
				}
				if _, has := r.Header["Authorization"]; tt.wantAuth == "" && has {
					t.Errorf("%s sent an empty Authorization header", r.Method)
				}
				for _, h := range []string{"Idempotency-Key", "X-Idempotency-Key"} {
					if v, has := r.Header[http.CanonicalHeaderKey(h)]; has {
						t.Errorf("%s sent %s: %q", r.Method, h, v)
					}
				}
				if got := r.Header.Get("Accept"); got != "application/json" {
					t.Errorf("%s Accept = %q, want application/json", r.Method, got)
				}
				wantCT := "application/json"
				if r.Method == http.MethodGet {
					wantCT = ""
				}
				if got := r.Header.Get("Content-Type"); got != wantCT {
					t.Errorf("%s Content-Type = %q, want %q", r.Method, got, wantCT)
				}
			}
		})
	}
}

// Each endpoint: method, path, query and body sent; success body decoded.
func TestEndpoints(t *testing.T) {
	const conv = `{"id":1,"requesterId":"` + userID + `","channel":"Email","createdAt":"2020-12-16T09:41:43Z","_type":"EmailConversation","state":"Closed"}`
	const anon = `{"data":{"id":"` + reqID + `","entityType":"UserAnonymizationType","_type":"User","initiatedAt":"2021-12-01T12:46:36.581Z[GMT]","targetEntityId":"` + userID + `","requestedBy":"` + userID2 + `"}}`
	const def = `{"id":"` + attrID + `","entityType":"Contact","identifier":"tier","label":"Tier","inputDefinition":{"_type":"Text"},"createdAt":"2023-01-01T08:23:54.246Z[GMT]","isRequired":false,"isArchived":false,"isDeactivated":false}`
	const bulk = `{"data":[{"_type":"BulkActionSuccess","data":{"id":"` + userID + `","createdAt":"2020-12-16T09:41:43Z"}},{"_type":"BulkActionFailure","error":{"_type":"Validation","message":"PhoneNumberExists"}}]}`
	name, phone := "Alice", "+4512345678"

	tests := []struct {
		name      string
		resp      response
		call      func(c *Client) (any, error)
		method    string
		path      string
		query     string // raw query
		body      string // JSON; "" = no body
		check     func(t *testing.T, got any)
		wantRoute string
	}{
		{
			name: "list", resp: ok(`{"data":[{"id":"` + userID + `","createdAt":"2020-12-16T09:41:43Z"}],"meta":{"next":"/v1/endusers?pageKey=abc"}}`),
			call: func(c *Client) (any, error) {
				return c.ListEndUsers(t.Context(), ListOptions{PageLimit: 50, Email: "a@b.c"})
			},
			method: "GET", path: "/v1/endusers", query: "email=a%40b.c&pageLimit=50", wantRoute: "/endusers",
			check: func(t *testing.T, got any) {
				p := got.(Page[EndUser])
				if len(p.Items) != 1 || p.Items[0].ID != userID || p.NextKey != "abc" || p.PrevKey != "" {
					t.Errorf("page = %+v", p)
				}
			},
		},
		{
			name: "get", resp: ok(endUserJSON),
			call:   func(c *Client) (any, error) { return c.GetEndUser(t.Context(), userID) },
			method: "GET", path: "/v1/endusers/" + userID, wantRoute: "/endusers/{id}",
			check: func(t *testing.T, got any) {
				if u := got.(EndUser); u.Email != "alice@brown.com" || len(u.CustomAttributes) != 1 {
					t.Errorf("user = %+v", u)
				}
			},
		},
		{
			name: "create", resp: status(201, endUserJSON),
			call: func(c *Client) (any, error) {
				return c.CreateEndUser(t.Context(), CreateEndUserInput{DisplayName: "Alice Brown", PhoneNumber: "+551155256325", ExternalID: "#12345678"})
			},
			method: "POST", path: "/v1/endusers", wantRoute: "/endusers",
			body: `{"displayName":"Alice Brown","phoneNumber":"+551155256325","externalId":"#12345678"}`,
			check: func(t *testing.T, got any) {
				if u := got.(EndUser); u.ID != userID {
					t.Errorf("user = %+v", u)
				}
			},
		},
		{
			name: "bulk create", resp: status(201, bulk),
			call: func(c *Client) (any, error) {
				return c.CreateEndUsers(t.Context(), []CreateEndUserInput{{DisplayName: "A"}, {PhoneNumber: "+1"}})
			},
			method: "POST", path: "/v1/endusers/bulk", wantRoute: "/endusers/bulk",
			body: `{"data":[{"displayName":"A"},{"phoneNumber":"+1"}]}`,
			check: func(t *testing.T, got any) {
				o := got.([]BulkOutcome)
				if len(o) != 2 || !o[0].OK() || o[1].OK() || o[1].Error.Type != BulkErrValidation {
					t.Errorf("outcomes = %+v", o)
				}
			},
		},
		{
			name: "bulk update", resp: ok(bulk),
			call: func(c *Client) (any, error) {
				return c.UpdateEndUsers(t.Context(), []BulkUpdateEndUserInput{{ID: userID, UpdateEndUserInput: UpdateEndUserInput{DisplayName: "A"}}})
			},
			method: "PUT", path: "/v1/endusers", wantRoute: "/endusers",
			body:  `{"data":[{"id":"` + userID + `","displayName":"A"}]}`,
			check: func(t *testing.T, got any) { checkLen(t, got.([]BulkOutcome), 2) },
		},
		{
			name: "bulk patch", resp: ok(bulk),
			call: func(c *Client) (any, error) {
				return c.PatchEndUsers(t.Context(), []BulkPatchEndUserInput{{ID: userID, PatchEndUserInput: PatchEndUserInput{PhoneNumber: &phone}}})
			},
			method: "PATCH", path: "/v1/endusers", wantRoute: "/endusers",
			body:  `{"data":[{"id":"` + userID + `","phoneNumber":"+4512345678"}]}`,
			check: func(t *testing.T, got any) { checkLen(t, got.([]BulkOutcome), 2) },
		},
		{
			name: "update", resp: ok(endUserJSON),
			call: func(c *Client) (any, error) {
				return c.UpdateEndUser(t.Context(), userID, UpdateEndUserInput{DisplayName: "Alice"})
			},
			method: "PUT", path: "/v1/endusers/" + userID, wantRoute: "/endusers/{id}",
			body: `{"displayName":"Alice"}`,
		},
		{
			name: "patch sends only set fields", resp: ok(endUserJSON),
			call: func(c *Client) (any, error) {
				return c.PatchEndUser(t.Context(), userID, PatchEndUserInput{DisplayName: &name})
			},
			method: "PATCH", path: "/v1/endusers/" + userID, wantRoute: "/endusers/{id}",
			body: `{"displayName":"Alice"}`,
		},
		{
			name: "anonymize", resp: status(202, anon),
			call:   func(c *Client) (any, error) { return c.AnonymizeEndUser(t.Context(), userID, false) },
			method: "PATCH", path: "/v1/endusers/" + userID + "/anonymize", query: "force=false", wantRoute: "/endusers/{id}/anonymize",
			check: func(t *testing.T, got any) {
				if a := got.(AnonymizationRequest); a.ID != reqID || a.Processed() {
					t.Errorf("request = %+v", a)
				}
			},
		},
		{
			name: "anonymize forced", resp: status(202, anon),
			call:   func(c *Client) (any, error) { return c.AnonymizeEndUser(t.Context(), userID, true) },
			method: "PATCH", path: "/v1/endusers/" + userID + "/anonymize", query: "force=true", wantRoute: "/endusers/{id}/anonymize",
		},
		{
			name: "anonymization status", resp: ok(anon),
			call:   func(c *Client) (any, error) { return c.GetAnonymizationRequest(t.Context(), reqID) },
			method: "GET", path: "/v1/anonymization/request/" + reqID, wantRoute: "/anonymization/request/{id}",
		},
		{
			name: "custom attributes", resp: ok(`{"data":[{"id":"` + attrID + `","name":"A","identifier":"a","value":"abcdef"},{"id":"` + attrID2 + `","name":"B","identifier":"b","value":["x","y"]}]}`),
			call: func(c *Client) (any, error) {
				return c.PatchEndUserCustomAttributes(t.Context(), userID, map[string]AttributeValue{attrID: TextValue("abcdef"), attrID2: SelectValue("x", "y")})
			},
			method: "PATCH", path: "/v1/endusers/" + userID + "/custom-attributes", wantRoute: "/endusers/{id}/custom-attributes",
			body: `{"` + attrID + `":"abcdef","` + attrID2 + `":["x","y"]}`,
			check: func(t *testing.T, got any) {
				a := got.([]CustomAttribute)
				if len(a) != 2 || a[0].Value.Text != "abcdef" || a[1].Value.String() != "x › y" {
					t.Errorf("attributes = %+v", a)
				}
			},
		},
		{
			name: "conversations", resp: ok(`{"data":[` + conv + `],"meta":{"previous":"/v1/endusers/` + userID + `/conversations?pageKey=prev"}}`),
			call: func(c *Client) (any, error) {
				return c.ListEndUserConversations(t.Context(), userID, PageOptions{PageLimit: 10, PageKey: "cur"})
			},
			method: "GET", path: "/v1/endusers/" + userID + "/conversations", query: "pageKey=cur&pageLimit=10", wantRoute: "/endusers/{id}/conversations",
			check: func(t *testing.T, got any) {
				p := got.(Page[Conversation])
				if len(p.Items) != 1 || p.Items[0].Type != ConvEmail || p.NextKey != "" || p.PrevKey != "prev" {
					t.Errorf("page = %+v", p)
				}
			},
		},
		{
			name: "definitions", resp: ok(`{"data":[` + def + `]}`),
			call:   func(c *Client) (any, error) { return c.ListCustomAttributeDefinitions(t.Context()) },
			method: "GET", path: "/v1/custom-attributes", wantRoute: "/custom-attributes",
			check: func(t *testing.T, got any) { checkLen(t, got.([]CustomAttributeDefinition), 1) },
		},
		{
			name: "definition", resp: ok(`{"data":` + def + `}`),
			call:   func(c *Client) (any, error) { return c.GetCustomAttributeDefinition(t.Context(), attrID) },
			method: "GET", path: "/v1/custom-attributes/" + attrID, wantRoute: "/custom-attributes/{id}",
			check: func(t *testing.T, got any) {
				if d := got.(CustomAttributeDefinition); d.Identifier != "tier" {
					t.Errorf("definition = %+v", d)
				}
			},
		},
		{
			name: "conversation", resp: ok(`{"data":{"id":1234,"requesterId":"` + userID + `","channel":"WidgetChat","createdAt":"2020-12-16T09:41:43Z","state":"Closed","stateUpdatedAt":"2020-12-17T10:00:00Z","assignment":{"agentId":"` + userID2 + `","assignedAt":"2020-12-16T11:00:34Z"},"link":{"parentId":99,"_type":"FollowUp"},"customAttributes":[{"id":"` + attrID + `","name":"Parcel","identifier":"parcel_id","value":"123"}],"_type":"ChatConversation"}}`),
			call:   func(c *Client) (any, error) { return c.GetConversation(t.Context(), 1234) },
			method: "GET", path: "/v1/conversations/1234", wantRoute: "/conversations/{id}",
			check: func(t *testing.T, got any) {
				cv := got.(Conversation)
				closed, ok := cv.ClosedAt()
				if cv.ID != 1234 || cv.AssigneeID() != userID2 || cv.ParentID() != 99 || cv.IsAnonymized() ||
					!ok || closed.Day() != 17 || len(cv.CustomAttributes) != 1 {
					t.Errorf("conversation = %+v", cv)
				}
			},
		},
		{
			name: "messages", resp: ok(`{"data":[{"id":"` + reqID + `","authorId":"` + userID + `","createdAt":"2021-12-01T12:47:36.581Z[GMT]","attributes":{"content":{"value":"Hi","_type":"Text"},"direction":"Inbound","attachments":[],"isAutomated":false,"_type":"ChatAttributes"}}]}`),
			call:   func(c *Client) (any, error) { return c.ListConversationMessages(t.Context(), 7) },
			method: "GET", path: "/v1/conversations/7/messages", wantRoute: "/conversations/{id}/messages",
			check: func(t *testing.T, got any) {
				m := got.([]Message)
				if len(m) != 1 || m[0].Attributes.Body().Value != "Hi" || m[0].CreatedAt.Nanosecond() != 581e6 {
					t.Errorf("messages = %+v", m)
				}
			},
		},
		{
			name: "notes", resp: ok(`{"data":[{"id":"` + reqID + `","authorId":"` + userID2 + `","createdAt":"2021-01-20T09:00:00Z","csid":7392,"message":"A note to remember"}]}`),
			call:   func(c *Client) (any, error) { return c.ListConversationNotes(t.Context(), 7392) },
			method: "GET", path: "/v1/conversations/7392/notes", wantRoute: "/conversations/{id}/notes",
			check: func(t *testing.T, got any) {
				n := got.([]InternalNote)
				if len(n) != 1 || n[0].CSID != 7392 || n[0].AuthorID != userID2 || n[0].Message != "A note to remember" {
					t.Errorf("notes = %+v", n)
				}
			},
		},
		{
			name: "tags", resp: ok(`{"data":[{"id":"` + attrID + `","name":"refund","color":"#ff0000","state":"Active"},{"id":"` + attrID2 + `","name":"old","state":"Inactive"}]}`),
			call:   func(c *Client) (any, error) { return c.ListConversationTags(t.Context(), 5) },
			method: "GET", path: "/v1/conversations/5/tags", wantRoute: "/conversations/{id}/tags",
			check: func(t *testing.T, got any) {
				tags := got.([]Tag)
				if len(tags) != 2 || tags[0].Color != "#ff0000" || tags[1].State != TagInactive {
					t.Errorf("tags = %+v", tags)
				}
			},
		},
		{
			name: "no tags", resp: ok(`{}`),
			call:   func(c *Client) (any, error) { return c.ListConversationTags(t.Context(), 5) },
			method: "GET", path: "/v1/conversations/5/tags", wantRoute: "/conversations/{id}/tags",
			check: func(t *testing.T, got any) { checkLen(t, got.([]Tag), 0) },
		},
		{
			name: "agents", resp: ok(`{"data":[{"id":"` + userID2 + `","createdAt":"2020-12-16T09:41:43Z","displayName":"Agent 0","email":"agent.0@example.org","roles":["Agent","Admin"]}],"meta":{"next":"/v1/agents?pageKey=k%2B1"}}`),
			call: func(c *Client) (any, error) {
				return c.ListAgents(t.Context(), AgentListOptions{PageLimit: 20, Phone: "+4512345678"})
			},
			method: "GET", path: "/v1/agents", query: "pageLimit=20&phone=%2B4512345678", wantRoute: "/agents",
			check: func(t *testing.T, got any) {
				p := got.(Page[Agent])
				if len(p.Items) != 1 || p.Items[0].DisplayName != "Agent 0" || len(p.Items[0].Roles) != 2 || p.NextKey != "k+1" {
					t.Errorf("page = %+v", p)
				}
			},
		},
		{
			name: "agent", resp: ok(`{"data":{"id":"` + userID2 + `","createdAt":"2020-12-16T09:41:43Z","displayName":"Alice Brown","email":"alice@brown.com","phoneNumber":"+551155256325","middleNames":[],"roles":["Agent"]}}`),
			call:   func(c *Client) (any, error) { return c.GetAgent(t.Context(), userID2) },
			method: "GET", path: "/v1/agents/" + userID2, wantRoute: "/agents/{id}",
			check: func(t *testing.T, got any) {
				if a := got.(Agent); a.Email != "alice@brown.com" || a.PhoneNumber != "+551155256325" {
					t.Errorf("agent = %+v", a)
				}
			},
		},
		{
			name: "ping", resp: ok(`{"data":[]}`),
			call:   func(c *Client) (any, error) { return nil, c.Ping(t.Context()) },
			method: "GET", path: "/v1/endusers", query: "pageLimit=1", wantRoute: "/endusers",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(tt.resp)
			var routes []string
			c := newMemClient(t, rec, WithObserver(func(method, route string, status int, d time.Duration, err error) {
				routes = append(routes, method+" "+route)
			}))
			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path || r.RawQuery != tt.query {
				t.Errorf("request = %s %s?%s, want %s %s?%s", r.Method, r.Path, r.RawQuery, tt.method, tt.path, tt.query)
			}
			if tt.body == "" {
				if len(r.Body) != 0 {
					t.Errorf("body = %s, want none", r.Body)
				}
			} else {
				jsonEqual(t, r.Body, tt.body)
			}
			if want := tt.method + " " + tt.wantRoute; len(routes) != 1 || routes[0] != want {
				t.Errorf("observed routes = %q, want [%q]", routes, want)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func checkLen[T any](t *testing.T, s []T, n int) {
	t.Helper()
	if len(s) != n {
		t.Errorf("got %d items, want %d", len(s), n)
	}
}

// Local validation refuses the call with a 400 *Error and sends nothing.
func TestLocalValidation(t *testing.T) {
	name := "x"
	tests := []struct {
		name string
		call func(c *Client) error
	}{
		{"two filters", func(c *Client) error {
			_, err := c.ListEndUsers(t.Context(), ListOptions{Email: "a@b.c", Phone: "+45"})
			return err
		}},
		{"three filters", func(c *Client) error {
			_, err := c.ListEndUsers(t.Context(), ListOptions{Email: "a@b.c", Phone: "+45", ExternalID: "#1"})
			return err
		}},
		{"filters via iterator", func(c *Client) error {
			for _, err := range c.EndUsers(t.Context(), ListOptions{Phone: "+45", ExternalID: "#1"}) {
				return err
			}
			return nil
		}},
		{"negative page limit", func(c *Client) error {
			_, err := c.ListEndUsers(t.Context(), ListOptions{PageLimit: -1})
			return err
		}},
		{"empty patch", func(c *Client) error {
			_, err := c.PatchEndUser(t.Context(), userID, PatchEndUserInput{})
			return err
		}},
		{"get non-uuid", func(c *Client) error { _, err := c.GetEndUser(t.Context(), "../custom-attributes"); return err }},
		{"get empty id", func(c *Client) error { _, err := c.GetEndUser(t.Context(), ""); return err }},
		{"get uuid without dashes", func(c *Client) error {
			_, err := c.GetEndUser(t.Context(), strings.ReplaceAll(userID, "-", ""))
			return err
		}},
		{"get urn uuid", func(c *Client) error { _, err := c.GetEndUser(t.Context(), "urn:uuid:"+userID); return err }},
		{"update non-uuid", func(c *Client) error {
			_, err := c.UpdateEndUser(t.Context(), "1?x=", UpdateEndUserInput{DisplayName: "x"})
			return err
		}},
		{"patch non-uuid", func(c *Client) error {
			_, err := c.PatchEndUser(t.Context(), "abc", PatchEndUserInput{DisplayName: &name})
			return err
		}},
		{"anonymize non-uuid", func(c *Client) error { _, err := c.AnonymizeEndUser(t.Context(), userID+"#", true); return err }},
		{"anonymization status non-uuid", func(c *Client) error { _, err := c.GetAnonymizationRequest(t.Context(), "1"); return err }},
		{"custom attributes non-uuid user", func(c *Client) error {
			_, err := c.PatchEndUserCustomAttributes(t.Context(), "x", map[string]AttributeValue{attrID: TextValue("a")})
			return err
		}},
		{"custom attributes non-uuid key", func(c *Client) error {
			_, err := c.PatchEndUserCustomAttributes(t.Context(), userID, map[string]AttributeValue{"tier": TextValue("a")})
			return err
		}},
		{"custom attributes empty", func(c *Client) error {
			_, err := c.PatchEndUserCustomAttributes(t.Context(), userID, nil)
			return err
		}},
		{"conversations non-uuid", func(c *Client) error {
			_, err := c.ListEndUserConversations(t.Context(), "x", PageOptions{})
			return err
		}},
		{"conversations negative limit", func(c *Client) error {
			_, err := c.ListEndUserConversations(t.Context(), userID, PageOptions{PageLimit: -5})
			return err
		}},
		{"conversation id zero", func(c *Client) error { _, err := c.GetConversation(t.Context(), 0); return err }},
		{"messages negative id", func(c *Client) error { _, err := c.ListConversationMessages(t.Context(), -1); return err }},
		{"notes zero id", func(c *Client) error { _, err := c.ListConversationNotes(t.Context(), 0); return err }},
		{"tags negative id", func(c *Client) error { _, err := c.ListConversationTags(t.Context(), -7); return err }},
		{"agents two filters", func(c *Client) error {
			_, err := c.ListAgents(t.Context(), AgentListOptions{Email: "a@b.c", Phone: "+45"})
			return err
		}},
		{"agents negative limit", func(c *Client) error {
			_, err := c.ListAgents(t.Context(), AgentListOptions{PageLimit: -1})
			return err
		}},
		{"agent non-uuid", func(c *Client) error { _, err := c.GetAgent(t.Context(), "../endusers"); return err }},
		{"definition non-uuid", func(c *Client) error { _, err := c.GetCustomAttributeDefinition(t.Context(), "a/b"); return err }},
		{"bulk create empty", func(c *Client) error { _, err := c.CreateEndUsers(t.Context(), nil); return err }},
		{"bulk update empty", func(c *Client) error { _, err := c.UpdateEndUsers(t.Context(), nil); return err }},
		{"bulk update non-uuid", func(c *Client) error {
			_, err := c.UpdateEndUsers(t.Context(), []BulkUpdateEndUserInput{{ID: "x"}})
			return err
		}},
		{"bulk patch empty", func(c *Client) error { _, err := c.PatchEndUsers(t.Context(), []BulkPatchEndUserInput{}); return err }},
		{"bulk patch non-uuid", func(c *Client) error {
			_, err := c.PatchEndUsers(t.Context(), []BulkPatchEndUserInput{{ID: userID}, {ID: ""}})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			c := newMemClient(t, rec)
			err := tt.call(c)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v (%T), want *Error", err, err)
			}
			if e.Status != http.StatusBadRequest || !errors.Is(err, ErrBadRequest) {
				t.Errorf("got status %d, Is(ErrBadRequest) %v, want 400, true", e.Status, errors.Is(err, ErrBadRequest))
			}
			if n := rec.count(); n != 0 {
				t.Errorf("got %d upstream calls, want 0", n)
			}
		})
	}
}

// Query values arrive exactly as given: '+' stays '+', '#' and spaces
// survive, non-ASCII is intact. Tested over a real connection.
func TestQueryEscaping(t *testing.T) {
	tests := []struct {
		name string
		opts ListOptions
		key  string
		want string
	}{
		{"email with plus", ListOptions{Email: "alice+tag@brown.com"}, "email", "alice+tag@brown.com"},
		{"phone", ListOptions{Phone: "+45 12 34 56 78"}, "phone", "+45 12 34 56 78"},
		{"external id", ListOptions{ExternalID: "#123 45&x=1"}, "externalId", "#123 45&x=1"},
		{"non-ascii", ListOptions{Email: "jürgen@bücher.de"}, "email", "jürgen@bücher.de"},
		{"page key base64", ListOptions{PageKey: "ab+/cd=="}, "pageKey", "ab+/cd=="},
		{"percent", ListOptions{ExternalID: "100%"}, "externalId", "100%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got url.Values
			c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.URL.Query()
				_, _ = io.WriteString(w, `{"data":[]}`)
			}))
			if _, err := c.ListEndUsers(t.Context(), tt.opts); err != nil {
				t.Fatal(err)
			}
			if v := got.Get(tt.key); v != tt.want {
				t.Errorf("server saw %s = %q, want %q", tt.key, v, tt.want)
			}
			if len(got) != 1 {
				t.Errorf("server saw %d parameters (%v), want 1", len(got), got)
			}
		})
	}
}

// A canary key must not leak through errors or logs, even when the
// upstream echoes the request headers back in its error body.
func TestKeyNeverLeaks(t *testing.T) {
	const canary = "CANARY-5f1e2d3c4b5a69788796a5b4c3d2e1f0"
	echo := func(status int, asJSON bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var b strings.Builder
			_ = r.Header.Write(&b)
			w.WriteHeader(status)
			if asJSON {
				_, _ = fmt.Fprintf(w, `{"message":%q}`, "headers were: "+b.String())
				return
			}
			_, _ = io.WriteString(w, "<html>"+b.String()+"</html>")
		}
	}
	tests := []struct {
		name   string
		status int
		json   bool
	}{
		{"400 json echo", 400, true},
		{"401 json echo", 401, true},
		{"404 html echo", 404, false},
		{"429 json echo", 429, true},
		{"500 json echo", 500, true},
		{"503 html echo", 503, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			var observed []string
			c, _ := newServerClient(t, echo(tt.status, tt.json),
				WithAPIKey(canary),
				WithRetries(1),
				WithLogger(slog.New(slog.NewTextHandler(&syncWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))),
				WithObserver(func(method, route string, status int, d time.Duration, err error) {
					mu.Lock()
					defer mu.Unlock()
					observed = append(observed, fmt.Sprint(err))
				}),
			)
			// Retry-After keeps the 429 case short.
			_, err := c.GetEndUser(t.Context(), userID)
			if err == nil {
				t.Fatal("got nil error")
			}
			_, werr := c.PatchEndUser(t.Context(), userID, PatchEndUserInput{DisplayName: new(string)})
			mu.Lock()
			defer mu.Unlock()
			for what, s := range map[string]string{
				"error":       err.Error(),
				"error %+v":   fmt.Sprintf("%+v %#v", err, err),
				"write error": fmt.Sprint(werr),
				"logs":        logs.String(),
				"observed":    strings.Join(observed, "\n"),
				"client %+v":  fmt.Sprintf("%+v %#v", c, c),
			} {
				if strings.Contains(s, canary) || strings.Contains(s, canary[:16]) {
					t.Errorf("%s contains the canary: %s", what, s)
				}
			}
			if tt.json && !strings.Contains(err.Error(), "headers were:") {
				t.Errorf("error %q lost Dixa's message", err)
			}
			if !tt.json && !strings.Contains(err.Error(), "no error message") {
				t.Errorf("error %q: want the generic message for a non-JSON body", err)
			}
		})
	}
}

type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestErrorBodies(t *testing.T) {
	tests := []struct {
		name        string
		resp        response
		wantStatus  int
		wantMessage string
		wantIs      error
	}{
		{"not found", status(404, `{"message":"The requested resource could not be found"}`), 404, "The requested resource could not be found", ErrNotFound},
		{"bad request", status(400, `{"message":"Invalid value in request"}`), 400, "Invalid value in request", ErrBadRequest},
		{"unauthorized", status(401, `{"message":"Unauthorized"}`), 401, "Unauthorized", ErrUnauthorized},
		{"forbidden", status(403, `{"message":"Forbidden"}`), 403, "Forbidden", ErrUnauthorized},
		{"conflict", status(409, `{"message":"open conversations"}`), 409, "open conversations", ErrConflict},
		{"unprocessable", status(422, `{}`), 422, "no error message", ErrBadRequest},
		{"html", status(404, `<html><body>nope</body></html>`), 404, "no error message", ErrNotFound},
		{"empty body", status(404, ``), 404, "no error message", ErrNotFound},
		{"message not a string", status(400, `{"message":{"a":1}}`), 400, "no error message", ErrBadRequest},
		{"huge body", status(400, `{"message":"`+strings.Repeat("a", 200<<10)+`"}`), 400, "no error message", ErrBadRequest},
		{"long message truncated", status(400, `{"message":"`+strings.Repeat("a", 2000)+`"}`), 400, strings.Repeat("a", maxMessageLen) + "…", ErrBadRequest},
		{"success with bad JSON", status(200, `{"data":`), 200, "invalid response body", ErrUpstream},
		{"success with wrong shape", status(200, `{"data":[1,2]}`), 200, "invalid response body", ErrUpstream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(tt.resp)
			c := newMemClient(t, rec)
			_, err := c.GetEndUser(t.Context(), userID)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v (%T), want *Error", err, err)
			}
			if e.Status != tt.wantStatus || e.Message != tt.wantMessage {
				t.Errorf("got %d %q, want %d %q", e.Status, e.Message, tt.wantStatus, tt.wantMessage)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false, want true", err, tt.wantIs)
			}
			if e.Method != "GET" || e.Path != "/v1/endusers/"+userID {
				t.Errorf("got %s %s, want GET /v1/endusers/%s", e.Method, e.Path, userID)
			}
			if n := rec.count(); n != 1 {
				t.Errorf("got %d calls, want 1 (4xx and bad bodies are not retried)", n)
			}
		})
	}
}

// The error's Path and string never carry the query (it may hold an email).
func TestErrorOmitsQuery(t *testing.T) {
	rec := newRecorder(status(400, `{"message":"Invalid value for: query parameter email"}`))
	c := newMemClient(t, rec)
	_, err := c.ListEndUsers(t.Context(), ListOptions{Email: "secret.person@example.com"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *Error", err)
	}
	if e.Path != "/v1/endusers" {
		t.Errorf("Path = %q, want /v1/endusers", e.Path)
	}
	if strings.Contains(err.Error(), "secret.person") || strings.Contains(err.Error(), "?") {
		t.Errorf("error %q contains the query", err)
	}
	// Also when no answer came at all (the url.Error would hold the URL).
	c2, srv := newServerClient(t, http.NotFoundHandler(), WithRetries(0))
	srv.Close()
	_, err = c2.ListEndUsers(t.Context(), ListOptions{Email: "secret.person@example.com"})
	if err == nil || strings.Contains(err.Error(), "secret.person") || strings.Contains(err.Error(), "email=") {
		t.Errorf("connection error = %v, want one without the query", err)
	}
	if !errors.Is(err, ErrUpstream) {
		t.Errorf("connection error %v: Is(ErrUpstream) = false, want true", err)
	}
}

// Redirects are never followed, whether the client is ours or the caller's.
func TestRedirectNotFollowed(t *testing.T) {
	var elsewhere int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere++ }))
	defer other.Close()
	for _, custom := range []bool{false, true} {
		for _, code := range []int{301, 302, 307, 308} {
			t.Run(fmt.Sprintf("%d custom=%v", code, custom), func(t *testing.T) {
				var opts []Option
				if custom {
					// A caller's client that would follow redirects.
					opts = append(opts, WithHTTPClient(&http.Client{}))
				}
				c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+"/steal", code)
				}), opts...)
				_, err := c.GetEndUser(t.Context(), userID)
				var e *Error
				if !errors.As(err, &e) || e.Status != code {
					t.Fatalf("error = %v, want *Error with status %d", err, code)
				}
				if !errors.Is(err, ErrUpstream) {
					t.Errorf("errors.Is(%v, ErrUpstream) = false, want true", err)
				}
				if strings.Contains(err.Error(), other.URL) {
					t.Errorf("error %q names the redirect target", err)
				}
				if elsewhere != 0 {
					t.Errorf("redirect target got %d requests, want 0", elsewhere)
				}
			})
		}
	}
}

func TestLastSuccess(t *testing.T) {
	tests := []struct {
		name string
		resp response
		want bool
	}{
		{"200", ok(endUserJSON), true},
		{"404", status(404, `{"message":"x"}`), true},
		{"429", response{status: 429, header: map[string]string{"Retry-After": "0"}}, true},
		{"401", status(401, `{"message":"Unauthorized"}`), false},
		{"403", status(403, `{"message":"Forbidden"}`), false},
		{"500", status(500, `{"message":"x"}`), false},
		{"302", response{status: 302, header: map[string]string{"Location": "/x"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newMemClient(t, newRecorder(tt.resp), WithRetries(0))
			if !c.LastSuccess().IsZero() {
				t.Fatal("LastSuccess not zero before any call")
			}
			before := time.Now()
			_, _ = c.GetEndUser(t.Context(), userID)
			got := c.LastSuccess()
			if tt.want && got.Before(before) {
				t.Errorf("LastSuccess = %v, want ≥ %v", got, before)
			}
			if !tt.want && !got.IsZero() {
				t.Errorf("LastSuccess = %v, want zero", got)
			}
		})
	}
}

// A cancelled context stops the call and is visible with errors.Is.
func TestContextCanceled(t *testing.T) {
	rec := newRecorder(response{hang: true})
	c := newMemClient(t, rec)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for rec.count() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.GetEndUser(ctx, userID)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false, want true", err)
	}
	if errors.Is(err, ErrUpstream) {
		t.Errorf("a caller's cancellation %v matches ErrUpstream, want not", err)
	}
	if n := rec.count(); n != 1 {
		t.Errorf("got %d calls, want 1", n)
	}
	// Cancelled before the call: nothing is sent.
	_, err = c.GetEndUser(ctx, userID)
	if !errors.Is(err, context.Canceled) || rec.count() != 1 {
		t.Errorf("pre-cancelled call: err %v, calls %d, want Canceled and 1", err, rec.count())
	}
}
