package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/webtest"
)

// Audit entries of the agent workflows ("every state-changing
// action"): edits, creates and custom attributes, through the real router
// against the simulator, read back from the console's store.

// auditEntries returns the entries of action, oldest first.
func auditEntries(t *testing.T, env *webtest.Env, action string) []store.AuditEntry {
	t.Helper()
	es, err := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: action, Ascending: true, Limit: 1000})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	return es
}

// auditOne expects exactly one entry of action written since `since`
// entries of it existed, and returns it.
func auditOne(t *testing.T, env *webtest.Env, action string, since int) store.AuditEntry {
	t.Helper()
	es := auditEntries(t, env, action)
	if len(es)-since != 1 {
		t.Fatalf("%d new %s entries, want 1: %+v", len(es)-since, action, es[since:])
	}
	return es[since]
}

// auditHolds reports which of values appear anywhere in the entry (every
// field, details keys and values, as stored). The time and the random hex
// of hashes and ids are left out, where a short number could turn up by
// chance.
func auditHolds(e store.AuditEntry, values ...string) []string {
	e.Hash, e.PrevHash, e.EventID, e.SessionHash, e.CorrelationID, e.Time = "", "", "", "", "", time.Time{}
	b, _ := json.Marshal(e)
	all := strings.ToLower(string(b) + " " + e.ActorName)
	var found []string
	for _, v := range values {
		if v != "" && strings.Contains(all, strings.ToLower(v)) {
			found = append(found, v)
		}
	}
	return found
}

// auditVerify checks that the chain still verifies.
func auditVerify(t *testing.T, env *webtest.Env) {
	t.Helper()
	res, err := env.Store.Verify(t.Context())
	if err != nil || !res.OK() {
		t.Fatalf("audit chain: %v %v", err, res.Problems)
	}
	if res.Entries == 0 {
		t.Error("audit chain is empty")
	}
}

func auditWant(t *testing.T, e store.AuditEntry, targetType, targetID, outcome string, details map[string]string) {
	t.Helper()
	if e.TargetType != targetType || e.TargetID != targetID || string(e.Outcome) != outcome {
		t.Errorf("entry target %s/%s outcome %q, want %s/%s %q", e.TargetType, e.TargetID, e.Outcome, targetType, targetID, outcome)
	}
	for k, v := range details {
		if got := e.Details[k]; got != v {
			t.Errorf("details[%q] = %q, want %q (details %v)", k, got, v, e.Details)
		}
	}
	if e.ActorRole != "agent" || e.ActorID == "" || e.CorrelationID == "" || e.Time.IsZero() {
		t.Errorf("actor %q role %q correlation %q time %v: want an agent, a correlation id and a time", e.ActorID, e.ActorRole, e.CorrelationID, e.Time)
	}
}

func TestAuditEndUserEdit(t *testing.T) {
	env := euEnv(t, webtest.Options{Client: []apiclient.Option{apiclient.WithMaxWait(300 * time.Millisecond), apiclient.WithBreaker(0, 0)}})
	c := env.Login(t, "agent")
	id, oldPhone := euPhoneUser(t, env)
	before, _ := env.API.GetEndUser(t.Context(), id)

	t.Run("saved: field names, no values", func(t *testing.T) {
		since := len(auditEntries(t, env, "enduser.updated"))
		form := euEditForm(t, env, c, id)
		form.Set("email", "audit-canary-new@example.com")
		form.Set("phoneNumber", "+45 31 41 59 26")
		form.Set("displayName", form.Get("displayName")) // unchanged
		resp, body := env.PostForm(t, c, "/endusers/"+id, form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: status %d\n%.800s", resp.StatusCode, body)
		}
		e := auditOne(t, env, "enduser.updated", since)
		auditWant(t, e, "enduser", id, store.OutcomeOK, map[string]string{"fields": "email,phoneNumber"})
		if leaked := auditHolds(e, "audit-canary-new", "+4531415926", "31415926", "31 41 59 26", before.Email, oldPhone, before.DisplayName); len(leaked) > 0 {
			t.Errorf("the entry holds personal values %q: %+v", leaked, e)
		}
		// A replay of the same form writes nothing and logs nothing more.
		env.PostForm(t, c, "/endusers/"+id, form)
		if n := len(auditEntries(t, env, "enduser.updated")) - since; n != 1 {
			t.Errorf("%d entries after a replay, want 1", n)
		}
	})

	t.Run("nothing changed: no entry", func(t *testing.T) {
		since := len(auditEntries(t, env, "enduser.updated"))
		resp, _ := env.PostForm(t, c, "/endusers/"+id, euEditForm(t, env, c, id))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if n := len(auditEntries(t, env, "enduser.updated")) - since; n != 0 {
			t.Errorf("%d entries for an unchanged form, want 0", n)
		}
	})

	t.Run("conflict: blocked", func(t *testing.T) {
		bob := env.Login(t, "agent")
		a := euEditForm(t, env, c, id)
		b := euEditForm(t, env, bob, id)
		a.Set("lastName", "Audit Alice")
		if resp, body := env.PostForm(t, c, "/endusers/"+id, a); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first save: status %d\n%.800s", resp.StatusCode, body)
		}
		since := len(auditEntries(t, env, "enduser.updated"))
		b.Set("lastName", "Audit Bob")
		b.Set("firstName", "Bobby")
		resp, body := env.PostForm(t, bob, "/endusers/"+id, b)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("second save: status %d, want 409\n%.800s", resp.StatusCode, body)
		}
		e := auditOne(t, env, "enduser.updated", since)
		auditWant(t, e, "enduser", id, store.OutcomeBlocked, map[string]string{"fields": "lastName"})
		if leaked := auditHolds(e, "Audit Alice", "Audit Bob", "Bobby"); len(leaked) > 0 {
			t.Errorf("the entry holds personal values %q: %+v", leaked, e)
		}
	})

	t.Run("upstream 500 on PATCH: failed, outcome unknown", func(t *testing.T) {
		since := len(auditEntries(t, env, "enduser.updated"))
		form := euEditForm(t, env, c, id)
		form.Set("displayName", "Audit Maybe Saved")
		env.Sim.FailNext("PATCH /endusers/{userId}", 1, http.StatusInternalServerError)
		resp, body := env.PostForm(t, c, "/endusers/"+id, form)
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("status %d, want 504\n%.800s", resp.StatusCode, body)
		}
		e := auditOne(t, env, "enduser.updated", since)
		auditWant(t, e, "enduser", id, store.OutcomeFailed, map[string]string{"fields": "displayName", "error": "outcome_unknown"})
		if leaked := auditHolds(e, "Audit Maybe Saved", "internal server error", "500"); len(leaked) > 0 {
			t.Errorf("the entry holds %q (a value or an upstream body): %+v", leaked, e)
		}
	})

	t.Run("Dixa refuses: failed, refused", func(t *testing.T) {
		var taken string
		env.Sim.AnyUserID(func(u apiclient.EndUser) bool {
			if u.ID != id && strings.HasPrefix(u.PhoneNumber, "+") {
				taken = u.PhoneNumber
				return true
			}
			return false
		})
		since := len(auditEntries(t, env, "enduser.updated"))
		form := euEditForm(t, env, c, id)
		form.Set("phoneNumber", taken)
		resp, _ := env.PostForm(t, c, "/endusers/"+id, form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", resp.StatusCode)
		}
		e := auditOne(t, env, "enduser.updated", since)
		auditWant(t, e, "enduser", id, store.OutcomeFailed, map[string]string{"fields": "phoneNumber", "error": "refused"})
		if leaked := auditHolds(e, taken, "PhoneNumberExists"); len(leaked) > 0 {
			t.Errorf("the entry holds %q: %+v", leaked, e)
		}
	})

	auditVerify(t, env)
}

func TestAuditEndUserCreate(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	_, body := env.Get(t, c, "/endusers/new")
	form := euFormValues(t, body, "#create-form")
	form.Set("displayName", "Audit Canary Person")
	form.Set("email", "audit-canary-create@example.com")
	form.Set("externalId", "audit-ext-4711")
	since := len(auditEntries(t, env, "enduser.created"))
	resp, body := env.PostForm(t, c, "/endusers", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: status %d\n%.800s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	newID := strings.TrimSuffix(strings.TrimPrefix(loc, "/endusers/"), "?saved=created")
	if newID == "" || newID == loc {
		t.Fatalf("redirected to %q", loc)
	}
	e := auditOne(t, env, "enduser.created", since)
	auditWant(t, e, "enduser", newID, store.OutcomeOK, map[string]string{"identifiers": "email,externalId", "fields": "displayName,email,externalId"})
	if _, ok := e.Details["duplicateConfirmed"]; ok {
		t.Errorf("duplicateConfirmed set without a duplicate warning: %v", e.Details)
	}
	if leaked := auditHolds(e, "Audit Canary Person", "audit-canary-create", "audit-ext-4711"); len(leaked) > 0 {
		t.Errorf("the entry holds personal values %q: %+v", leaked, e)
	}

	// The duplicate warning itself writes nothing; creating past it is
	// marked. Dixa refusing the (taken) email is a failed entry.
	form.Set("displayName", "Audit Twin")
	form.Set("externalId", "")
	since = len(auditEntries(t, env, "enduser.created"))
	resp, body = env.PostForm(t, c, "/endusers", form)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate: status %d, want 409", resp.StatusCode)
	}
	if n := len(auditEntries(t, env, "enduser.created")) - since; n != 0 {
		t.Errorf("%d entries for the duplicate warning, want 0", n)
	}
	again := euFormValues(t, body, "#create-form")
	again.Set("confirm", euDoc(t, body).Find(`[data-testid="create-anyway"]`).AttrOr("value", ""))
	resp, _ = env.PostForm(t, c, "/endusers", again)
	e = auditOne(t, env, "enduser.created", since)
	switch resp.StatusCode {
	case http.StatusSeeOther: // the simulator allows a second customer with the email
		auditWant(t, e, "enduser", strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/endusers/"), "?saved=created"), store.OutcomeOK, map[string]string{"duplicateConfirmed": "true"})
	case http.StatusUnprocessableEntity:
		auditWant(t, e, "enduser", "", store.OutcomeFailed, map[string]string{"duplicateConfirmed": "true", "error": "refused"})
	default:
		t.Fatalf("create anyway: status %d", resp.StatusCode)
	}
	if leaked := auditHolds(e, "Audit Twin", "audit-canary-create"); len(leaked) > 0 {
		t.Errorf("the entry holds personal values %q: %+v", leaked, e)
	}
	auditVerify(t, env)
}

func TestAuditCustomAttributes(t *testing.T) {
	env := euEnv(t, webtest.Options{Client: []apiclient.Option{apiclient.WithMaxWait(300 * time.Millisecond), apiclient.WithBreaker(0, 0)}})
	c := env.Login(t, "agent")
	id := dixasim.DemoMinimalUserID
	defs, err := env.API.ListCustomAttributeDefinitions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var text *apiclient.CustomAttributeDefinition
	for i, d := range defs {
		if d.EntityType == apiclient.EntityContact && !d.IsArchived && !d.IsDeactivated && d.InputDefinition.Type == apiclient.InputText {
			text = &defs[i]
			break
		}
	}
	if text == nil {
		t.Fatal("the demo data needs an active Text Contact attribute")
	}
	load := func() url.Values {
		_, body := env.Get(t, c, "/endusers/"+id)
		return euFormValues(t, body, `[data-testid="attrs-form"]`)
	}

	since := len(auditEntries(t, env, "customattributes.updated"))
	form := load()
	form.Set("attr."+text.ID, "audit-canary-attr-value")
	resp, body := env.PostForm(t, c, "/endusers/"+id+"/custom-attributes", form, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("save: status %d\n%.800s", resp.StatusCode, body)
	}
	e := auditOne(t, env, "customattributes.updated", since)
	auditWant(t, e, "enduser", id, store.OutcomeOK, map[string]string{"attributes": text.ID, "identifiers": text.Identifier})
	if leaked := auditHolds(e, "audit-canary-attr-value"); len(leaked) > 0 {
		t.Errorf("the entry holds the value: %+v", e)
	}

	// Someone else changes it after the page was loaded: blocked.
	form = load()
	if _, err := env.API.PatchEndUserCustomAttributes(t.Context(), id, map[string]apiclient.AttributeValue{text.ID: apiclient.TextValue("audit-theirs")}); err != nil {
		t.Fatal(err)
	}
	since = len(auditEntries(t, env, "customattributes.updated"))
	form.Set("attr."+text.ID, "audit-mine")
	resp, _ = env.PostForm(t, c, "/endusers/"+id+"/custom-attributes", form, "HX-Request", "true")
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("conflict: status %d, want 409", resp.StatusCode)
	}
	e = auditOne(t, env, "customattributes.updated", since)
	auditWant(t, e, "enduser", id, store.OutcomeBlocked, map[string]string{"attributes": text.ID})
	if leaked := auditHolds(e, "audit-theirs", "audit-mine"); len(leaked) > 0 {
		t.Errorf("the entry holds values %q: %+v", leaked, e)
	}

	// Upstream 500 on the write: failed, outcome unknown.
	form = load()
	form.Set("attr."+text.ID, "audit-maybe")
	env.Sim.FailNext("PATCH /endusers/{userId}/custom-attributes", 1, http.StatusInternalServerError)
	since = len(auditEntries(t, env, "customattributes.updated"))
	resp, _ = env.PostForm(t, c, "/endusers/"+id+"/custom-attributes", form, "HX-Request", "true")
	if resp.StatusCode < 500 {
		t.Fatalf("failed write: status %d, want 5xx", resp.StatusCode)
	}
	e = auditOne(t, env, "customattributes.updated", since)
	auditWant(t, e, "enduser", id, store.OutcomeFailed, map[string]string{"attributes": text.ID, "error": "outcome_unknown"})
	auditVerify(t, env)
}

// TestAuditWithoutStore: a console built without a store (no audit log)
// still saves; the handlers get a nil logger, not a nil *store.Store in an
// interface, which would panic.
func TestAuditWithoutStore(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	cfg := webtest.Config()
	cfg.DataDir = t.TempDir()
	srv, err := web.New(cfg, web.Deps{API: env.API})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := env.Client()
	post := func(path string, form url.Values) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ts.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post("/login", url.Values{"name": {"No Store Agent"}, "role": {"agent"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: status %d", resp.StatusCode)
	}
	id, _ := euPhoneUser(t, env)
	resp, err := c.Get(ts.URL + "/endusers/" + id + "/edit")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := euFormValues(t, string(b), "#profile-form")
	form.Set("lastName", "Saved Without Store")
	if resp := post("/endusers/"+id, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save without a store: status %d", resp.StatusCode)
	}
	if u, _ := env.API.GetEndUser(t.Context(), id); u.LastName != "Saved Without Store" {
		t.Errorf("lastName %q", u.LastName)
	}
}
