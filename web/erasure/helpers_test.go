package erasure_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/store"
)

// clock is the test's clock, shared by the simulator and the workflow.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// auditLog keeps the workflow's audit entries.
type auditLog struct {
	mu     sync.Mutex
	events []erasure.Event
}

func (a *auditLog) RecordErasure(_ context.Context, ev erasure.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, ev)
	return nil
}

// of returns the entries about one request with action act.
func (a *auditLog) of(id, act string) []erasure.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []erasure.Event
	for _, e := range a.events {
		if e.TargetID == id && e.Action == act {
			out = append(out, e)
		}
	}
	return out
}

// scrubber records what it was asked to scrub; fail makes the next calls
// fail.
type scrubber struct {
	mu    sync.Mutex
	calls [][]string
	fail  int
}

func (s *scrubber) ScrubImportRows(_ context.Context, values []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return 0, errScrub
	}
	s.calls = append(s.calls, slices.Clone(values))
	return 3, nil
}

type scrubError struct{}

func (scrubError) Error() string { return "scrub failed" }

var errScrub error = scrubError{}

// fixture is the workflow against the simulator (through the real Dixa
// client) and a SQLite store, on the test's clock.
type fixture struct {
	clock *clock
	sim   *dixasim.Sim
	api   *apiclient.Client
	st    *store.Store
	audit *auditLog
	svc   *erasure.Service
}

const (
	requester = "lead1@corp.example"
	approver  = "lead2@corp.example"
)

func newFixture(t *testing.T, delay time.Duration) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}, audit: &auditLog{}}
	f.sim = dixasim.New(dixasim.Options{Users: 20, AnonymizeDelay: delay, Now: f.clock.Now})
	srv := httptest.NewServer(f.sim)
	t.Cleanup(srv.Close)
	api, err := apiclient.New(srv.URL, apiclient.WithAPIKey(dixasim.DefaultAPIKey), apiclient.WithLimiter(apiclient.NewLimiter(1000, 50)))
	if err != nil {
		t.Fatal(err)
	}
	f.api = api
	if f.st, err = store.Open(t.Context(), t.TempDir(), ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	f.svc = &erasure.Service{Store: f.st, Dixa: api, Audit: f.audit, Now: f.clock.Now, Approval: erasure.FourEyes}
	return f
}

// subject creates a customer with every kind of identifier.
func (f *fixture) subject(t *testing.T, name, email, phone string) apiclient.EndUser {
	t.Helper()
	u, err := f.api.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: name, Email: email,
		PhoneNumber: phone, ExternalID: "ext-" + strings.Split(email, "@")[0]})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// form is a valid request form for u, received today.
func (f *fixture) form(u apiclient.EndUser) erasure.Form {
	confirm := u.Email
	if confirm == "" {
		confirm = u.ID
	}
	return erasure.Form{Reference: "DSAR-T", Reason: "Art. 17(1)(a) GDPR", ReceivedAt: f.clock.Now().Format("2006-01-02"), Confirm: confirm}
}

// request records a valid request for u by the requester.
func (f *fixture) request(t *testing.T, u apiclient.EndUser) erasure.Erasure {
	t.Helper()
	e, err := f.svc.Request(t.Context(), erasure.Actor{ID: requester, Name: "Lea One"}, u.ID, f.form(u))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	return e
}

// anonymizeCalls counts the anonymize calls the simulator received.
func (f *fixture) anonymizeCalls() int {
	n := 0
	for _, r := range f.sim.Requests() {
		if r.Method == http.MethodPatch && strings.HasSuffix(r.Path, "/anonymize") {
			n++
		}
	}
	return n
}

// state reads a request's state from the store.
func (f *fixture) state(t *testing.T, id string) erasure.Erasure {
	t.Helper()
	e, err := f.st.GetErasure(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// settle runs the tracker's passes, advancing the clock a minute before
// each, until the request is final or ten passes have run.
func (f *fixture) settle(t *testing.T, id string) erasure.Erasure {
	t.Helper()
	for range 10 {
		f.clock.Advance(time.Minute)
		if _, err := f.svc.Pass(t.Context()); err != nil {
			t.Fatal(err)
		}
		if e := f.state(t, id); e.State.Final() {
			return e
		}
	}
	return f.state(t, id)
}
