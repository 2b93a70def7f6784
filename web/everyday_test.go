package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/webtest"
)

// Handler tests of the everyday path: honest search, phone numbers read
// in the default region, whom an approval erases, erased customers, and
// agents handing GDPR requests to the leads. Through the real router
// against the simulator.

// typing is what the page's script adds to a search sent while typing.
var typing = []string{"HX-Request", "true", "X-Search-Typing", "1"}

// TestSearchHonestEmptyState: the empty state says what Dixa can find; a
// term that became an external ID only because it was nothing else is
// not offered for creating, an explicit lookup is; while typing, a term
// that is not a whole identifier is not sent to Dixa and the results say
// that Enter searches external IDs, and Enter does.
func TestSearchHonestEmptyState(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	agent := env.Login(t, "agent")
	cases := []struct {
		name, q, by string
		offers      bool
		filter      string
	}{
		{"auto fallback", "Jane Doe", "", false, "externalId"},
		{"explicit external ID", "crm-404-nobody", "externalId", true, "externalId"},
		{"auto email", "nobody.at.all@example.com", "", true, "email"},
		{"explicit phone", "+44 7700 900999", "phone", true, "phone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			since := len(env.Sim.Requests())
			resp, body := env.Get(t, agent, "/endusers?"+url.Values{"q": {tc.q}, "by": {tc.by}}.Encode())
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d\n%s", resp.StatusCode, body)
			}
			d := euDoc(t, body)
			empty := d.Find(`[data-testid=empty]`)
			if !strings.Contains(empty.Text(), "Dixa can only find an exact email, phone number or external ID — not names or parts of them") {
				t.Errorf("the empty state does not explain what Dixa can find:\n%s", empty.Text())
			}
			if got := d.Find(`[data-testid=create-from-search]`).Length() == 1; got != tc.offers {
				t.Errorf("create offered: %v, want %v", got, tc.offers)
			}
			if tc.name == "auto fallback" && !strings.Contains(empty.Text(), "not an email address or a phone number") {
				t.Errorf("the fallback to external ID is not said:\n%s", empty.Text())
			}
			reqs := euUpstream(env, since, http.MethodGet)
			if len(reqs) != 1 || !strings.Contains(reqs[0].RawQuery, tc.filter+"=") {
				t.Errorf("upstream %+v, want one lookup by %s", reqs, tc.filter)
			}
		})
	}

	t.Run("typing", func(t *testing.T) {
		for _, q := range []string{"Jane", "jane@exa"} {
			since := len(env.Sim.Requests())
			resp, body := env.Get(t, agent, "/endusers?q="+url.QueryEscape(q), typing...)
			hint := euDoc(t, body).Find(`[data-testid=typing-hint]`).Text()
			if resp.StatusCode != http.StatusOK || hint == "" {
				t.Fatalf("%q while typing: %d, no hint\n%s", q, resp.StatusCode, body)
			}
			if q == "Jane" && !strings.Contains(hint, "press Enter to search external IDs") {
				t.Errorf("%q: hint %q", q, hint)
			}
			if n := len(euUpstream(env, since, "")); n != 0 {
				t.Errorf("%q while typing: %d upstream calls, want 0", q, n)
			}
		}
		// Enter (no typing mark): searched, as an external ID.
		since := len(env.Sim.Requests())
		_, body := env.Get(t, agent, "/endusers?q=Jane", "HX-Request", "true")
		if euDoc(t, body).Find(`[data-testid=empty]`).Length() != 1 || len(euUpstream(env, since, "")) != 1 {
			t.Errorf("Enter did not search: %d upstream calls\n%s", len(euUpstream(env, since, "")), body)
		}
		// A whole identifier is searched while typing.
		since = len(env.Sim.Requests())
		_, body = env.Get(t, agent, "/endusers?q=nobody.at.all@example.com", typing...)
		// (At most one call: the same search may be answered from the
		// shared read cache.)
		if doc := euDoc(t, body); doc.Find(`[data-testid=typing-hint]`).Length() != 0 || doc.Find(`[data-testid=search-summary]`).Length() != 1 || len(euUpstream(env, since, "")) > 1 {
			t.Errorf("a whole email was not searched while typing\n%s", body)
		}
	})
}

// TestSearchPhoneRegionNamedEverywhere: a phone number without a country
// code is read in PHONE_DEFAULT_REGION (DK here), and the search results,
// the edit form and the import dry run name that country and how to give
// another.
func TestSearchPhoneRegionNamedEverywhere(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	const hint = "read as a Danish number; add +49 for Germany"
	id, phone := euPhoneUser(t, env)
	lead := env.Login(t, "lead")

	t.Run("search", func(t *testing.T) {
		d := phone[3:]
		_, body := env.Get(t, lead, "/endusers?q="+url.QueryEscape(d[0:2]+" "+d[2:4]+" "+d[4:6]+" "+d[6:8]))
		if got := euDoc(t, body).Find(`[data-testid=phone-region]`).Text(); !strings.Contains(got, hint) {
			t.Errorf("national number: region note %q", got)
		}
		_, body = env.Get(t, lead, "/endusers?q="+url.QueryEscape(phone))
		if euDoc(t, body).Find(`[data-testid=phone-region]`).Length() != 0 {
			t.Error("a number with a country code is said to be read in the default region")
		}
		_, body = env.Get(t, lead, "/endusers?q=12345678901234567&by=phone")
		if got := euDoc(t, body).Find(`[data-testid=search-problem]`).Text(); !strings.Contains(got, hint) {
			t.Errorf("refused national number: %q does not name the region", got)
		}
	})
	t.Run("edit form", func(t *testing.T) {
		_, body := env.Get(t, lead, "/endusers/"+id+"/edit")
		d := euDoc(t, body)
		for _, f := range []string{"phoneNumber", "additionalPhoneNumbers"} {
			if got := d.Find(`#f-` + f + `-hint`).Text(); !strings.Contains(got, hint) {
				t.Errorf("hint under %s: %q", f, got)
			}
		}
		v := euFormValues(t, body, "#profile-form")
		v.Set("phoneNumber", "123")
		resp, body := env.PostForm(t, lead, "/endusers/"+id, v)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(euDoc(t, body).Find(`#f-phoneNumber-error`).Text(), hint) {
			t.Errorf("refused national number: %d, message does not name the region\n%s", resp.StatusCode, body)
		}
	})
	t.Run("import dry run", func(t *testing.T) {
		_, body := env.Get(t, lead, "/imports")
		if !strings.Contains(euDoc(t, body).Find(`[data-testid=upload-form]`).Text(), hint) {
			t.Error("the upload form does not name the region")
		}
		resp, body := imUpload(t, env, lead, "phones.csv", []byte("email,phoneNumber\nrita.region@example.com,20 99 88 77\n"), "mode", "create")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
		}
		d := imWaitState(t, env, lead, strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath), "ready")
		if got := d.Find(`[data-testid=phone-region]`).Text(); !strings.Contains(got, hint) {
			t.Errorf("dry run region note %q", got)
		}
	})
}

// evRequest has lead request the erasure of u (confirmed by email) with
// reference ref and returns the request id.
func evRequest(t *testing.T, env *webtest.Env, lead *http.Client, u apiclient.EndUser, ref string) string {
	t.Helper()
	resp, body := env.PostForm(t, lead, "/endusers/"+u.ID+"/erasure", url.Values{"reference": {ref}, "reason": {"Art. 17(1)(a) GDPR"},
		"receivedAt": {time.Now().UTC().Format("2006-01-02")}, "confirm": {u.Email}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/erasures/") {
		t.Fatalf("request erasure: %d to %q\n%s", resp.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, "/erasures/")
}

// evWaitState waits (15 s at most) until the request reaches state want.
func evWaitState(t *testing.T, env *webtest.Env, rid string, want erasure.State) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		e, err := env.Store.GetErasure(t.Context(), rid)
		if err == nil && e.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("erasure %s is %s, want %s (%v)", rid, e.State, want, err)
		}
	}
}

func evAnonymizeCalls(env *webtest.Env) int {
	n := 0
	for _, r := range env.Sim.Requests() {
		if r.Method == http.MethodPatch && strings.HasSuffix(r.Path, "/anonymize") {
			n++
		}
	}
	return n
}

// TestErasureApprovalShowsWhomAndAsksForTheReference: the second lead
// sees whom the request erases, looked up in Dixa when the page opens
// (name, emails, phone numbers, conversations, a link to the profile);
// approving needs the request's reference typed again: a wrong or missing
// one is a 422 with the form kept and nothing sent.
func TestErasureApprovalShowsWhomAndAsksForTheReference(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Wanda Whom", Email: "wanda.whom@example.com",
		AdditionalEmails: []string{"w.whom@example.org"}, PhoneNumber: "+4520661122", AdditionalPhoneNumbers: []string{"+4520661133"}})
	if err != nil {
		t.Fatal(err)
	}
	requester, approver := env.Login(t, "lead"), env.Login(t, "lead")
	rid := evRequest(t, env, requester, u, "DSAR-WHOM-1")

	since := len(env.Sim.Requests())
	resp, body := env.Get(t, approver, "/erasures/"+rid)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approval page: %d", resp.StatusCode)
	}
	d := euDoc(t, body)
	whom := d.Find(`[data-testid=whom]`)
	for sel, want := range map[string]string{
		`[data-testid=whom-name]`: "Wanda Whom", `[data-testid=whom-emails]`: "w.whom@example.org",
		`[data-testid=whom-phones]`: "+45 20 66 11 33", `[data-testid=whom-conversations]`: "None",
	} {
		if got := whom.Find(sel).Text(); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if href, _ := whom.Find(`[data-testid=whom-profile]`).Attr("href"); href != "/endusers/"+u.ID {
		t.Errorf("profile link %q", href)
	}
	if len(euUpstream(env, since, http.MethodGet)) == 0 {
		t.Error("whom was not looked up in Dixa")
	}
	if e, _ := env.Store.GetErasure(t.Context(), rid); strings.Contains(e.Reason+e.Reference+e.Note, "Wanda") {
		t.Error("the request stores the customer's name")
	}
	// A busy demo customer's conversations are counted.
	busy, err := env.API.GetEndUser(t.Context(), dixasim.DemoBusyUserID)
	if err != nil {
		t.Fatal(err)
	}
	if busy.Email == "" {
		busy.Email = busy.ID // what the request form is confirmed with
	}
	rid2 := evRequest(t, env, requester, busy, "DSAR-WHOM-2")
	_, body = env.Get(t, approver, "/erasures/"+rid2)
	if n, _ := euDoc(t, body).Find(`[data-testid=whom-conversations]`).Attr("data-count"); n != "30" {
		t.Errorf("busy customer: %s conversations, want 30", n)
	}

	for _, typed := range []string{"", "DSAR-WHOM"} {
		resp, body = env.PostForm(t, approver, "/erasures/"+rid+"/approve", url.Values{"comment": {"checked the ticket"}, "confirmReference": {typed}})
		d = euDoc(t, body)
		if resp.StatusCode != http.StatusUnprocessableEntity || d.Find(`[data-testid=confirm-problem]`).Length() != 1 {
			t.Fatalf("reference %q: %d, want 422 with the problem\n%s", typed, resp.StatusCode, body)
		}
		if d.Find(`#approve-comment`).Text() != "checked the ticket" || d.Find(`#confirm-reference`).AttrOr("value", "") != typed {
			t.Errorf("reference %q: the form was not kept", typed)
		}
	}
	if n := evAnonymizeCalls(env); n != 0 {
		t.Fatalf("%d anonymize calls after refused approvals", n)
	}
	if resp, _ = env.PostForm(t, approver, "/erasures/"+rid+"/approve", url.Values{"confirmReference": {" dsar-whom-1 "}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve with the reference: %d", resp.StatusCode)
	}
	if n := evAnonymizeCalls(env); n != 1 {
		t.Errorf("%d anonymize calls, want 1", n)
	}
}

// TestErasureNavCount: a lead sees how many requests wait for them next to
// "Erasures" — not their own — on every page, without a call to Dixa;
// agents see no count.
func TestErasureNavCount(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	a, b, agent := env.Login(t, "lead"), env.Login(t, "lead"), env.Login(t, "agent")
	for i, id := range []string{dixasim.DemoMinimalUserID, dixasim.DemoBusyUserID} {
		u, _ := env.API.GetEndUser(t.Context(), id)
		if u.Email == "" {
			u.Email = u.ID
		}
		evRequest(t, env, a, u, "DSAR-NAV-"+string(rune('1'+i)))
	}
	count := func(c *http.Client) string {
		t.Helper()
		since := len(env.Sim.Requests())
		resp, body := env.Get(t, c, "/audit")
		if resp.StatusCode == http.StatusOK && len(euUpstream(env, since, "")) != 0 {
			t.Error("the navigation count called Dixa")
		}
		return strings.TrimSpace(euDoc(t, body).Find(`[data-testid=awaiting-count]`).Contents().First().Text())
	}
	if got := count(b); got != "2" {
		t.Errorf("the other lead's count = %q, want 2", got)
	}
	if got := count(a); got != "" {
		t.Errorf("the requester's count = %q, want none", got)
	}
	_, body := env.Get(t, agent, "/endusers")
	if euDoc(t, body).Find(`[data-testid=awaiting-count]`).Length() != 0 {
		t.Error("an agent sees the count")
	}
}

// evErased erases a new customer through the console (request, approval,
// Dixa, verification) and returns them as they were.
func evErased(t *testing.T, env *webtest.Env) (apiclient.EndUser, string) {
	t.Helper()
	u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Erik Erased", Email: "erik.erased@example.com",
		PhoneNumber: "+4520551122", ExternalID: "crm-erik-erased"})
	if err != nil {
		t.Fatal(err)
	}
	rid := evRequest(t, env, env.Login(t, "lead"), u, "DSAR-ERASED-1")
	if resp, _ := env.PostForm(t, env.Login(t, "lead"), "/erasures/"+rid+"/approve", url.Values{"confirmReference": {"DSAR-ERASED-1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	evWaitState(t, env, rid, erasure.Verified)
	return u, rid
}

// TestErasedProfileRefusesChanges: an erased customer's profile says so at
// the top (leads get the request and its receipt) and offers no edit, no
// erasure and no attribute form; the edit, attribute and erasure
// endpoints refuse with 409 and nothing reaches Dixa.
func TestErasedProfileRefusesChanges(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{AnonymizeDelay: 50 * time.Millisecond}})
	u, rid := evErased(t, env)
	lead, agent := env.Login(t, "lead"), env.Login(t, "agent")

	_, body := env.Get(t, lead, "/endusers/"+u.ID)
	d := euDoc(t, body)
	if !strings.Contains(d.Find(`[data-testid=erased-banner]`).Text(), "was erased on") {
		t.Errorf("no erased banner:\n%s", body)
	}
	if href, _ := d.Find(`[data-testid=erased-receipt]`).Attr("href"); href != "/erasures/"+rid+"/receipt" {
		t.Errorf("receipt link %q", href)
	}
	for _, sel := range []string{"edit-link", "erasure-link", "handover-link", "attrs-form"} {
		if d.Find(`[data-testid=`+sel+`]`).Length() != 0 {
			t.Errorf("the erased profile offers %s", sel)
		}
	}
	_, body = env.Get(t, agent, "/endusers/"+u.ID)
	d = euDoc(t, body)
	if d.Find(`[data-testid=erased-banner]`).Length() != 1 || d.Find(`[data-testid=erased-receipt]`).Length() != 0 || d.Find(`[data-testid=edit-link]`).Length() != 0 {
		t.Error("an agent's view of the erased profile: banner missing, or receipt or edit offered")
	}

	since := len(env.Sim.Requests())
	for _, rt := range []struct {
		c            *http.Client
		method, path string
	}{
		{agent, "GET", "/endusers/" + u.ID + "/edit"},
		{agent, "POST", "/endusers/" + u.ID},
		{agent, "POST", "/endusers/" + u.ID + "/custom-attributes"},
		{agent, "GET", "/endusers/" + u.ID + "/erasure/handover"},
		{agent, "POST", "/endusers/" + u.ID + "/erasure/handover"},
		{lead, "GET", "/endusers/" + u.ID + "/erasure"},
		{lead, "POST", "/endusers/" + u.ID + "/erasure"},
	} {
		var resp *http.Response
		if rt.method == "GET" {
			resp, _ = env.Get(t, rt.c, rt.path)
		} else {
			resp, _ = env.PostForm(t, rt.c, rt.path, url.Values{"formVersion": {"1"}, "displayName": {"Back again"}})
		}
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("%s %s: %d, want 409", rt.method, rt.path, resp.StatusCode)
		}
	}
	if n := len(euUpstream(env, since, "")); n != 0 {
		t.Errorf("refusals made %d upstream calls", n)
	}
}

// TestErasedIdentifierSearchAndCreate: searching for an identifier of an
// erased person warns, naming the date and the request; creating a
// customer with one is held (409) until the person gives a reason, which
// the audit log keeps with the enduser.created entry. Nothing readable of
// the person is stored for that: the console compares keyed hashes.
func TestErasedIdentifierSearchAndCreate(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{AnonymizeDelay: 50 * time.Millisecond}})
	u, rid := evErased(t, env)
	agent := env.Login(t, "agent")
	day := time.Now().UTC().Format("2 Jan 2006")

	for _, q := range []url.Values{{"q": {"ERIK.erased@example.com"}}, {"q": {"20 55 11 22"}}, {"q": {"crm-erik-erased"}, "by": {"externalId"}}} {
		_, body := env.Get(t, agent, "/endusers?"+q.Encode())
		got := euDoc(t, body).Find(`[data-testid=erased-warning]`).Text()
		if !strings.Contains(got, "was erased on "+day+" (request DSAR-ERASED-1)") {
			t.Errorf("search %v: warning %q", q, got)
		}
	}
	_, body := env.Get(t, agent, "/endusers?q=someone.else@example.com")
	if euDoc(t, body).Find(`[data-testid=erased-warning]`).Length() != 0 {
		t.Error("a search for someone else warns")
	}

	_, page := env.Get(t, agent, "/endusers/new")
	v := euFormValues(t, page, "#create-form")
	v.Set("displayName", "Erik Again")
	v.Set("email", u.Email)
	since := len(env.Sim.Requests())
	resp, body := env.PostForm(t, agent, "/endusers", v)
	d := euDoc(t, body)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(d.Find(`[data-testid=erased-warning]`).Text(), "A customer with this email was erased on") {
		t.Fatalf("create with an erased email: %d\n%s", resp.StatusCode, body)
	}
	v = euFormValues(t, body, "#create-form")
	resp, _ = env.PostForm(t, agent, "/endusers", v)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("create anyway without a reason: %d, want 422", resp.StatusCode)
	}
	if n := len(euUpstream(env, since, http.MethodPost)); n != 0 {
		t.Fatalf("%d creates before a reason was given", n)
	}
	v.Set("erasedReason", "Customer came back and signed up again on 1 May")
	resp, body = env.PostForm(t, agent, "/endusers", v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create with a reason: %d\n%s", resp.StatusCode, body)
	}
	entries, err := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: "enduser.created", Limit: 10})
	if err != nil || len(entries) != 1 {
		t.Fatalf("enduser.created entries: %d, %v", len(entries), err)
	}
	if det := entries[0].Details; det["erasedReason"] != "Customer came back and signed up again on 1 May" || det["erasures"] != rid {
		t.Errorf("audit details %v", det)
	}
}

// TestErasureHandoverByAgent: an agent who receives a GDPR request hands
// it to the leads from the profile (or from the erasure page, which is
// 403 for them, with the form in its place): a draft, audited, that
// agents cannot approve; a lead completes it with the normal request form
// (prefilled), a second lead approves it.
func TestErasureHandoverByAgent(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Hugo Handover", Email: "hugo.handover@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	agent := env.Login(t, "agent")
	_, body := env.Get(t, agent, "/endusers/"+u.ID)
	if href, _ := euDoc(t, body).Find(`[data-testid=handover-link]`).Attr("href"); href != "/endusers/"+u.ID+"/erasure/handover" {
		t.Errorf("hand-over link %q", href)
	}
	since := len(env.Sim.Requests())
	resp, body := env.Get(t, agent, "/endusers/"+u.ID+"/erasure")
	if resp.StatusCode != http.StatusForbidden || euDoc(t, body).Find(`[data-testid=handover-form]`).Length() != 1 {
		t.Errorf("agent on the erasure page: %d, want 403 with the hand-over form\n%s", resp.StatusCode, body)
	}
	if n := len(euUpstream(env, since, "")); n != 0 {
		t.Errorf("the refusal made %d upstream calls", n)
	}
	today := time.Now().UTC().Format("2006-01-02")
	resp, body = env.PostForm(t, agent, "/endusers/"+u.ID+"/erasure/handover", url.Values{"reference": {""}, "receivedAt": {today}})
	if resp.StatusCode != http.StatusUnprocessableEntity || euDoc(t, body).Find(`[data-testid=error-reference]`).Length() != 1 {
		t.Errorf("hand-over without a reference: %d", resp.StatusCode)
	}
	resp, _ = env.PostForm(t, agent, "/endusers/"+u.ID+"/erasure/handover", url.Values{"reference": {"ZD-4711"}, "receivedAt": {today}, "note": {"Asked by phone; identity checked"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/endusers/"+u.ID+"?saved=handover" {
		t.Fatalf("hand-over: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	es, _ := env.Store.ErasuresOf(t.Context(), u.ID)
	if len(es) != 1 || es[0].State != erasure.Draft {
		t.Fatalf("requests after the hand-over: %+v", es)
	}
	rid := es[0].ID
	if acts, _ := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: erasure.ActHandedOver, TargetID: rid}); len(acts) != 1 {
		t.Errorf("%d erasure.handed_over entries, want 1", len(acts))
	}
	for _, p := range []string{"/erasures/" + rid + "/approve", "/endusers/" + u.ID + "/erasure"} {
		if resp, _ := env.PostForm(t, agent, p, url.Values{"confirmReference": {"ZD-4711"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("agent POST %s: %d, want 403", p, resp.StatusCode)
		}
	}

	a, b := env.Login(t, "lead"), env.Login(t, "lead")
	_, body = env.Get(t, a, "/erasures/"+rid)
	d := euDoc(t, body)
	if d.Find(`[data-testid=complete-draft]`).Length() != 1 || d.Find(`[data-testid=approve-form]`).Length() != 0 ||
		!strings.Contains(d.Find(`[data-testid=handover-note]`).Text(), "identity checked") {
		t.Errorf("draft page: complete link, no approval, the note\n%s", body)
	}
	_, body = env.Get(t, a, "/endusers/"+u.ID+"/erasure")
	d = euDoc(t, body)
	if d.Find(`[data-testid=draft-notice]`).Length() != 1 || d.Find(`#reference`).AttrOr("value", "") != "ZD-4711" {
		t.Errorf("the erasure form does not complete the draft\n%s", body)
	}
	if got := evRequest(t, env, a, u, "ZD-4711"); got != rid {
		t.Errorf("completing made request %s, want the draft %s", got, rid)
	}
	if resp, _ := env.PostForm(t, b, "/erasures/"+rid+"/approve", url.Values{"confirmReference": {"ZD-4711"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if n := evAnonymizeCalls(env); n != 1 {
		t.Errorf("%d anonymize calls, want 1", n)
	}
}
