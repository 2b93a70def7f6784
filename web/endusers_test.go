package web_test

import (
	"encoding/json"
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
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/webtest"
)

// Handler tests of finding, reading, editing and creating end users,
// through the real router against the simulator.

func euEnv(t *testing.T, o webtest.Options) *webtest.Env {
	t.Helper()
	if o.Sim.Users == 0 {
		o.Sim.Users = 80
	}
	return webtest.New(t, o)
}

func euDoc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse html: %v", err)
	}
	return d
}

// formValues is what a browser would submit for the form matching sel:
// inputs (checked radios only), textareas, selects; no buttons.
func euFormValues(t *testing.T, body, sel string) url.Values {
	t.Helper()
	f := euDoc(t, body).Find(sel)
	if f.Length() == 0 {
		t.Fatalf("no form %q in the page:\n%s", sel, body)
	}
	v := url.Values{}
	f.Find("input[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		typ, _ := s.Attr("type")
		if typ == "submit" || ((typ == "radio" || typ == "checkbox") && s.AttrOr("checked", "\x00") == "\x00") {
			return
		}
		v.Add(name, s.AttrOr("value", ""))
	})
	f.Find("textarea[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		v.Add(name, s.Text())
	})
	f.Find("select[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val := ""
		if o := s.Find("option[selected]"); o.Length() > 0 {
			val = o.First().AttrOr("value", "")
		} else if o := s.Find("option"); o.Length() > 0 {
			val = o.First().AttrOr("value", "")
		}
		v.Add(name, val)
	})
	return v
}

// upstream returns the requests the simulator received since `since`
// (a count taken with len(env.Sim.Requests())), filtered by method.
func euUpstream(env *webtest.Env, since int, method string) []dixasim.RecordedRequest {
	var out []dixasim.RecordedRequest
	for _, r := range env.Sim.Requests()[since:] {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

func euPhoneUser(t *testing.T, env *webtest.Env) (string, string) {
	t.Helper()
	var phone string
	id, ok := env.Sim.AnyUserID(func(u apiclient.EndUser) bool {
		if strings.HasPrefix(u.PhoneNumber, "+45") && len(u.PhoneNumber) == 11 {
			phone = u.PhoneNumber
			return true
		}
		return false
	})
	if !ok {
		t.Fatal("no Danish phone number in the demo data")
	}
	return id, phone
}

func TestEndUsersSearchByEachIdentifier(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	id, phone := euPhoneUser(t, env)
	u, err := env.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	d := phone[3:] // eight digits
	spaced := d[0:2] + " " + d[2:4] + " " + d[4:6] + " " + d[6:8]
	cases := []struct {
		name, q, by, param, want string
	}{
		{"phone international spaced", "+45 " + spaced, "", "phone", phone},
		{"phone 00 prefix", "0045 " + d, "", "phone", phone},
		{"phone national", spaced, "", "phone", phone},
		{"phone dashes", "+45-" + d[0:4] + "-" + d[4:], "phone", "phone", phone},
		{"email", u.Email, "", "email", u.Email},
		{"email explicit", u.Email, "email", "email", u.Email},
	}
	if u.ExternalID != "" {
		cases = append(cases, struct{ name, q, by, param, want string }{"external id", u.ExternalID, "externalId", "externalId", u.ExternalID})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			since := len(env.Sim.Requests())
			// A reload: the same search asked again within the cache time
			// would otherwise be answered from the shared cache.
			resp, body := env.Get(t, c, "/endusers?"+url.Values{"q": {tc.q}, "by": {tc.by}}.Encode(), "Cache-Control", "no-cache")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200\n%s", resp.StatusCode, body)
			}
			if euDoc(t, body).Find(`tr[data-id="`+id+`"]`).Length() != 1 {
				t.Errorf("customer %s not in the results", id)
			}
			reqs := euUpstream(env, since, http.MethodGet)
			if len(reqs) != 1 {
				t.Fatalf("got %d upstream calls, want 1", len(reqs))
			}
			q, _ := url.ParseQuery(reqs[0].RawQuery)
			filters := 0
			for _, f := range []string{"email", "phone", "externalId"} {
				if q.Has(f) {
					filters++
				}
			}
			if filters != 1 || q.Get(tc.param) != tc.want {
				t.Errorf("upstream query %q, want exactly %s=%s", reqs[0].RawQuery, tc.param, tc.want)
			}
		})
	}
	t.Run("id opens the profile", func(t *testing.T) {
		resp, _ := env.Get(t, c, "/endusers?q="+strings.ToUpper(id))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/endusers/"+id {
			t.Errorf("got %d to %q, want 303 to the profile", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func TestEndUsersSearchBadInput(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"overlong", "q=" + strings.Repeat("x", 400), http.StatusUnprocessableEntity},
		{"unreadable phone", "q=12&by=phone", http.StatusUnprocessableEntity},
		{"unknown kind", "q=x&by=name", http.StatusUnprocessableEntity},
		{"bad page key", "pageKey=" + url.QueryEscape("<script>"), http.StatusBadRequest},
		{"bad page limit", "pageLimit=1000", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := env.Sim.Stats().Total.Requests
			resp, body := env.Get(t, c, "/endusers?"+tc.query)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d\n%s", resp.StatusCode, tc.status, body)
			}
			if n := env.Sim.Stats().Total.Requests - before; n != 0 {
				t.Errorf("%d upstream calls, want none", n)
			}
		})
	}
	t.Run("two filters go upstream as one", func(t *testing.T) {
		since := len(env.Sim.Requests())
		resp, _ := env.Get(t, c, "/endusers?q=a%40example.com&by=email&by=phone&phone=%2B4520123456&externalId=x")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		reqs := euUpstream(env, since, "")
		if len(reqs) != 1 {
			t.Fatalf("%d upstream calls, want 1", len(reqs))
		}
		q, _ := url.ParseQuery(reqs[0].RawQuery)
		if q.Get("email") != "a@example.com" || q.Has("phone") || q.Has("externalId") {
			t.Errorf("upstream query %q, want only the email filter", reqs[0].RawQuery)
		}
	})
}

func TestEndUsersPagingAndFragments(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	resp, body := env.Get(t, c, "/endusers?pageLimit=10")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	d := euDoc(t, body)
	next, ok := d.Find(`a[rel="next"]`).Attr("href")
	if !ok || !strings.Contains(next, "pageKey=") || !strings.Contains(next, "pageLimit=10") {
		t.Fatalf("next link %q, want one with the cursor and the page size", next)
	}
	first := d.Find(`tr[data-testid="enduser-row"]`).First().AttrOr("data-id", "")

	resp, body = env.Get(t, c, next, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Vary"), "HX-Request") {
		t.Fatalf("fragment: status %d, Vary %q", resp.StatusCode, resp.Header.Get("Vary"))
	}
	if strings.Contains(body, "<html") || !strings.HasPrefix(strings.TrimSpace(body), `<div id="results"`) {
		t.Errorf("htmx page 2 is not just the results region:\n%.300s", body)
	}
	d = euDoc(t, body)
	if d.Find(`tr[data-testid="enduser-row"]`).First().AttrOr("data-id", "") == first {
		t.Error("page 2 starts with the same customer as page 1")
	}
	prev, ok := d.Find(`a[rel="prev"]`).Attr("href")
	if !ok {
		t.Fatal("page 2 has no rel=prev link")
	}
	_, body = env.Get(t, c, prev)
	if got := euDoc(t, body).Find(`tr[data-testid="enduser-row"]`).First().AttrOr("data-id", ""); got != first {
		t.Errorf("prev leads to a page starting with %s, want %s", got, first)
	}
}

func TestEndUserProfileShowsEverything(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	id := dixasim.DemoBusyUserID
	u, err := env.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := env.API.ListCustomAttributeDefinitions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, body := env.Get(t, c, "/endusers/"+id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	d := euDoc(t, body)
	for _, want := range append(append([]string{u.Email, u.PhoneNumber}, u.AdditionalEmails...), u.AdditionalPhoneNumbers...) {
		// Phone numbers are shown in international format, dialled (and
		// copied) as E.164.
		if !strings.Contains(d.Find(`[data-testid="props"]`).Text(), want) && d.Find(`[data-testid="props"] a[href="tel:`+want+`"]`).Length() == 0 {
			t.Errorf("profile does not show %q", want)
		}
	}
	attrs := d.Find(`[data-testid="attributes"]`).Text()
	for _, def := range defs {
		shown := strings.Contains(attrs, def.Label)
		if def.EntityType == apiclient.EntityConversation && shown {
			t.Errorf("Conversation-scoped attribute %q is shown", def.Label)
		}
		if def.EntityType == apiclient.EntityContact && !shown {
			t.Errorf("Contact attribute %q is not shown", def.Label)
		}
	}
	for _, def := range defs {
		if def.EntityType != apiclient.EntityContact {
			continue
		}
		row := d.Find(`[data-attr="` + def.Identifier + `"]`)
		if def.IsArchived && !strings.Contains(d.Find(`[data-testid="attrs-readonly"]`).Text(), "archived") {
			t.Errorf("archived attribute %q not marked", def.Label)
		}
		if !def.IsArchived && !def.IsDeactivated && row.Find(`[name="attr.`+def.ID+`"]`).Length() != 1 {
			t.Errorf("active attribute %q has no control attr.%s", def.Label, def.ID)
		}
		if (def.IsArchived || def.IsDeactivated) && d.Find(`[name="attr.`+def.ID+`"]`).Length() != 0 {
			t.Errorf("inactive attribute %q is editable", def.Label)
		}
	}
	rows := d.Find(`tr[data-testid="conv-row"]`)
	if rows.Length() != 30 {
		t.Errorf("%d conversation rows, want all 30 (one page of 50)", rows.Length())
	}
	_, open := env.Get(t, c, "/endusers/"+dixasim.DemoOpenConversationUserID)
	if n := euDoc(t, open).Find(`tr.attention`).Length(); n != 2 {
		t.Errorf("%d conversations stand out, want the open and the pending one", n)
	}
	if d.Find(`[data-testid="convs-summary"]`).Length() != 1 {
		t.Error("no summary of the conversations shown")
	}
	if d.Find(`th[scope="col"]`).Length() == 0 {
		t.Error("conversation table has no column headers")
	}
}

func TestEndUserProfileBadIDs(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	for _, path := range []string{
		"/endusers/not-a-uuid", "/endusers/..%2F..%2Fcustom-attributes", "/endusers/de000000-0000-4000-8000-00000000000g",
		"/endusers/not-a-uuid/edit", "/endusers/not-a-uuid/conversations",
	} {
		before := env.Sim.Stats().Total.Requests
		resp, _ := env.Get(t, c, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
		if n := env.Sim.Stats().Total.Requests - before; n != 0 {
			t.Errorf("GET %s: %d upstream calls, want none", path, n)
		}
	}
	before := env.Sim.Stats().Total.Requests
	resp, _ := env.PostForm(t, c, "/endusers/not-a-uuid", url.Values{"formVersion": {"1"}, "displayName": {"x"}})
	if resp.StatusCode != http.StatusNotFound || env.Sim.Stats().Total.Requests != before {
		t.Errorf("POST to a malformed id: status %d, %d calls; want 404 and none", resp.StatusCode, env.Sim.Stats().Total.Requests-before)
	}
	for _, path := range []string{"/endusers/3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a", "/endusers/3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a/edit"} {
		resp, body := env.Get(t, c, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s (unknown): status %d, want 404\n%.400s", path, resp.StatusCode, body)
		}
	}
}

func TestEndUserProfileHostileData(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	for _, id := range []string{dixasim.DemoScriptUserID, dixasim.DemoQuotesRTLUserID, dixasim.DemoJSAvatarUserID} {
		u, err := env.API.GetEndUser(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/endusers/" + id, "/endusers/" + id + "/edit", "/endusers?q=" + url.QueryEscape(u.Email)} {
			resp, body := env.Get(t, c, path)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", path, resp.StatusCode)
				continue
			}
			if strings.Contains(strings.ToLower(body), "<script>alert") {
				t.Errorf("%s: hostile markup rendered unescaped", path)
			}
			d := euDoc(t, body)
			if n := d.Find("script").Length(); n != 2 {
				t.Errorf("%s: %d script elements, want the 2 of the layout", path, n)
			}
			d.Find("[src], [href], [action]").Each(func(_ int, s *goquery.Selection) {
				for _, a := range []string{"src", "href", "action"} {
					if v, ok := s.Attr(a); ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "javascript:") {
						t.Errorf("%s: %s=%q", path, a, v)
					}
				}
			})
			d.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					if strings.HasPrefix(strings.ToLower(a.Key), "on") {
						t.Errorf("%s: event handler attribute %s", path, a.Key)
					}
				}
			})
		}
	}
	_, body := env.Get(t, c, "/endusers/"+dixasim.DemoJSAvatarUserID)
	if euDoc(t, body).Find(`img[data-testid="avatar"]`).Length() != 0 {
		t.Error("a javascript: avatar became an image")
	}
	u, _ := env.API.GetEndUser(t.Context(), dixasim.DemoScriptUserID)
	_, body = env.Get(t, c, "/endusers/"+dixasim.DemoScriptUserID)
	if got := euDoc(t, body).Find(`[data-testid="profile-name"]`).Text(); got != u.DisplayName {
		t.Errorf("name shown as %q, want the text %q", got, u.DisplayName)
	}
}

func TestEndUserConversationsPaging(t *testing.T) {
	env := euEnv(t, webtest.Options{Config: func(c *web.Config) { c.ConversationsPageLimit = 10 }})
	c := env.Login(t, "viewer")
	id := dixasim.DemoBusyUserID
	_, body := env.Get(t, c, "/endusers/"+id)
	all := euDoc(t, body).Find(`[data-testid="all-conversations"]`).AttrOr("href", "")
	_, body = env.Get(t, c, all)
	next := euDoc(t, body).Find(`#conversations a[rel="next"]`).AttrOr("href", "")
	if !strings.HasPrefix(next, "/endusers/"+id+"/conversations?pageKey=") {
		t.Fatalf("next link %q", next)
	}
	resp, full := env.Get(t, c, next)
	if resp.StatusCode != http.StatusOK || !strings.Contains(full, "<html") || euDoc(t, full).Find(`tr[data-testid="conv-row"]`).Length() == 0 {
		t.Fatalf("full page of conversations: status %d\n%.500s", resp.StatusCode, full)
	}
	resp, frag := env.Get(t, c, next, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(frag, "<html") || !strings.HasPrefix(strings.TrimSpace(frag), `<section id="conversations"`) {
		t.Fatalf("fragment: status %d\n%.300s", resp.StatusCode, frag)
	}
	if euDoc(t, frag).Find(`a[rel="prev"]`).Length() != 1 {
		t.Error("page 2 of conversations has no rel=prev")
	}
	resp, _ = env.Get(t, c, "/endusers/"+id+"/conversations?pageKey="+url.QueryEscape("<x>"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad pageKey: status %d, want 400", resp.StatusCode)
	}
}

// profileViews are the customers whose profiles the call-count test and
// the benchmark view: busy, with open conversations, bare, hostile text.
var profileViews = []string{dixasim.DemoBusyUserID, dixasim.DemoOpenConversationUserID, dixasim.DemoMinimalUserID,
	dixasim.DemoBusyUserID, dixasim.DemoScriptUserID}

// TestEndUserProfileUpstreamCalls holds the profile's upstream budget: the
// first view costs at most 3 calls (the end user, the conversations, the
// custom attribute definitions), every later one at most 2 (the
// definitions are cached). How long a view takes is measured by
// BenchmarkEndUserProfile, not asserted on a shared machine.
func TestEndUserProfileUpstreamCalls(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	view := func(id string) int {
		before := env.Sim.Stats().Total.Requests
		if resp, _ := env.Get(t, c, "/endusers/"+id); resp.StatusCode != http.StatusOK {
			t.Fatalf("view of %s: status %d", id, resp.StatusCode)
		}
		return env.Sim.Stats().Total.Requests - before
	}
	if calls := view(dixasim.DemoBusyUserID); calls > 3 {
		t.Errorf("first view made %d upstream calls, want at most 3 (user, conversations, definitions)", calls)
	}
	for _, id := range profileViews {
		if calls := view(id); calls > 2 {
			t.Errorf("view of %s with the definitions cached made %d upstream calls, want at most 2", id, calls)
		}
	}
}

// BenchmarkEndUserProfile reports how long a profile view (definitions
// cached) takes with 100 ms of latency on every upstream call, as a
// multiple of that latency, mean and median: the page's upstream calls run
// in parallel, so it should stay near 1×. It also reports the upstream
// calls per view.
//
//	go test ./web/ -run '^$' -bench EndUserProfile -benchtime 20x
func BenchmarkEndUserProfile(b *testing.B) {
	env := webtest.New(b, webtest.Options{Sim: dixasim.Options{Users: 80}})
	c := env.Login(b, "viewer")
	const latency = 100 * time.Millisecond
	env.Sim.SetLatency(dixasim.AllRoutes, latency, latency)
	env.Get(b, c, "/endusers/"+dixasim.DemoBusyUserID) // cache the definitions
	before := env.Sim.Stats().Total.Requests
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		resp, _ := env.Get(b, c, "/endusers/"+profileViews[i%len(profileViews)])
		times = append(times, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	var total time.Duration
	for _, d := range times {
		total += d
	}
	slices.Sort(times)
	b.ReportMetric(float64(total)/float64(len(times))/float64(latency), "×latency")
	b.ReportMetric(float64(times[len(times)/2])/float64(latency), "median-×latency")
	b.ReportMetric(float64(env.Sim.Stats().Total.Requests-before)/float64(len(times)), "calls/op")
}

// editForm loads the edit form of id and returns its values.
func euEditForm(t *testing.T, env *webtest.Env, c *http.Client, id string) url.Values {
	t.Helper()
	resp, body := env.Get(t, c, "/endusers/"+id+"/edit")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("edit form: status %d\n%s", resp.StatusCode, body)
	}
	return euFormValues(t, body, "#profile-form")
}

func euPatchBodies(env *webtest.Env, since int) []map[string]json.RawMessage {
	var out []map[string]json.RawMessage
	for _, r := range euUpstream(env, since, http.MethodPatch) {
		m := map[string]json.RawMessage{}
		json.Unmarshal(r.Body, &m)
		out = append(out, m)
	}
	return out
}

func euKeys(m map[string]json.RawMessage) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

func TestEndUserEditSendsOnlyChangedFields(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)
	form := euEditForm(t, env, c, id)
	for _, f := range []string{"displayName", "email", "phoneNumber", "additionalEmails", "base.displayName", "formToken"} {
		if !form.Has(f) {
			t.Errorf("edit form has no field %q", f)
		}
	}
	form.Set("firstName", "Ångström \u202eRTL")
	since := len(env.Sim.Requests())
	resp, body := env.PostForm(t, c, "/endusers/"+id, form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/endusers/"+id+"?saved=profile" {
		t.Fatalf("save: status %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	patches := euPatchBodies(env, since)
	if len(patches) != 1 || !slices.Equal(euKeys(patches[0]), []string{"firstName"}) {
		t.Fatalf("PATCH bodies %v, want one with firstName only", patches)
	}
	u, _ := env.API.GetEndUser(t.Context(), id)
	if u.FirstName != "Ångström \u202eRTL" {
		t.Errorf("firstName is %q", u.FirstName)
	}
	_, body = env.Get(t, c, "/endusers/"+id+"?saved=profile")
	if !strings.Contains(euDoc(t, body).Find(`[data-testid="profile-notice"]`).Text(), "Saved") {
		t.Error("the profile does not say the change was saved")
	}

	// An unchanged form writes nothing.
	form = euEditForm(t, env, c, id)
	since = len(env.Sim.Requests())
	resp, _ = env.PostForm(t, c, "/endusers/"+id, form)
	if resp.StatusCode != http.StatusSeeOther || len(euUpstream(env, since, http.MethodPatch)) != 0 {
		t.Errorf("unchanged save: status %d, %d PATCHes; want 303 and none", resp.StatusCode, len(euUpstream(env, since, http.MethodPatch)))
	}

	// A phone number retyped in another form of the same number is no change.
	form = euEditForm(t, env, c, id)
	p := form.Get("phoneNumber")
	form.Set("phoneNumber", "0045 "+p[3:5]+" "+p[5:])
	since = len(env.Sim.Requests())
	env.PostForm(t, c, "/endusers/"+id, form)
	if n := len(euUpstream(env, since, http.MethodPatch)); n != 0 {
		t.Errorf("reformatted phone: %d PATCHes, want none", n)
	}
}

func TestEndUserEditValidation(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)
	base := euEditForm(t, env, c, id)
	for _, tc := range []struct{ field, value string }{
		{"email", "not-an-email"},
		{"email", "Name <a@b.example>"},
		{"phoneNumber", "12"},
		{"avatarUrl", "javascript:alert(1)"},
		{"avatarUrl", "ftp://files.example/a.png"},
		{"additionalEmails", "a@b.example\nA@b.example"},
		{"additionalPhoneNumbers", "+45 20 12 34 56\n004520123456"},
		{"displayName", strings.Repeat("x", customer.MaxNameLen+1)},
		{"displayName", "line\x07bell"},
		{"middleNames", strings.Repeat("m\n", customer.MaxListItems+1)},
	} {
		t.Run(tc.field, func(t *testing.T) {
			form := url.Values{}
			for k, v := range base {
				form[k] = slices.Clone(v)
			}
			form.Set(tc.field, tc.value)
			since := len(env.Sim.Requests())
			resp, body := env.PostForm(t, c, "/endusers/"+id, form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			d := euDoc(t, body)
			ctl := d.Find("#f-" + tc.field)
			if ctl.AttrOr("aria-invalid", "") != "true" || !strings.Contains(ctl.AttrOr("aria-describedby", ""), "f-"+tc.field+"-error") {
				t.Errorf("control not marked invalid: %v", ctl.Nodes[0].Attr)
			}
			if d.Find("#f-"+tc.field+"-error").Text() == "" || d.Find(`[data-testid="error-summary"] a[href="#f-`+tc.field+`"]`).Length() != 1 {
				t.Error("no message next to the field or in the summary")
			}
			got := ctl.AttrOr("value", ctl.Text())
			if strings.TrimSpace(got) != strings.TrimSpace(tc.value) && !strings.Contains(tc.value, "\x07") {
				t.Errorf("input not kept: %q", got)
			}
			if n := len(euUpstream(env, since, "")); n != 0 {
				t.Errorf("%d upstream calls, want none", n)
			}
		})
	}
}

func TestEndUserEditConflict(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	alice, bob := env.Login(t, "agent"), env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)
	a := euEditForm(t, env, alice, id)
	b := euEditForm(t, env, bob, id)

	// Alice saves the display name and Bob, who loaded the form before,
	// saves another display name: Bob gets 409 and nothing is written.
	a.Set("displayName", "Alice's name")
	if resp, body := env.PostForm(t, alice, "/endusers/"+id, a); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice: status %d\n%s", resp.StatusCode, body)
	}
	b.Set("displayName", "Bob's name")
	b.Set("lastName", "Bobsen")
	since := len(env.Sim.Requests())
	resp, body := env.PostForm(t, bob, "/endusers/"+id, b)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("bob: status %d, want 409\n%s", resp.StatusCode, body)
	}
	if n := len(euUpstream(env, since, http.MethodPatch)); n != 0 {
		t.Errorf("%d PATCHes for the conflicting save, want none", n)
	}
	d := euDoc(t, body)
	box := d.Find(`[data-conflict="displayName"]`)
	if box.Length() != 1 {
		t.Fatal("no data-conflict=displayName")
	}
	if box.Find(`[data-testid="yours"]`).Text() != "Bob's name" || box.Find(`[data-testid="theirs"]`).Text() != "Alice's name" {
		t.Errorf("yours %q theirs %q", box.Find(`[data-testid="yours"]`).Text(), box.Find(`[data-testid="theirs"]`).Text())
	}
	if d.Find(`[data-conflict="lastName"]`).Length() != 0 {
		t.Error("lastName marked as a conflict, but only Bob changed it")
	}
	b2 := euFormValues(t, body, "#profile-form")
	if b2.Get("displayName") != "Bob's name" || b2.Get("lastName") != "Bobsen" {
		t.Errorf("Bob's input not kept: %q %q", b2.Get("displayName"), b2.Get("lastName"))
	}

	// Saving without a choice asks for one.
	resp, _ = env.PostForm(t, bob, "/endusers/"+id, b2)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("no choice: status %d, want 422", resp.StatusCode)
	}
	// Bob keeps his: written, with his last name.
	b2.Set("resolve.displayName", "mine")
	since = len(env.Sim.Requests())
	resp, body = env.PostForm(t, bob, "/endusers/"+id, b2)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resolved: status %d\n%s", resp.StatusCode, body)
	}
	patches := euPatchBodies(env, since)
	if len(patches) != 1 || !slices.Equal(euKeys(patches[0]), []string{"displayName", "lastName"}) {
		t.Errorf("PATCH bodies %v, want displayName and lastName", patches)
	}
	u, _ := env.API.GetEndUser(t.Context(), id)
	if u.DisplayName != "Bob's name" || u.LastName != "Bobsen" {
		t.Errorf("after resolving: %q %q", u.DisplayName, u.LastName)
	}
}

func TestEndUserEditDifferentFieldsBothSurvive(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)
	form := euEditForm(t, env, c, id)
	// Someone else (or Dixa's own UI) changes the last name meanwhile.
	last := "Changed Elsewhere"
	if _, err := env.API.PatchEndUser(t.Context(), id, apiclient.PatchEndUserInput{LastName: &last}); err != nil {
		t.Fatal(err)
	}
	form.Set("firstName", "Mine")
	resp, body := env.PostForm(t, c, "/endusers/"+id, form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	u, _ := env.API.GetEndUser(t.Context(), id)
	if u.FirstName != "Mine" || u.LastName != last {
		t.Errorf("first %q last %q, want both changes", u.FirstName, u.LastName)
	}
}

func TestEndUserEditDoubleSubmitWritesOnce(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)
	form := euEditForm(t, env, c, id)
	form.Set("displayName", "Clicked twice")
	env.Sim.SetLatency("PATCH /endusers/{userId}", 150*time.Millisecond, 150*time.Millisecond)
	since := len(env.Sim.Requests())
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i := range statuses {
		wg.Go(func() {
			resp, _ := env.PostForm(t, c, "/endusers/"+id, form)
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	// A replay after the fact.
	resp, _ := env.PostForm(t, c, "/endusers/"+id, form)
	for i, s := range append(statuses, resp.StatusCode) {
		if s != http.StatusSeeOther {
			t.Errorf("submission %d: status %d, want 303", i, s)
		}
	}
	if n := len(euUpstream(env, since, http.MethodPatch)); n != 1 {
		t.Errorf("%d PATCHes, want exactly 1", n)
	}
}

func TestEndUserEditDixaRefusalNextToField(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)
	// A phone number another customer has.
	var taken string
	env.Sim.AnyUserID(func(u apiclient.EndUser) bool {
		if u.ID != id && strings.HasPrefix(u.PhoneNumber, "+") {
			taken = u.PhoneNumber
			return true
		}
		return false
	})
	form := euEditForm(t, env, c, id)
	form.Set("phoneNumber", taken)
	resp, body := env.PostForm(t, c, "/endusers/"+id, form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422\n%s", resp.StatusCode, body)
	}
	d := euDoc(t, body)
	if msg := d.Find("#f-phoneNumber-error").Text(); !strings.Contains(msg, "PhoneNumberExists") {
		t.Errorf("message next to the phone field: %q", msg)
	}
	if got := euFormValues(t, body, "#profile-form").Get("phoneNumber"); got != taken {
		t.Errorf("input not kept: %q", got)
	}
}

func TestEndUserEditUpstreamFailures(t *testing.T) {
	env := euEnv(t, webtest.Options{Client: []apiclient.Option{apiclient.WithMaxWait(300 * time.Millisecond), apiclient.WithBreaker(0, 0)}})
	c := env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)

	t.Run("re-read fails: 502, input kept", func(t *testing.T) {
		form := euEditForm(t, env, c, id)
		form.Set("displayName", "Kept 502")
		env.Sim.FailNext("GET /endusers/{userId}", 10, http.StatusInternalServerError)
		defer env.Sim.ResetFaults()
		resp, body := env.PostForm(t, c, "/endusers/"+id, form)
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
		if got := euFormValues(t, body, "#profile-form").Get("displayName"); got != "Kept 502" {
			t.Errorf("input not kept: %q", got)
		}
	})
	t.Run("patch fails with 500: outcome unknown, re-check", func(t *testing.T) {
		form := euEditForm(t, env, c, id)
		form.Set("displayName", "Maybe saved")
		env.Sim.FailNext("PATCH /endusers/{userId}", 1, http.StatusInternalServerError)
		resp, body := env.PostForm(t, c, "/endusers/"+id, form)
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("status %d, want 504\n%s", resp.StatusCode, body)
		}
		d := euDoc(t, body)
		if d.Find(`[data-testid="outcome-unknown"] button[name="recheck"]`).Length() != 1 {
			t.Fatal("no re-check offered")
		}
		// Replaying the same POST does not write.
		since := len(env.Sim.Requests())
		env.PostForm(t, c, "/endusers/"+id, form)
		if n := len(euUpstream(env, since, http.MethodPatch)); n != 0 {
			t.Errorf("replay after an unknown outcome sent %d PATCHes", n)
		}
		again := euFormValues(t, body, "#profile-form")
		again.Set("recheck", "1")
		since = len(env.Sim.Requests())
		resp, body = env.PostForm(t, c, "/endusers/"+id, again)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "was not saved") {
			t.Errorf("re-check: status %d\n%.600s", resp.StatusCode, body)
		}
		if n := len(euUpstream(env, since, http.MethodPatch)); n != 0 {
			t.Errorf("re-check sent %d PATCHes", n)
		}
	})
	t.Run("rate limited past the wait: 503 with Retry-After", func(t *testing.T) {
		form := euEditForm(t, env, c, id)
		form.Set("displayName", "Kept 503")
		env.Sim.Storm429(3*time.Second, true)
		resp, body := env.PostForm(t, c, "/endusers/"+id, form)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("status %d, Retry-After %q; want 503 with it", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if got := euFormValues(t, body, "#profile-form").Get("displayName"); got != "Kept 503" {
			t.Errorf("input not kept: %q", got)
		}
	})
}

func TestEndUserCustomAttributes(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	id := dixasim.DemoMinimalUserID
	defs, err := env.API.ListCustomAttributeDefinitions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var text, sel *apiclient.CustomAttributeDefinition
	var nested apiclient.SelectOption
	var parent apiclient.SelectOption
	for i, d := range defs {
		if d.EntityType != apiclient.EntityContact || d.IsArchived || d.IsDeactivated {
			continue
		}
		switch d.InputDefinition.Type {
		case apiclient.InputText:
			if text == nil {
				text = &defs[i]
			}
		case apiclient.InputSelect:
			for _, o := range d.InputDefinition.Options {
				for _, n := range o.NestedOptions {
					if sel == nil && !o.IsDeactivated && !n.IsDeactivated {
						sel, parent, nested = &defs[i], o, n
					}
				}
			}
		}
	}
	if text == nil || sel == nil {
		t.Fatal("the demo data needs an active Text and a nested Select Contact attribute")
	}
	_, body := env.Get(t, c, "/endusers/"+id)
	form := euFormValues(t, body, `[data-testid="attrs-form"]`)
	if !form.Has("attr."+text.ID) || !form.Has("attr."+sel.ID) {
		t.Fatalf("form fields %v", form)
	}
	if euDoc(t, body).Find(`option[value="`+nested.ID+`"]`).Text() != parent.Label+" › "+nested.Label {
		t.Errorf("nested option labelled %q", euDoc(t, body).Find(`option[value="`+nested.ID+`"]`).Text())
	}
	form.Set("attr."+text.ID, "<b>bold</b> text")
	form.Set("attr."+sel.ID, nested.ID)
	since := len(env.Sim.Requests())
	resp, body := env.PostForm(t, c, "/endusers/"+id+"/custom-attributes", form, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "saved") {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(strings.TrimSpace(body), `<section id="attributes"`) {
		t.Errorf("htmx answer is not the attributes region:\n%.200s", body)
	}
	patches := euPatchBodies(env, since)
	if len(patches) != 1 || len(patches[0]) != 2 {
		t.Fatalf("PATCH bodies %v, want one with the two attributes", patches)
	}
	if string(patches[0][text.ID]) != `"\u003cb\u003ebold\u003c/b\u003e text"` && string(patches[0][text.ID]) != `"<b>bold</b> text"` {
		t.Errorf("text sent as %s", patches[0][text.ID])
	}
	var path []string
	json.Unmarshal(patches[0][sel.ID], &path)
	if !slices.Equal(path, []string{parent.Value, nested.Value}) {
		t.Errorf("select sent as %s, want the path of option values", patches[0][sel.ID])
	}

	// Clearing one sends null for it alone; a plain form is redirected.
	form = euFormValues(t, body, `[data-testid="attrs-form"]`)
	form.Set("attr."+text.ID, "")
	since = len(env.Sim.Requests())
	resp, _ = env.PostForm(t, c, "/endusers/"+id+"/custom-attributes", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear: status %d", resp.StatusCode)
	}
	patches = euPatchBodies(env, since)
	if len(patches) != 1 || len(patches[0]) != 1 || string(patches[0][text.ID]) != "null" {
		t.Errorf("clear: PATCH bodies %v", patches)
	}

	// A value that is not an option is refused without a call.
	form.Set("attr."+sel.ID, "not-an-option")
	since = len(env.Sim.Requests())
	resp, _ = env.PostForm(t, c, "/endusers/"+id+"/custom-attributes", form)
	if resp.StatusCode != http.StatusUnprocessableEntity || len(euUpstream(env, since, http.MethodPatch)) != 0 {
		t.Errorf("bad option: status %d", resp.StatusCode)
	}
}

func TestEndUserCreate(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	_, phone := euPhoneUser(t, env)

	resp, body := env.Get(t, c, "/endusers/new?email=new%40example.com&phoneNumber=%2B4511&bogus=1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("form: status %d", resp.StatusCode)
	}
	form := euFormValues(t, body, "#create-form")
	if form.Get("email") != "new@example.com" {
		t.Errorf("email not prefilled: %q", form.Get("email"))
	}

	t.Run("duplicate guard", func(t *testing.T) {
		f := url.Values{}
		for k, v := range form {
			f[k] = slices.Clone(v)
		}
		f.Set("displayName", "Possible Duplicate")
		f.Set("email", "fresh-dup@example.com")
		f.Set("phoneNumber", "+45 "+phone[3:])
		since := len(env.Sim.Requests())
		resp, body := env.PostForm(t, c, "/endusers", f)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("status %d, want 409\n%s", resp.StatusCode, body)
		}
		if n := len(euUpstream(env, since, http.MethodPost)); n != 0 {
			t.Errorf("%d creates, want none", n)
		}
		d := euDoc(t, body)
		if d.Find(`[data-testid="duplicate"]`).Length() != 1 {
			t.Errorf("%d duplicates shown, want 1", d.Find(`[data-testid="duplicate"]`).Length())
		}
		confirm := d.Find(`[data-testid="create-anyway"]`).AttrOr("value", "")
		f2 := euFormValues(t, body, "#create-form")
		// Changing an identifier invalidates the confirmation.
		f3 := url.Values{}
		for k, v := range f2 {
			f3[k] = slices.Clone(v)
		}
		f3.Set("confirm", confirm)
		f3.Set("email", "other-dup@example.com")
		if resp, _ := env.PostForm(t, c, "/endusers", f3); resp.StatusCode != http.StatusConflict {
			t.Errorf("confirm for other identifiers: status %d, want 409", resp.StatusCode)
		}
		// Create anyway, double-clicked: one customer, phone taken so Dixa
		// refuses; the refusal is next to the phone field.
		f2.Set("confirm", confirm)
		resp, body = env.PostForm(t, c, "/endusers", f2)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(euDoc(t, body).Find("#f-phoneNumber-error").Text(), "PhoneNumberExists") {
			t.Errorf("create anyway with a taken phone: status %d\n%.800s", resp.StatusCode, body)
		}
	})

	t.Run("create once on double submit", func(t *testing.T) {
		f := url.Values{}
		for k, v := range form {
			f[k] = slices.Clone(v)
		}
		f.Set("displayName", "Brand New <Customer>")
		f.Set("email", "brand-new@example.com")
		f.Set("phoneNumber", "")
		env.Sim.SetLatency("POST /endusers", 150*time.Millisecond, 150*time.Millisecond)
		defer env.Sim.ResetFaults()
		since := len(env.Sim.Requests())
		var wg sync.WaitGroup
		locs := make([]string, 2)
		for i := range locs {
			wg.Go(func() {
				resp, _ := env.PostForm(t, c, "/endusers", f)
				locs[i] = resp.Header.Get("Location")
			})
		}
		wg.Wait()
		if n := len(euUpstream(env, since, http.MethodPost)); n != 1 {
			t.Errorf("%d creates, want 1", n)
		}
		if locs[0] == "" || locs[0] != locs[1] || !strings.HasSuffix(locs[0], "?saved=created") {
			t.Errorf("redirects %q", locs)
		}
	})

	t.Run("validation", func(t *testing.T) {
		resp, body := env.PostForm(t, c, "/endusers", url.Values{"formVersion": {"1"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || euDoc(t, body).Find(`[data-testid="error-summary"]`).Length() != 1 {
			t.Errorf("empty create: status %d", resp.StatusCode)
		}
	})
}

func TestEndUserWritesNeedAgent(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	id := dixasim.DemoMinimalUserID
	_, body := env.Get(t, c, "/endusers/"+id)
	d := euDoc(t, body)
	if d.Find(`[data-testid="edit-link"]`).Length() != 0 || d.Find(`[data-testid="attrs-form"]`).Length() != 0 {
		t.Error("a viewer is offered editing")
	}
	before := env.Sim.Stats().Total.Requests
	for _, req := range []struct{ method, path string }{
		{"GET", "/endusers/" + id + "/edit"}, {"POST", "/endusers/" + id}, {"GET", "/endusers/new"},
		{"POST", "/endusers"}, {"POST", "/endusers/" + id + "/custom-attributes"},
	} {
		var resp *http.Response
		var body string
		if req.method == "GET" {
			resp, body = env.Get(t, c, req.path)
		} else {
			resp, body = env.PostForm(t, c, req.path, url.Values{"formVersion": {"1"}, "displayName": {"x"}, "role": {"lead"}})
		}
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "agent") {
			t.Errorf("%s %s as viewer: status %d, want 403 naming the role", req.method, req.path, resp.StatusCode)
		}
	}
	if n := env.Sim.Stats().Total.Requests - before; n != 0 {
		t.Errorf("%d upstream calls for refused requests", n)
	}
}
