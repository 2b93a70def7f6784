package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/webtest"
)

// stepUpWindow is the step-up window of the tests; the erasure
// workflow's clock is the test's, so no test waits for it to pass.
const stepUpWindow = 15 * time.Minute

// testClock is a clock the test sets by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func stepUpSubject(t *testing.T, env *webtest.Env, name, email string) apiclient.EndUser {
	t.Helper()
	u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: name, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// devLead signs in on the demo page as a lead called name (the same person
// each time for the same name).
func devLead(t *testing.T, env *webtest.Env, c *http.Client, name string) {
	t.Helper()
	resp, _ := env.PostForm(t, c, "/login", url.Values{"name": {name}, "role": {"lead"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", name, resp.StatusCode)
	}
}

func deniedEntries(t *testing.T, env *webtest.Env, action string) []store.AuditEntry {
	t.Helper()
	es, err := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: action, Ascending: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// assertStale checks a step-up refusal: 403 with the message, no call to
// Dixa, exactly one new erasure.denied entry (stale_authentication) for
// the target, no generic access.denied.
func assertStale(t *testing.T, env *webtest.Env, what string, resp *http.Response, body string, simBefore, deniedBefore, accessBefore int, targetType, targetID, wantNext string) {
	t.Helper()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("%s with an old sign-in: %d, want 403\n%s", what, resp.StatusCode, body)
	}
	if !strings.Contains(body, "Please sign in again to confirm it is you; erasure needs a sign-in within the last") {
		t.Errorf("%s: the refusal does not say to sign in again:\n%s", what, body)
	}
	link, ok := doc(t, body).Find("[data-testid=sign-in-link]").Attr("href")
	if wantNext == "" {
		if ok {
			t.Errorf("%s: a sign-in link %q where the console cannot sign people in", what, link)
		}
	} else if want := "/login?next=" + url.QueryEscape(wantNext); link != want {
		t.Errorf("%s: sign-in link %q, want %q", what, link, want)
	}
	if n := len(env.Sim.Requests()) - simBefore; n != 0 {
		t.Errorf("%s: Dixa received %d requests, want none", what, n)
	}
	es := deniedEntries(t, env, "erasure.denied")
	if len(es)-deniedBefore != 1 {
		t.Fatalf("%s: %d new erasure.denied entries, want 1", what, len(es)-deniedBefore)
	}
	e := es[len(es)-1]
	if e.Details["reason"] != "stale_authentication" || e.Outcome != store.OutcomeDenied || e.TargetType != targetType || e.TargetID != targetID {
		t.Errorf("%s: entry %+v, want reason stale_authentication on %s/%s", what, e, targetType, targetID)
	}
	if n := len(deniedEntries(t, env, "access.denied")) - accessBefore; n != 0 {
		t.Errorf("%s: %d access.denied entries for a lead", what, n)
	}
}

// With a fresh sign-in a lead requests and another approves; once the
// sign-in is older than STEP_UP_MAX_AGE both are refused (403, no Dixa
// call, one erasure.denied entry each) until the person signs in again.
// Sign-ins take the real time; the erasure workflow's clock is the test's,
// set past the window instead of waiting for it.
func TestStepUpErasure(t *testing.T) {
	clock := newTestClock(time.Now())
	env := webtest.New(t, webtest.Options{Now: clock.Now, Config: func(c *web.Config) { c.StepUpMaxAge = stepUpWindow }})
	first := stepUpSubject(t, env, "Stella Stepup", "stella.stepup@example.com")
	second := stepUpSubject(t, env, "Sam Stepup", "sam.stepup@example.com")

	requester, approver := env.Client(), env.Client()
	devLead(t, env, approver, "Approving Lead")
	devLead(t, env, requester, "Requesting Lead")
	// Fresh: the request goes through.
	rid := requestErasure(t, env, requester, first.ID, requestForm("DSAR-STEP-1", first.Email))

	// Both sign-ins are now a second older than the window.
	clock.Set(time.Now().Add(stepUpWindow + time.Second))

	// Stale: reading still works, requesting and approving do not.
	if resp, _ := env.Get(t, approver, "/erasures/"+rid); resp.StatusCode != http.StatusOK {
		t.Fatalf("status page with an old sign-in: %d, want 200", resp.StatusCode)
	}
	sim, denied, access := len(env.Sim.Requests()), len(deniedEntries(t, env, "erasure.denied")), len(deniedEntries(t, env, "access.denied"))
	resp, body := env.PostForm(t, requester, "/endusers/"+second.ID+"/erasure", requestForm("DSAR-STEP-2", second.Email))
	assertStale(t, env, "request", resp, body, sim, denied, access, "enduser", second.ID, "/endusers/"+second.ID+"/erasure")
	if es, _ := env.Store.ErasuresOf(t.Context(), second.ID); len(es) != 0 {
		t.Errorf("a stale request was stored: %+v", es)
	}

	sim, denied = len(env.Sim.Requests()), len(deniedEntries(t, env, "erasure.denied"))
	resp, body = env.PostForm(t, approver, "/erasures/"+rid+"/approve", url.Values{"comment": {"ok"}})
	assertStale(t, env, "approve", resp, body, sim, denied, access, "erasure", rid, "/erasures/"+rid)
	if st, _ := statusOf(t, env, approver, rid); st != erasure.Requested {
		t.Errorf("state after a stale approval = %s, want requested", st)
	}

	// htmx asks get the same refusal as a fragment.
	sim, denied = len(env.Sim.Requests()), len(deniedEntries(t, env, "erasure.denied"))
	resp, body = env.PostForm(t, approver, "/erasures/"+rid+"/approve", url.Values{}, "HX-Request", "true")
	assertStale(t, env, "approve (htmx)", resp, body, sim, denied, access, "erasure", rid, "/erasures/"+rid)

	// Signing in again (same person) renews the window. The clock is set
	// to exactly one window after the moment before the new sign-in: the
	// new sign-in is within it, the requester's old one is not.
	before := time.Now()
	devLead(t, env, approver, "Approving Lead")
	clock.Set(before.Add(stepUpWindow))
	sim, denied = len(env.Sim.Requests()), len(deniedEntries(t, env, "erasure.denied"))
	resp, body = env.PostForm(t, requester, "/endusers/"+second.ID+"/erasure", requestForm("DSAR-STEP-3", second.Email))
	assertStale(t, env, "request without signing in again", resp, body, sim, denied, access, "enduser", second.ID, "/endusers/"+second.ID+"/erasure")
	if resp, body := env.PostForm(t, approver, "/erasures/"+rid+"/approve", url.Values{"comment": {"ok"}, "confirmReference": {"DSAR-STEP-1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve after signing in again: %d\n%s", resp.StatusCode, body)
	}
	if n := len(anonymizeCalls(env)); n != 1 {
		t.Errorf("%d anonymize calls, want 1", n)
	}
}

// Header mode with a signed assertion: its auth_time decides; plain
// headers carry no authentication time and are accepted (the proxy
// re-authenticates on its own schedule). No sign-in link: the console
// cannot sign anyone in there.
func TestStepUpHeaderMode(t *testing.T) {
	t.Run("assertion", func(t *testing.T) {
		iss := webtest.NewIssuer(t)
		env := webtest.New(t, webtest.Options{Config: func(c *web.Config) {
			c.AuthMode = "header"
			c.AuthJWTHeader = "X-Pomerium-Jwt-Assertion"
			c.AuthJWKSURL = iss.JWKSURL
			c.AuthJWTIssuer = iss.URL
			c.AuthJWTAudience = "console.example"
		}})
		u := stepUpSubject(t, env, "Hedda Header", "hedda.header@example.com")
		as := func(email string, authTime time.Time) *http.Client {
			tok := iss.Assertion(t, "console.example", email, []string{"support-leads"}, map[string]any{"auth_time": authTime.Unix()})
			c := env.Client()
			c.Transport = &webtest.HeaderTransport{Header: http.Header{"X-Pomerium-Jwt-Assertion": {tok}}}
			return c
		}
		stale := as("old.lead@example.com", time.Now().Add(-time.Hour))
		sim, denied, access := len(env.Sim.Requests()), len(deniedEntries(t, env, "erasure.denied")), len(deniedEntries(t, env, "access.denied"))
		resp, body := env.PostForm(t, stale, "/endusers/"+u.ID+"/erasure", requestForm("DSAR-HDR-1", u.Email))
		assertStale(t, env, "request with auth_time an hour ago", resp, body, sim, denied, access, "enduser", u.ID, "")

		requestErasure(t, env, as("new.lead@example.com", time.Now()), u.ID, requestForm("DSAR-HDR-2", u.Email))
	})
	t.Run("plain headers", func(t *testing.T) {
		env := webtest.New(t, webtest.Options{Config: func(c *web.Config) {
			c.AuthMode = "header"
			c.AuthProxySecret = "proxy-secret-0123456789"
			c.StepUpMaxAge = time.Nanosecond
		}})
		u := stepUpSubject(t, env, "Pia Plain", "pia.plain@example.com")
		requestErasure(t, env, env.Login(t, "lead"), u.ID, requestForm("DSAR-HDR-3", u.Email))
	})
}
