package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/role"
	"github.com/example/dixa-console/web/webtest"
)

// The audit log page as a lead uses it: targets link to what they name
// with short ids, the filters are choices and a part of the actor, an
// inverted date range is answered, and a profile links to the customer's
// history. Through the real router against the simulator.

// auditSeed writes entries as two people, one per target type.
func auditSeed(t *testing.T, env *webtest.Env) {
	t.Helper()
	ann := reqctx.WithIdentity(t.Context(), reqctx.Identity{ID: "ann.agent@example.com", Name: "Ann Agent", Role: role.Agent})
	bo := reqctx.WithIdentity(t.Context(), reqctx.Identity{ID: "bo@example.com", Name: "Bo Lead", Role: role.Lead})
	for _, e := range []struct {
		ctx               context.Context
		action, ttype, id string
	}{
		{ann, "enduser.updated", "enduser", dixasim.DemoBusyUserID},
		{bo, "erasure.approved", "erasure", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
		{bo, "import.uploaded", "job", "job-1234567890abcdef"},
		{bo, "signin", "session", "abcdef0123456789"},
	} {
		if err := env.Store.Audit(e.ctx, audit.Entry{Action: e.action, TargetType: e.ttype, TargetID: e.id, Outcome: audit.OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditTargetsLinkWithShortIDs: enduser, erasure and job targets link
// to the profile, the erasure and the import, showing 8 characters with
// the whole id in the tooltip; other targets are plain; no row asks Dixa
// for anything.
func TestAuditTargetsLinkWithShortIDs(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	auditSeed(t, env)
	lead := env.Login(t, "lead")
	since := len(env.Sim.Requests())
	resp, body := env.Get(t, lead, "/audit")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := len(env.Sim.Requests()) - since; n != 0 {
		t.Errorf("the audit log made %d Dixa calls", n)
	}
	d := euDoc(t, body)
	want := map[string]string{
		"/endusers/" + dixasim.DemoBusyUserID:            dixasim.DemoBusyUserID,
		"/erasures/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
		"/imports/job-1234567890abcdef":                  "job-1234567890abcdef",
	}
	for href, id := range want {
		a := d.Find(`a[data-testid=audit-target][href="` + href + `"]`)
		if a.Length() != 1 {
			t.Errorf("no target link to %s", href)
			continue
		}
		if title, _ := a.Attr("title"); title != id {
			t.Errorf("%s: title %q, want the full id", href, title)
		}
		short := strings.TrimSuffix(strings.TrimSpace(a.Text()), "…")
		if len(id) > 8 && short != id[:8] {
			t.Errorf("%s: shows %q, want %q", href, short, id[:8])
		}
	}
	if d.Find(`a[href*="abcdef0123456789"]`).Length() != 0 {
		t.Error("a session target is a link")
	}
	if d.Find(`[title="abcdef0123456789"]`).Length() != 1 {
		t.Error("a plain target has no tooltip with its full id")
	}
}

// TestAuditFilters: action and target type are selects of the known
// values, the actor matches a part of the email or name in any case, and
// a From after To is a 422 that keeps the form.
func TestAuditFilters(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	auditSeed(t, env)
	lead := env.Login(t, "lead")
	_, body := env.Get(t, lead, "/audit")
	d := euDoc(t, body)
	for _, name := range []string{"action", "targetType"} {
		if d.Find(`select[name=`+name+`]`).Length() != 1 {
			t.Errorf("%s is not a select", name)
		}
	}
	for _, v := range []string{"enduser.updated", "erasure.approved", "import.uploaded", "erasure."} {
		if d.Find(`select[name=action] option[value="`+v+`"]`).Length() != 1 {
			t.Errorf("action %s is not offered", v)
		}
	}
	for q, want := range map[string][]string{
		"actor=ANN":                     {"enduser.updated"},
		"actor=bo+lead&action=erasure.": {"erasure.approved"},
		"actor=agent%40EXAMPLE":         {"enduser.updated"},
		"actor=bo&targetType=job":       {"import.uploaded"},
		"targetType=enduser&target=" + dixasim.DemoBusyUserID: {"enduser.updated"},
	} {
		_, body := env.Get(t, lead, "/audit?"+q)
		var got []string
		euDoc(t, body).Find(`[data-testid=audit-row]`).Each(func(_ int, s *goquery.Selection) {
			a, _ := s.Attr("data-action")
			got = append(got, a)
		})
		got = withoutSignIns(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: rows %v, want %v", q, got, want)
		}
	}
	resp, body := env.Get(t, lead, "/audit?"+url.Values{"from": {"2026-03-05"}, "to": {"2026-03-01"}, "actor": {"ann"}}.Encode())
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("from after to: status %d, want 422", resp.StatusCode)
	}
	d = euDoc(t, body)
	if !strings.Contains(d.Find(`[data-testid=audit-filter-error]`).Text(), "after") {
		t.Error("from after to: no message")
	}
	for name, v := range map[string]string{"from": "2026-03-05", "to": "2026-03-01", "actor": "ann"} {
		if got, _ := d.Find(`input[name=` + name + `]`).Attr("value"); got != v {
			t.Errorf("from after to: %s = %q, want the form kept (%q)", name, got, v)
		}
	}
}

// withoutSignIns drops the sign-ins of the test's own sessions.
func withoutSignIns(as []string) []string {
	var out []string
	for _, a := range as {
		if a != "signin" {
			out = append(out, a)
		}
	}
	return out
}

// TestProfileLinksToCustomerHistory: a lead's profile links to the audit
// log filtered to the customer; an agent's does not.
func TestProfileLinksToCustomerHistory(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	_, body := env.Get(t, env.Login(t, "lead"), "/endusers/"+dixasim.DemoBusyUserID)
	href, ok := euDoc(t, body).Find(`a[data-testid=customer-history]`).Attr("href")
	want := "/audit?" + url.Values{"target": {dixasim.DemoBusyUserID}, "targetType": {"enduser"}}.Encode()
	if !ok || href != want {
		t.Errorf("history link %q, want %q", href, want)
	}
	_, body = env.Get(t, env.Login(t, "agent"), "/endusers/"+dixasim.DemoBusyUserID)
	if euDoc(t, body).Find(`[data-testid=customer-history]`).Length() != 0 {
		t.Error("an agent is offered the audit log")
	}
}
