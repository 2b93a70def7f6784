package web_test

import (
	"github.com/example/dixa-console/web/erasure"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/webtest"
)

// asProxyUser is a client whose every request carries the identity
// headers a sign-on proxy would send for email.
func asProxyUser(env *webtest.Env, email, groups string) *http.Client {
	c := env.Client()
	c.Transport = &webtest.HeaderTransport{Header: http.Header{
		"X-Forwarded-Email":  {email},
		"X-Forwarded-Groups": {groups},
		"X-Proxy-Secret":     {env.Cfg.AuthProxySecret},
	}}
	return c
}

// Finding: the same lead, writing their email in capitals, approved their
// own erasure request. Plain headers give one canonical identity (the
// lower-cased email), so four-eyes sees one person; the audit log names
// that identity.
func TestFourEyesSameLeadWrittenDifferently(t *testing.T) {
	env := headerEnv(t, nil)
	u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Frida Foureyes", Email: "frida.foureyes@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	requester := asProxyUser(env, "lead1@corp.example", "support-leads")
	same := asProxyUser(env, " LEAD1@Corp.Example", "support-leads")

	resp, body := env.PostForm(t, requester, "/endusers/"+u.ID+"/erasure", url.Values{"reference": {"DSAR-4EYES"},
		"reason": {"Art. 17(1)(a) GDPR"}, "receivedAt": {time.Now().Format("2006-01-02")}, "confirm": {u.Email}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("request: %d\n%s", resp.StatusCode, body)
	}
	rid := resp.Header.Get("Location")[strings.LastIndex(resp.Header.Get("Location"), "/")+1:]
	before := len(env.Sim.Requests())
	if resp, _ := env.PostForm(t, same, "/erasures/"+rid+"/approve", url.Values{"comment": {"ok"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the requester, written in capitals, approving: %d, want 403", resp.StatusCode)
	}
	if e, err := env.Store.GetErasure(t.Context(), rid); err != nil || e.State != erasure.Requested || e.RequestedByID != "lead1@corp.example" {
		t.Errorf("erasure %+v (%v): want still requested, by lead1@corp.example", e, err)
	}
	if n := len(env.Sim.Requests()) - before; n != 0 {
		t.Errorf("Dixa received %d requests", n)
	}
	es := aaEntries(t, env, "")
	if len(es) < 2 {
		t.Errorf("%d audit entries, want the request and the refused approval", len(es))
	}
	for _, e := range es {
		if e.ActorID != "anonymous" && e.ActorID != "lead1@corp.example" {
			t.Errorf("audit entry %s by %q, want the canonical lead1@corp.example", e.Action, e.ActorID)
		}
	}
}
