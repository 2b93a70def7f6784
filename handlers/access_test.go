package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/importjob"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/role"
	"github.com/example/dixa-console/web/writeguard"
)

// recordingAudit is an audit log and reader that counts what reaches it.
type recordingAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
	reads   int
}

func (a *recordingAudit) Audit(_ context.Context, e audit.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *recordingAudit) ListAudit(context.Context, audit.Filter) ([]audit.Entry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reads++
	return nil, nil
}

// A role is checked by the middleware of the route group and again where
// the action happens: every handler of an agent or lead action refuses a
// lower role by itself (403 naming the role, one access.denied entry),
// without the route middleware in front and with forged role fields, and
// nothing reaches Dixa or the audit reader.
func TestHandlersRecheckRole(t *testing.T) {
	var upstream atomic.Int64
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstream.Add(1)
		http.Error(w, `{"message":"should not be called"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(fake.Close)
	api, err := apiclient.New(fake.URL, apiclient.WithAPIKey("k"), apiclient.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingAudit{}
	guard := writeguard.New()
	edit := &handlers.Edit{API: api, Guard: guard, Audit: rec}
	create := &handlers.Create{API: api, Guard: guard, Audit: rec}
	profile := &handlers.Profile{API: api, Defs: customer.NewDefinitions(api, customer.DefinitionTTL), Guard: guard, Audit: rec}
	imports := &handlers.Imports{Store: importjob.NewMemStore(), Defs: api, Audit: rec}
	export := &handlers.Export{API: api, Audit: rec}
	auditPages := &handlers.Audit{Store: rec}
	list, convs := &handlers.EndUsers{API: api}, &handlers.Conversations{API: api, Audit: rec}

	const uid = "de000000-0000-4000-8000-000000000001"
	const jid = "0b7c3c7e-1d2a-4f55-9a0e-3e1f2a4b5c6d"
	forged := url.Values{"formVersion": {"1"}, "role": {"lead"}, "displayName": {"Eve"}, "mode": {"create"}}.Encode()
	routes := []struct {
		need    role.Role
		method  string
		path    string
		handler http.HandlerFunc
	}{
		{role.Viewer, "GET", "/endusers", list.List},
		{role.Viewer, "GET", "/endusers/{id}", profile.Show},
		{role.Viewer, "GET", "/endusers/{id}/conversations", profile.Conversations},
		{role.Viewer, "GET", "/endusers/{id}/conversations/{conversationId}", convs.Show},
		{role.Viewer, "GET", "/endusers/{id}/conversations/{conversationId}/messages", convs.Messages},
		{role.Viewer, "GET", "/endusers/{id}/conversations/{conversationId}/messages/{messageId}", convs.Message},
		{role.Agent, "GET", "/endusers/new", create.Form},
		{role.Agent, "POST", "/endusers", create.Create},
		{role.Agent, "GET", "/endusers/{id}/edit", edit.Form},
		{role.Agent, "POST", "/endusers/{id}", edit.Save},
		{role.Agent, "POST", "/endusers/{id}/custom-attributes", profile.SaveAttributes},
		{role.Lead, "GET", "/endusers/export.csv", export.CSV},
		{role.Lead, "GET", "/imports", imports.Index},
		{role.Lead, "POST", "/imports", imports.Upload},
		{role.Lead, "GET", "/imports/{jid}", imports.Show},
		{role.Lead, "POST", "/imports/{jid}/start", imports.Start},
		{role.Lead, "POST", "/imports/{jid}/pause", imports.Pause},
		{role.Lead, "POST", "/imports/{jid}/cancel", imports.Cancel},
		{role.Lead, "GET", "/imports/{jid}/results.csv", imports.Results},
		{role.Lead, "GET", "/imports/{jid}/problems.csv", imports.Problems},
		{role.Lead, "GET", "/audit", auditPages.List},
		{role.Lead, "GET", "/audit.csv", auditPages.CSV},
	}
	for _, rt := range routes {
		for _, have := range []role.Role{"", "admin", role.Viewer, role.Agent} {
			if have.AtLeast(rt.need) {
				continue
			}
			path := strings.NewReplacer("{id}", uid, "{jid}", jid, "{conversationId}", "42", "{messageId}", "m1").Replace(rt.path)
			r := httptest.NewRequest(rt.method, path+"?role=lead&q=x", strings.NewReader(forged))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range map[string]string{"id": uid, "jid": jid, "conversationId": "42", "messageId": "m1"} {
				r.SetPathValue(k, v)
			}
			r.Pattern = rt.method + " " + rt.path
			ctx := reqctx.WithIdentity(r.Context(), reqctx.Identity{ID: "p@example.com", Name: "P", Role: have})
			r = r.WithContext(ctx)
			rec.mu.Lock()
			entries, reads := len(rec.entries), rec.reads
			rec.mu.Unlock()
			calls := upstream.Load()
			w := httptest.NewRecorder()
			rt.handler(w, r)

			what := rt.method + " " + rt.path + " as " + string(have)
			if w.Code != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", what, w.Code)
			} else if !strings.Contains(w.Body.String(), string(rt.need)) {
				t.Errorf("%s: the 403 page does not name the %s role", what, rt.need)
			}
			if n := upstream.Load() - calls; n != 0 {
				t.Errorf("%s: %d upstream calls", what, n)
			}
			rec.mu.Lock()
			if rec.reads != reads {
				t.Errorf("%s: the audit log was read", what)
			}
			got := rec.entries[entries:]
			rec.mu.Unlock()
			wantEntries := 1
			if rt.path == "/endusers" && rt.method == "GET" {
				wantEntries = 0 // the list has no audit logger
			}
			if len(got) != wantEntries || len(got) == 1 && (got[0].Action != audit.ActionAccessDenied || got[0].Outcome != audit.OutcomeDenied) {
				t.Errorf("%s: audit entries %+v, want %d access.denied", what, got, wantEntries)
			}
		}
	}
}
