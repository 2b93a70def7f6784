package dixasim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/apiclient/dixasim/contract"
)

const testKey = "test-key"

// loadValidator loads the vendor's document once per test binary (it is
// 532 KB and takes a moment).
var loadValidator = sync.OnceValues(func() (*contract.Validator, error) {
	return contract.NewValidator("")
})

func validator(t testing.TB) *contract.Validator {
	t.Helper()
	v, err := loadValidator()
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	return v
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a simulator behind the contract validator.
type env struct {
	t     *testing.T
	sim   *dixasim.Sim
	clock *fakeClock
	h     http.Handler // lenient: bad requests allowed, every response validated
	raw   bool         // bypass the validator
}

// newEnv starts a simulator with a small demo organisation (100 users,
// enough for several pages) on a fake clock, behind the validator.
func newEnv(t *testing.T, o dixasim.Options) *env {
	t.Helper()
	clock := newClock()
	if o.APIKey == "" {
		o.APIKey = testKey
	}
	if o.Users == 0 {
		o.Users = 100
	}
	if o.Now == nil {
		o.Now = clock.Now
	}
	sim := dixasim.New(o)
	return &env{t: t, sim: sim, clock: clock, h: validator(t).LenientMiddleware(t, sim)}
}

// response is a recorded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request with the test key. body is marshalled unless it is a
// string (sent as is) or nil.
func (e *env) do(method, path string, body any) response {
	e.t.Helper()
	return e.doAuth(method, path, body, testKey)
}

// doAuth sends a request with the given Authorization header ("" = none).
func (e *env) doAuth(method, path string, body any, auth string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequestWithContext(e.t.Context(), method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h := e.h
	if e.raw {
		h = e.sim
	}
	h.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// outsideDocument returns an env that sends requests straight to the
// simulator, for the few behaviours the document does not allow a client to
// ask for (e.g. null in a patch) and so cannot validate.
func (e *env) outsideDocument() *env {
	c := *e
	c.raw = true
	return &c
}

// want fails unless the status is the one expected.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got status %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// message returns the {"message"} of an error body.
func (r response) message(t *testing.T) string {
	t.Helper()
	var m struct{ Message string }
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("error body %s: %v", r.Body, err)
	}
	return m.Message
}

// decode decodes the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// user is an end user as the tests read it.
type user struct {
	ID                     string      `json:"id"`
	CreatedAt              string      `json:"createdAt"`
	DisplayName            string      `json:"displayName"`
	Email                  string      `json:"email"`
	PhoneNumber            string      `json:"phoneNumber"`
	AdditionalEmails       []string    `json:"additionalEmails"`
	AdditionalPhoneNumbers []string    `json:"additionalPhoneNumbers"`
	FirstName              string      `json:"firstName"`
	LastName               string      `json:"lastName"`
	MiddleNames            []string    `json:"middleNames"`
	AvatarURL              string      `json:"avatarUrl"`
	ExternalID             string      `json:"externalId"`
	CustomAttributes       []attribute `json:"customAttributes"`
}

type attribute struct {
	ID, Name, Identifier string
	Value                any
}

type meta struct {
	Previous string `json:"previous"`
	Next     string `json:"next"`
}

type userList struct {
	Data []user `json:"data"`
	Meta *meta  `json:"meta"`
}

type conversation struct {
	ID           int64  `json:"id"`
	Type         string `json:"_type"`
	Channel      string `json:"channel"`
	State        string `json:"state"`
	CreatedAt    string `json:"createdAt"`
	RequesterID  string `json:"requesterId"`
	AnonymizedAt string `json:"anonymizedAt"`
	Subject      string `json:"subject"`
}

type conversationList struct {
	Data []conversation `json:"data"`
	Meta *meta          `json:"meta"`
}

type anonRequest struct {
	ID             string `json:"id"`
	EntityType     any    `json:"entityType"`
	Type           string `json:"_type"`
	InitiatedAt    string `json:"initiatedAt"`
	TargetEntityID string `json:"targetEntityId"`
	RequestedBy    string `json:"requestedBy"`
	ProcessedAt    string `json:"processedAt"`
}

type outcome struct {
	Type  string `json:"_type"`
	Data  *user  `json:"data"`
	Error *struct {
		Type    string `json:"_type"`
		ID      string `json:"id"`
		Message string `json:"message"`
	} `json:"error"`
}

// getUser fetches one user.
func (e *env) getUser(id string) user {
	e.t.Helper()
	var out struct{ Data user }
	e.do("GET", "/v1/endusers/"+id, nil).want(e.t, 200).decode(e.t, &out)
	return out.Data
}

// createUser creates a user and returns it.
func (e *env) createUser(in map[string]any) user {
	e.t.Helper()
	var out struct{ Data user }
	e.do("POST", "/v1/endusers", in).want(e.t, 201).decode(e.t, &out)
	return out.Data
}

// conversations fetches all of a user's conversations, following meta.next.
func (e *env) conversations(id string) []conversation {
	e.t.Helper()
	var all []conversation
	path := "/v1/endusers/" + id + "/conversations?pageLimit=100"
	for path != "" {
		var page conversationList
		e.do("GET", path, nil).want(e.t, 200).decode(e.t, &page)
		all = append(all, page.Data...)
		path = page.Meta.Next
	}
	return all
}

func stringsReader(s string) io.Reader {
	if s == "" {
		return nil
	}
	return strings.NewReader(s)
}
