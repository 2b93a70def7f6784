package handlers_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/webtest"
)

func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// anonymizeCalls returns the anonymize requests the simulator received.
func anonymizeCalls(env *webtest.Env) []dixasim.RecordedRequest {
	var out []dixasim.RecordedRequest
	for _, r := range env.Sim.Requests() {
		if r.Method == http.MethodPatch && strings.HasSuffix(r.Path, "/anonymize") {
			out = append(out, r)
		}
	}
	return out
}

func requestForm(ref, confirm string, extra ...string) url.Values {
	f := url.Values{"reference": {ref}, "reason": {"Art. 17(1)(a) GDPR"}, "receivedAt": {time.Now().Format("2006-01-02")}, "confirm": {confirm}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// requestErasure posts a valid request and returns the erasure id.
func requestErasure(t *testing.T, env *webtest.Env, c *http.Client, subject string, form url.Values) string {
	t.Helper()
	resp, body := env.PostForm(t, c, "/endusers/"+subject+"/erasure", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("request erasure: status %d, want 303\n%s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	rid := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(loc, "/erasures/") || len(rid) != 36 {
		t.Fatalf("redirect to %q", loc)
	}
	return rid
}

func statusOf(t *testing.T, env *webtest.Env, c *http.Client, rid string) (erasure.State, string) {
	t.Helper()
	resp, body := env.Get(t, c, "/erasures/"+rid+"?panel=status", "HX-Request", "true")
	if resp.StatusCode != 200 {
		t.Fatalf("status page: %d", resp.StatusCode)
	}
	st, _ := doc(t, body).Find("[data-state]").First().Attr("data-state")
	return erasure.State(st), body
}

// waitState polls the status fragment (as the page's htmx does) until the
// erasure reaches want; it fails on any other final state. It checks that
// nothing says "erased" before Dixa's processedAt.
func waitState(t *testing.T, env *webtest.Env, c *http.Client, rid string, want erasure.State) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, body := statusOf(t, env, c, rid)
		if st == want {
			return
		}
		if st == erasure.Submitted || st == erasure.Approved || st == erasure.Requested {
			if strings.Contains(strings.ToLower(body), "erased and") || strings.Contains(body, "Erased") {
				t.Fatalf("state %s but the page says erased:\n%s", st, body)
			}
		}
		if st.Final() {
			t.Fatalf("erasure ended %s, want %s\n%s", st, want, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("erasure still %s after 15s, want %s", st, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func auditActions(t *testing.T, env *webtest.Env, rid string) []string {
	t.Helper()
	es, err := env.Store.ListAudit(t.Context(), store.AuditFilter{TargetType: "erasure", TargetID: rid, Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func TestErasureFourEyesFlow(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{AnonymizeDelay: 300 * time.Millisecond}})
	ctx := t.Context()
	subject, err := env.API.CreateEndUser(ctx, apiclient.CreateEndUserInput{DisplayName: "Erin Canary", Email: "erin.canary@example.com",
		PhoneNumber: "+4520990011", ExternalID: "ext-erin-canary"})
	if err != nil {
		t.Fatal(err)
	}
	dup, err := env.API.CreateEndUser(ctx, apiclient.CreateEndUserInput{DisplayName: "Erin Again", Email: "erin.other@example.com",
		AdditionalEmails: []string{"erin.canary@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	requester, approver, other := env.Login(t, "lead"), env.Login(t, "lead"), env.Login(t, "lead")
	checkPreviewAndValidation(t, env, requester, subject, dup.ID)

	rid := requestErasure(t, env, requester, subject.ID, requestForm("DSAR-2026-017", "ERIN.canary@example.com"))
	if st, _ := statusOf(t, env, requester, rid); st != erasure.Requested {
		t.Fatalf("state after request = %s", st)
	}
	// The requester is not offered the decision, and is refused if they try.
	_, body := env.Get(t, requester, "/erasures/"+rid)
	if doc(t, body).Find(`[data-testid=approve-form]`).Length() != 0 {
		t.Error("requester is offered the approve form")
	}
	for _, act := range []string{"approve", "reject"} {
		if resp, _ := env.PostForm(t, requester, "/erasures/"+rid+"/"+act, url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("self-%s: status %d, want 403", act, resp.StatusCode)
		}
	}
	// A second request for the same customer while one is open is refused.
	if resp, _ := env.PostForm(t, requester, "/endusers/"+subject.ID+"/erasure", requestForm("DSAR-dup", subject.Email)); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("second open request: %d, want 422", resp.StatusCode)
	}
	if n := len(anonymizeCalls(env)); n != 0 {
		t.Fatalf("%d anonymize calls before approval", n)
	}
	_, body = env.Get(t, approver, "/erasures/"+rid)
	if doc(t, body).Find(`[data-testid=approve-form]`).Length() != 1 {
		t.Error("second lead is not offered the approve form")
	}
	approveConcurrently(t, env, rid, "DSAR-2026-017", approver, other)

	waitState(t, env, approver, rid, erasure.Verified)
	_, body = env.Get(t, requester, "/erasures/"+rid)
	if !strings.Contains(body, "Erased and verified") {
		t.Error("verified page does not say so")
	}
	rc := checkReceipt(t, env, requester, rid, subject.ID)
	checkAuditTrail(t, env, rid, rc)

	// "Was this person erased?" without keeping who they were.
	if ids, _ := env.Store.ErasuresByIdentifier(ctx, "email", "Erin.Canary@example.com"); !slices.Equal(ids, []string{rid}) {
		t.Errorf("ErasuresByIdentifier = %v", ids)
	}
	// The list shows it.
	resp, body := env.Get(t, requester, "/erasures")
	if st, _ := doc(t, body).Find(`[data-testid=erasure-row][data-id="` + rid + `"]`).Attr("data-state"); st != "verified" {
		t.Errorf("list state = %q (%d)\n%s", st, resp.StatusCode, body[strings.Index(body, "<main"):])
	}
}

// checkPreviewAndValidation: the preview shows the profile, the
// conversations and the duplicate; a form with a mistake is refused (422)
// with the input kept and nothing stored.
func checkPreviewAndValidation(t *testing.T, env *webtest.Env, c *http.Client, subject apiclient.EndUser, dupID string) {
	t.Helper()
	resp, body := env.Get(t, c, "/endusers/"+subject.ID+"/erasure")
	if resp.StatusCode != 200 {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
	}
	d := doc(t, body)
	if id, _ := d.Find(`[data-testid=duplicate]`).Attr("data-id"); id != dupID {
		t.Errorf("duplicate shown = %q, want %s", id, dupID)
	}
	if d.Find(`[data-testid=erasure-form]`).Length() != 1 {
		t.Error("no request form")
	}
	for name, tc := range map[string]struct {
		form  url.Values
		field string
	}{
		"no reference":  {requestForm("", subject.Email), "reference"},
		"future date":   {requestForm("DSAR-9", subject.Email, "receivedAt", time.Now().AddDate(0, 0, 2).Format("2006-01-02")), "receivedAt"},
		"bad date":      {requestForm("DSAR-9", subject.Email, "receivedAt", "31/01/2026"), "receivedAt"},
		"wrong confirm": {requestForm("DSAR-9", "someone@example.com"), "confirm"},
		"force, no why": {requestForm("DSAR-9", subject.Email, "force", "true"), "forceReason"},
	} {
		resp, body := env.PostForm(t, c, "/endusers/"+subject.ID+"/erasure", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", name, resp.StatusCode)
			continue
		}
		if doc(t, body).Find(`[data-testid=error-`+tc.field+`]`).Length() != 1 {
			t.Errorf("%s: no error next to %s", name, tc.field)
		}
	}
}

// approveConcurrently: two leads approve at the same moment, each clicking
// several times; Dixa gets exactly one anonymize call, without force.
func approveConcurrently(t *testing.T, env *webtest.Env, rid, ref string, a, b *http.Client) {
	t.Helper()
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for i := range 8 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() {
			resp, _ := env.PostForm(t, c, "/erasures/"+rid+"/approve", url.Values{"comment": {"checked against ticket"}, "confirmReference": {ref}})
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	var codes []int
	for c := range statuses {
		codes = append(codes, c)
	}
	calls := anonymizeCalls(env)
	if len(calls) != 1 {
		t.Fatalf("%d anonymize calls under concurrent approvals, want exactly 1 (responses %v)", len(calls), codes)
	}
	if calls[0].RawQuery != "force=false" {
		t.Errorf("anonymize query = %q, want force=false", calls[0].RawQuery)
	}
	if !slices.Contains(codes, http.StatusSeeOther) {
		t.Errorf("no approval succeeded: %v", codes)
	}
}

// checkReceipt: exactly the documented fields, no personal data.
func checkReceipt(t *testing.T, env *webtest.Env, c *http.Client, rid, subjectID string) map[string]any {
	t.Helper()
	resp, body := env.Get(t, c, "/erasures/"+rid+"/receipt.json")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("receipt.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var rc map[string]any
	if err := json.Unmarshal([]byte(body), &rc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range rc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"approvedBy", "auditHash", "deadline", "dixaRequestId", "erasureId", "force", "processedAt", "reason", "receivedAt",
		"reference", "requestedBy", "state", "subjectId", "submittedAt", "verifiedAt"}
	if !slices.Equal(keys, want) {
		t.Errorf("receipt fields = %v, want %v", keys, want)
	}
	if rc["state"] != "verified" || rc["subjectId"] != subjectID || rc["force"] != false || rc["processedAt"] == nil || rc["verifiedAt"] == nil || rc["dixaRequestId"] == "" {
		t.Errorf("receipt = %s", body)
	}
	if ab, _ := rc["approvedBy"].(map[string]any); ab == nil || ab["id"] == "" || ab["name"] == "" {
		t.Errorf("approvedBy = %v", rc["approvedBy"])
	}
	_, page := env.Get(t, c, "/erasures/"+rid+"/receipt")
	for _, pii := range []string{"erin.canary", "Erin", "Canary", "+4520990011", "20990011", "ext-erin"} {
		if strings.Contains(body, pii) || strings.Contains(page, pii) {
			t.Errorf("receipt contains %q", pii)
		}
	}
	return rc
}

// checkAuditTrail: every step, in order, chained, without personal data;
// the receipt ends with the newest entry's hash.
func checkAuditTrail(t *testing.T, env *webtest.Env, rid string, rc map[string]any) {
	t.Helper()
	ctx := t.Context()
	acts := auditActions(t, env, rid)
	for _, a := range []string{"erasure.requested", "erasure.denied", "erasure.approved", "erasure.submitted", "erasure.processed", "erasure.verified"} {
		if !slices.Contains(acts, a) {
			t.Errorf("audit trail %v lacks %s", acts, a)
		}
	}
	if n := countOf(acts, "erasure.approved"); n != 1 {
		t.Errorf("%d erasure.approved entries, want 1", n)
	}
	last, _ := env.Store.LatestAudit(ctx, "erasure", rid)
	if rc["auditHash"] != last.Hash {
		t.Errorf("auditHash %v, latest entry hash %s", rc["auditHash"], last.Hash)
	}
	all, _ := env.Store.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	for _, e := range all {
		line := fmt.Sprintf("%+v", e)
		for _, pii := range []string{"erin.canary", "Canary", "20990011", "ext-erin"} {
			if strings.Contains(line, pii) {
				t.Errorf("audit entry %d contains %q", e.Seq, pii)
			}
		}
	}
	if res, err := env.Store.Verify(ctx); err != nil || !res.OK() {
		t.Errorf("audit chain: %+v %v", res, err)
	}
}

func countOf(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

func TestErasureBlockedByOpenConversationsThenForce(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{AnonymizeDelay: 200 * time.Millisecond}})
	u, err := env.API.GetEndUser(t.Context(), dixasim.DemoOpenConversationUserID)
	if err != nil {
		t.Fatal(err)
	}
	confirm := u.Email
	if confirm == "" {
		confirm = u.ID
	}
	a, b := env.Login(t, "lead"), env.Login(t, "lead")
	_, body := env.Get(t, a, "/endusers/"+u.ID+"/erasure")
	open := doc(t, body).Find(`[data-testid=erasure-conversation][data-open=true]`)
	if open.Length() < 1 {
		t.Fatalf("preview flags %d open conversations", open.Length())
	}

	rid := requestErasure(t, env, a, u.ID, requestForm("DSAR-open", confirm))
	if resp, _ := env.PostForm(t, b, "/erasures/"+rid+"/approve", url.Values{"confirmReference": {"DSAR-open"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	st, panel := statusOf(t, env, b, rid)
	if st != erasure.Blocked {
		t.Fatalf("state = %s, want blocked", st)
	}
	listed := doc(t, panel).Find(`[data-conversation-id]`)
	if listed.Length() != open.Length() {
		t.Errorf("blocked lists %d conversations, preview flagged %d", listed.Length(), open.Length())
	}
	calls := anonymizeCalls(env)
	if len(calls) != 1 || calls[0].RawQuery != "force=false" {
		t.Fatalf("anonymize calls %+v, want one without force", calls)
	}
	if acts := auditActions(t, env, rid); !slices.Contains(acts, "erasure.blocked") {
		t.Errorf("audit %v lacks erasure.blocked", acts)
	}
	// That the tracker never retries a blocked request on its own, with
	// force or without, is shown by TestBlockedIsNeverRetried (web/erasure)
	// with an injected clock.

	// Force path: a new request with force and a justification.
	rid2 := requestErasure(t, env, a, u.ID, requestForm("DSAR-open-2", confirm, "force", "true", "forceReason", "Customer asked twice; open threads are spam"))
	if resp, _ := env.PostForm(t, b, "/erasures/"+rid2+"/approve", url.Values{"confirmReference": {"DSAR-open-2"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve with force: %d", resp.StatusCode)
	}
	calls = anonymizeCalls(env)
	if len(calls) != 2 || calls[1].RawQuery != "force=true" {
		t.Fatalf("anonymize calls %+v, want the second with force=true", calls)
	}
	waitState(t, env, a, rid2, erasure.Verified)
	_, body = env.Get(t, a, "/erasures/"+rid2+"/receipt.json")
	var rc struct{ Force bool }
	json.Unmarshal([]byte(body), &rc)
	if !rc.Force {
		t.Error("receipt does not record force")
	}
}

func TestErasureSingleApprovalSubmitsAtOnce(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{AnonymizeDelay: 100 * time.Millisecond},
		Config: func(c *web.Config) { c.ErasureApproval = "single" }})
	lead := env.Login(t, "lead")
	rid := requestErasure(t, env, lead, dixasim.DemoMinimalUserID, requestForm("DSAR-single", dixasim.DemoMinimalUserID))
	if n := len(anonymizeCalls(env)); n != 1 {
		t.Fatalf("%d anonymize calls, want 1", n)
	}
	waitState(t, env, lead, rid, erasure.Verified)
}

func TestErasureRejected(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	a, b := env.Login(t, "lead"), env.Login(t, "lead")
	rid := requestErasure(t, env, a, dixasim.DemoMinimalUserID, requestForm("DSAR-rej", dixasim.DemoMinimalUserID))
	// An overlong comment is refused whole, not cut: nothing is decided.
	if resp, _ := env.PostForm(t, b, "/erasures/"+rid+"/reject", url.Values{"comment": {strings.Repeat("é", 600)}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("reject with a 1200-byte comment: %d, want 422", resp.StatusCode)
	}
	if st, _ := statusOf(t, env, a, rid); st != erasure.Requested {
		t.Errorf("after the refused decision: state %s, want requested", st)
	}
	if resp, _ := env.PostForm(t, b, "/erasures/"+rid+"/reject", url.Values{"comment": {"identity not verified"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", resp.StatusCode)
	}
	if st, _ := statusOf(t, env, a, rid); st != erasure.Rejected {
		t.Errorf("state %s", st)
	}
	// A late approval by someone else is refused; nothing is sent.
	c := env.Login(t, "lead")
	if resp, _ := env.PostForm(t, c, "/erasures/"+rid+"/approve", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("approve after reject: %d, want 409", resp.StatusCode)
	}
	if n := len(anonymizeCalls(env)); n != 0 {
		t.Errorf("%d anonymize calls", n)
	}
	// Extension: once, logged.
	if resp, _ := env.PostForm(t, a, "/erasures/"+rid+"/extend", url.Values{"reason": {"complex"}}); resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusSeeOther {
		t.Errorf("extend: %d", resp.StatusCode)
	}
}

func TestErasureDeadlineExtension(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	a := env.Login(t, "lead")
	rid := requestErasure(t, env, a, dixasim.DemoMinimalUserID, requestForm("DSAR-ext", dixasim.DemoMinimalUserID, "receivedAt", "2025-01-10"))
	_, body := env.Get(t, a, "/erasures")
	if v, _ := doc(t, body).Find(`[data-id="` + rid + `"]`).Attr("data-overdue"); v != "true" {
		t.Error("overdue request does not stand out")
	}
	if resp, _ := env.PostForm(t, a, "/erasures/"+rid+"/extend", url.Values{"reason": {""}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("extend without reason: %d", resp.StatusCode)
	}
	if resp, _ := env.PostForm(t, a, "/erasures/"+rid+"/extend", url.Values{"reason": {"Many requests; data subject informed"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("extend: %d", resp.StatusCode)
	}
	e, _ := env.Store.GetErasure(t.Context(), rid)
	if got := erasure.FmtDate(e.Deadline); got != "2025-04-10" {
		t.Errorf("extended deadline = %s, want 2025-04-10", got)
	}
	if resp, _ := env.PostForm(t, a, "/erasures/"+rid+"/extend", url.Values{"reason": {"again"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("second extension: %d, want 409", resp.StatusCode)
	}
	if acts := auditActions(t, env, rid); countOf(acts, "erasure.extended") != 1 {
		t.Errorf("audit %v", acts)
	}
}

// TestErasureRoutesForbiddenBelowLead: agents and viewers get 403 from
// every erasure route, nothing reaches Dixa, and each attempt is audited.
func TestErasureRoutesForbiddenBelowLead(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	lead := env.Login(t, "lead")
	rid := requestErasure(t, env, lead, dixasim.DemoMinimalUserID, requestForm("DSAR-403", dixasim.DemoMinimalUserID))
	uid := dixasim.DemoBusyUserID
	routes := []struct{ method, path string }{
		{"GET", "/endusers/" + uid + "/erasure"},
		{"POST", "/endusers/" + uid + "/erasure"},
		{"GET", "/erasures"},
		{"GET", "/erasures/" + rid},
		{"POST", "/erasures/" + rid + "/approve"},
		{"POST", "/erasures/" + rid + "/reject"},
		{"POST", "/erasures/" + rid + "/extend"},
		{"GET", "/erasures/" + rid + "/receipt"},
		{"GET", "/erasures/" + rid + "/receipt.json"},
	}
	for _, role := range []string{"agent", "viewer"} {
		c := env.Login(t, role)
		env.Sim.ResetStats()
		before, _ := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: "erasure.denied", Limit: 1000})
		for _, rt := range routes {
			var resp *http.Response
			if rt.method == "GET" {
				resp, _ = env.Get(t, c, rt.path)
			} else {
				// Forged fields do not help.
				resp, _ = env.PostForm(t, c, rt.path, url.Values{"role": {"lead"}, "reference": {"x"}, "reason": {"x"}, "confirm": {uid}})
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s %s: status %d, want 403", role, rt.method, rt.path, resp.StatusCode)
			}
		}
		if n := env.Sim.Stats().Total.Requests; n != 0 {
			t.Errorf("%s: %d upstream requests, want 0", role, n)
		}
		after, _ := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: "erasure.denied", Limit: 1000})
		if got := len(after) - len(before); got != len(routes) {
			t.Errorf("%s: %d erasure.denied entries, want %d", role, got, len(routes))
		}
		for _, p := range []string{"/audit", "/audit.csv"} {
			if resp, _ := env.Get(t, c, p); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", role, p, resp.StatusCode)
			}
		}
	}
	if e, _ := env.Store.GetErasure(t.Context(), rid); e.State != erasure.Requested {
		t.Errorf("state changed to %s", e.State)
	}
}

func TestAuditPageAndCSV(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	lead := env.Login(t, "lead")
	ctx := t.Context()
	for _, e := range []store.AuditEntry{
		{ActorID: "mallory@example.com", ActorName: "=HYPERLINK(\"http://evil\")", ActorRole: "agent", Action: "enduser.updated", TargetType: "enduser", TargetID: "-1+2", Details: map[string]string{"fields": "email"}},
		{ActorID: "ann@example.com", ActorName: "Ann", ActorRole: "lead", Action: "erasure.requested", TargetType: "erasure", TargetID: "r1"},
	} {
		if err := env.Store.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := env.Get(t, lead, "/audit?action=enduser.")
	if resp.StatusCode != 200 {
		t.Fatalf("/audit: %d", resp.StatusCode)
	}
	rows := doc(t, body).Find(`[data-testid=audit-row]`)
	if rows.Length() != 1 {
		t.Errorf("filtered rows = %d, want 1", rows.Length())
	}
	resp, body = env.Get(t, lead, "/audit.csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("/audit.csv: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "time,actor,actorName,role,action,targetType,targetId,outcome,correlationId,hash" {
		t.Errorf("header = %s", got)
	}
	var found bool
	for _, r := range recs[1:] {
		if r[1] == "mallory@example.com" {
			found = true
			if r[2] != `'=HYPERLINK("http://evil")` || r[6] != "'-1+2" {
				t.Errorf("formula not defused: %q %q", r[2], r[6])
			}
			if len(r[9]) != 64 {
				t.Errorf("hash column = %q", r[9])
			}
		}
	}
	if !found {
		t.Error("entry missing from CSV")
	}
	if resp, _ := env.Get(t, lead, "/audit?from=yesterday"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad date: %d", resp.StatusCode)
	}
}

// TestErasureBadIDs: a path id that is not a UUID is 404 without a call.
func TestErasureBadIDs(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	lead := env.Login(t, "lead")
	env.Sim.ResetStats()
	for _, p := range []string{"/endusers/not-a-uuid/erasure", "/erasures/nope", "/erasures/" + dixasim.DemoMinimalUserID + "/receipt.json"} {
		if resp, _ := env.Get(t, lead, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if n := env.Sim.Stats().Total.Requests; n != 0 {
		t.Errorf("%d upstream requests", n)
	}
}

// TestErasureFourEyesSameLeadOtherCase: behind a sign-on proxy, the lead
// who requested an erasure as lead1@corp.example cannot approve it as
// LEAD1@corp.example: 403, one erasure.denied entry, nothing sent.
func TestErasureFourEyesSameLeadOtherCase(t *testing.T) {
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) {
		c.AuthMode = "header"
		c.AuthProxySecret = "proxy-secret-0123456789"
	}})
	as := func(email string) *http.Client {
		c := env.Client()
		c.Transport = &webtest.HeaderTransport{Header: http.Header{env.Cfg.AuthHeaderUser: {email}, env.Cfg.AuthHeaderName: {"Lea One"},
			env.Cfg.AuthHeaderGroups: {"support-leads"}, "X-Proxy-Secret": {env.Cfg.AuthProxySecret}}}
		return c
	}
	rid := requestErasure(t, env, as("lead1@corp.example"), dixasim.DemoMinimalUserID, requestForm("DSAR-CASE", dixasim.DemoMinimalUserID))
	before, _ := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: "erasure.denied", Limit: 1000})
	for _, who := range []string{"LEAD1@corp.example", "Lead1@Corp.Example"} {
		if resp, _ := env.PostForm(t, as(who), "/erasures/"+rid+"/approve", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s approves lead1's request: %d, want 403", who, resp.StatusCode)
		}
	}
	after, _ := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: "erasure.denied", Limit: 1000})
	if n := len(after) - len(before); n != 2 {
		t.Errorf("%d erasure.denied entries, want 2", n)
	}
	if n := len(anonymizeCalls(env)); n != 0 {
		t.Errorf("%d anonymize calls", n)
	}
	if e, _ := env.Store.GetErasure(t.Context(), rid); e.State != erasure.Requested {
		t.Errorf("state %s, want requested", e.State)
	}
}
