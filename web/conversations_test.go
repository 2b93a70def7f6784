package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// Handler tests of a customer's conversations through the real router
// against the simulator: the profile's newest-first list, the
// conversation page and its partials, the checks on the way in, the
// upstream budget and the audit trail.

// convEnv starts a console and waits for the agent directory's first read,
// so that call counts are the page's own.
func convEnv(t testing.TB, o webtest.Options) *webtest.Env {
	t.Helper()
	if o.Sim.Users == 0 {
		o.Sim.Users = 80
	}
	env := webtest.New(t, o)
	deadline := time.Now().Add(10 * time.Second)
	for env.Server.AgentDirectory().Loaded().IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("the agent directory was not read within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return env
}

func demoConv(t testing.TB, env *webtest.Env, d dixasim.DemoConversation) string {
	t.Helper()
	id, ok := env.Sim.DemoConversationID(d)
	if !ok {
		t.Fatalf("no demo conversation %s", d)
	}
	return strconv.FormatInt(id, 10)
}

// upstreamSince returns the routes the simulator served since `since`
// requests, as "GET /v1/…" strings.
func upstreamSince(env *webtest.Env, since int) []string {
	var out []string
	for _, r := range env.Sim.Requests()[since:] {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

var uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestProfileConversationsNewestFirst: the simulator lists a customer's
// conversations oldest first, as Dixa does; the profile shows the open and
// pending ones first with a count, then the rest newest first, with the
// assignees named.
func TestProfileConversationsNewestFirst(t *testing.T) {
	env := convEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	dixa, err := env.API.ListEndUserConversations(t.Context(), dixasim.DemoBusyUserID, apiclient.PageOptions{PageLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !dixa.Items[0].CreatedAt.Before(dixa.Items[len(dixa.Items)-1].CreatedAt.Time) {
		t.Fatal("the simulator no longer lists the oldest first; this test would prove nothing")
	}
	byID := map[string]apiclient.Conversation{}
	open := 0
	for _, cv := range dixa.Items {
		byID[strconv.FormatInt(cv.ID, 10)] = cv
		if cv.IsOpen() {
			open++
		}
	}
	_, body := env.Get(t, c, "/endusers/"+dixasim.DemoBusyUserID)
	d := euDoc(t, body)
	rows := d.Find(`tr[data-testid="conv-row"]`)
	if rows.Length() != len(dixa.Items) {
		t.Fatalf("%d rows, want all %d", rows.Length(), len(dixa.Items))
	}
	if got := d.Find(`[data-testid="attention-count"]`).Text(); got != strconv.Itoa(open)+" open or pending conversations" {
		t.Errorf("attention count %q, want %d", got, open)
	}
	var prev apiclient.Conversation
	rows.Each(func(i int, s *goquery.Selection) {
		cv := byID[s.AttrOr("data-id", "")]
		if (i < open) != cv.IsOpen() {
			t.Errorf("row %d (conversation %d, %s) is out of its group", i, cv.ID, cv.State)
		}
		if i > 0 && i != open && prev.CreatedAt.Before(cv.CreatedAt.Time) {
			t.Errorf("row %d (%v) is newer than the row above (%v)", i, cv.CreatedAt, prev.CreatedAt)
		}
		prev = cv
	})
	table := d.Find(`[data-testid="convs-table"] tbody`)
	if ids := uuidRe.FindAllString(table.Text(), -1); len(ids) > 0 {
		t.Errorf("the list shows agent ids as text: %v", ids)
	}
	if table.Find(`.person[title*="@"]`).Length() == 0 {
		t.Error("no assignee named with an email in a tooltip")
	}
	if d.Find(`[data-testid="all-conversations"]`).Length() != 0 {
		t.Error("a customer whose conversations all fit is offered the rest")
	}
}

// TestProfileConversationsMore: with a page of 10, the profile shows the
// 10 most recent of the 30 read, says so, and links to all of them page
// by page; the disclosure under each row fetches the panel.
func TestProfileConversationsMore(t *testing.T) {
	env := convEnv(t, webtest.Options{Config: func(c *web.Config) { c.ConversationsPageLimit = 10 }})
	c := env.Login(t, "viewer")
	_, body := env.Get(t, c, "/endusers/"+dixasim.DemoBusyUserID)
	d := euDoc(t, body)
	if n := d.Find(`tr[data-testid="conv-row"]`).Length(); n != 10 {
		t.Errorf("%d rows, want 10", n)
	}
	if s := d.Find(`[data-testid="convs-summary"]`).Text(); !strings.Contains(s, "Showing the 10 most recent of 30.") {
		t.Errorf("summary %q", s)
	}
	all := d.Find(`[data-testid="all-conversations"]`).AttrOr("href", "")
	if all != "/endusers/"+dixasim.DemoBusyUserID+"/conversations" {
		t.Fatalf("link to all conversations %q", all)
	}
	resp, page := env.Get(t, c, all)
	if resp.StatusCode != http.StatusOK || euDoc(t, page).Find(`#conversations a[rel="next"]`).Length() != 1 {
		t.Errorf("all conversations: status %d, no next page", resp.StatusCode)
	}
	toggle := d.Find(`tr[data-testid="conv-row"] button[data-disclosure]`).First()
	if toggle.AttrOr("aria-expanded", "") != "false" || toggle.AttrOr("aria-label", "") == "" {
		t.Errorf("disclosure button: expanded %q, label %q", toggle.AttrOr("aria-expanded", ""), toggle.AttrOr("aria-label", ""))
	}
	if d.Find("#"+toggle.AttrOr("aria-controls", "")+"[hidden]").Length() != 1 {
		t.Error("the disclosure controls no hidden region")
	}
	// The script fills the region from the link beside the button.
	link := toggle.Next()
	resp, panel := env.Get(t, c, link.AttrOr("href", ""), "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || strings.Contains(panel, "<html") || euDoc(t, panel).Find(`article[data-testid="conversation"] h3`).Length() != 1 {
		t.Errorf("panel: status %d\n%.400s", resp.StatusCode, panel)
	}
}

// TestConversationPageHostile: the hostile email's page shows every
// message, note and tag as text: no markup, no script, no style, no link
// from the content; the agents named; files listed by name only.
func TestConversationPageHostile(t *testing.T) {
	env := convEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	id := demoConv(t, env, dixasim.DemoHostileEmail)
	resp, body := env.Get(t, c, "/endusers/"+dixasim.DemoScriptUserID+"/conversations/"+id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	d := euDoc(t, body)
	main := d.Find("main")
	if n := main.Find("script, style, iframe, form, img, svg, math, object, embed, link, meta, base").Length(); n != 0 {
		t.Errorf("%d elements from the content became markup", n)
	}
	main.Find("a").Each(func(_ int, a *goquery.Selection) {
		href := a.AttrOr("href", "")
		if !strings.HasPrefix(href, "/") {
			t.Errorf("a link out of the console from the content: %q", href)
		}
	})
	main.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, at := range s.Nodes[0].Attr {
			if strings.HasPrefix(at.Key, "on") || at.Key == "style" || at.Key == "srcdoc" {
				t.Errorf("attribute %s=%q from the content", at.Key, at.Val)
			}
		}
	})
	text := main.Text()
	for _, want := range []string{"<script>alert('text')</script>", "log in again (javascript:alert(document.cookie))", "invoice[RLO]fdp.exe", "<script>alert('note')</script>", "<b>Boss</b>"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	if strings.ContainsRune(text, '\u202E') {
		t.Error("a right-to-left override reached the page")
	}
	msgs := main.Find(`ol[data-testid="messages"] > li > article[data-testid="message"]`)
	if msgs.Length() == 0 || msgs.Length() != msgs.Find("h3").Length() {
		t.Errorf("%d messages, %d message headings: want a list of articles with headings", msgs.Length(), msgs.Find("h3").Length())
	}
	if main.Find(`[data-testid="note"]`).Length() == 0 || main.Find(`[data-testid="tags"] li`).Length() == 0 {
		t.Error("notes or tags missing")
	}
	if main.Find(`[data-testid="attachment"]`).Length() < 3 {
		t.Error("the attachments are not listed")
	}
	if strings.Contains(body, "files.dixa.example") || strings.Contains(body, "evil.example/download") {
		t.Error("a file's URL reached the page")
	}
	if ids := uuidRe.FindAllString(main.Find(`[data-testid="messages"], [data-testid="notes"], [data-testid="conv-assignee"]`).Text(), -1); len(ids) > 0 {
		t.Errorf("agents shown by id: %v", ids)
	}
}

// TestConversationDeletedAgent: an agent who has left reads "Unknown
// agent", with the id in a tooltip.
func TestConversationDeletedAgent(t *testing.T) {
	env := convEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	deleted := env.Sim.DeletedAgentIDs()
	var conv apiclient.Conversation
	for u, err := range env.API.EndUsers(t.Context(), apiclient.ListOptions{PageLimit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		for cv, err := range env.API.EndUserConversations(t.Context(), u.ID, apiclient.PageOptions{PageLimit: 100}) {
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(deleted, cv.AssigneeID()) {
				conv = cv
			}
		}
		if conv.ID != 0 {
			break
		}
	}
	if conv.ID == 0 {
		t.Fatal("no demo conversation is assigned to a deleted agent")
	}
	_, body := env.Get(t, c, "/endusers/"+conv.RequesterID+"/conversations/"+strconv.FormatInt(conv.ID, 10))
	p := euDoc(t, body).Find(`[data-testid="conv-assignee"] .person`)
	if p.Text() != "Unknown agent" || p.AttrOr("title", "") != "Agent ID "+conv.AssigneeID() {
		t.Errorf("assignee reads %q (title %q)", p.Text(), p.AttrOr("title", ""))
	}
	_, profile := env.Get(t, c, "/endusers/"+conv.RequesterID)
	row := euDoc(t, profile).Find(`tr[data-id="` + strconv.FormatInt(conv.ID, 10) + `"] .person`)
	if row.Text() != "Unknown agent" {
		t.Errorf("profile row's assignee reads %q", row.Text())
	}
}

// TestConversationUpstreamCalls: a view costs at most four upstream calls,
// in parallel: the conversation, its messages, notes and tags. Agents not
// in the directory are looked up once; after that names cost nothing.
func TestConversationUpstreamCalls(t *testing.T) {
	env := convEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	path := "/endusers/" + dixasim.DemoScriptUserID + "/conversations/" + demoConv(t, env, dixasim.DemoHostileEmail)
	before := len(env.Sim.Requests())
	env.Get(t, c, path)
	var own, lookups []string
	for _, r := range upstreamSince(env, before) {
		if strings.Contains(r, "/agents/") {
			lookups = append(lookups, r)
		} else {
			own = append(own, r)
		}
	}
	if len(own) != 4 {
		t.Errorf("first view: %d calls of its own, want 4: %v", len(own), own)
	}
	deleted := env.Sim.DeletedAgentIDs()
	for _, l := range lookups {
		if !slices.ContainsFunc(deleted, func(id string) bool { return strings.HasSuffix(l, id) }) {
			t.Errorf("looked up an agent the directory holds: %s", l)
		}
	}
	for range 3 {
		before = len(env.Sim.Requests())
		if resp, _ := env.Get(t, c, path); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := upstreamSince(env, before); len(got) != 4 || slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "/agents") }) {
			t.Errorf("later view: %v, want the four calls and no agent look-up", got)
		}
	}
}

// TestConversationChecks: ids are checked before any upstream call, and a
// conversation shows only under the customer who requested it: another
// customer's, and one that does not exist, are the same 404.
func TestConversationChecks(t *testing.T) {
	env := convEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	hostile := demoConv(t, env, dixasim.DemoHostileEmail)
	for _, p := range []string{
		"/endusers/not-a-uuid/conversations/" + hostile,
		"/endusers/" + dixasim.DemoScriptUserID + "/conversations/0",
		"/endusers/" + dixasim.DemoScriptUserID + "/conversations/-5",
		"/endusers/" + dixasim.DemoScriptUserID + "/conversations/abc",
		"/endusers/" + dixasim.DemoScriptUserID + "/conversations/99999999999999999999",
		"/endusers/" + dixasim.DemoScriptUserID + "/conversations/+12",
		"/endusers/" + dixasim.DemoScriptUserID + "/conversations/" + hostile + "/messages/" + "a%20b",
	} {
		before := len(env.Sim.Requests())
		resp, _ := env.Get(t, c, p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
		}
		if got := upstreamSince(env, before); len(got) != 0 {
			t.Errorf("%s: upstream calls %v before the ids were checked", p, got)
		}
	}
	_, other := env.Get(t, c, "/endusers/"+dixasim.DemoBusyUserID+"/conversations/"+hostile)
	_, none := env.Get(t, c, "/endusers/"+dixasim.DemoBusyUserID+"/conversations/987654321")
	msg := func(body string) string { return euDoc(t, body).Find(`[data-testid="error"] p`).First().Text() }
	if msg(other) == "" || msg(other) != msg(none) {
		t.Errorf("another customer's conversation reads %q, a missing one %q: want the same", msg(other), msg(none))
	}
	if strings.Contains(other, "alert(") || strings.Contains(other, `data-testid="message"`) {
		t.Error("another customer's conversation shows some of its content")
	}
	if n := len(auditEntries(t, env, handlers.ActConversationViewed)); n != 0 {
		t.Errorf("%d views recorded, want none", n)
	}
}

// TestConversationAuditAndLinks: every view of messages is recorded (who,
// which conversation; never what it says); with DIXA_APP_URL each
// conversation links to Dixa in a new tab.
func TestConversationAuditAndLinks(t *testing.T) {
	env := convEnv(t, webtest.Options{Config: func(c *web.Config) { c.DixaAppURL = "https://acme.dixa.com" }})
	c := env.Login(t, "viewer")
	id := demoConv(t, env, dixasim.DemoHostileEmail)
	path := "/endusers/" + dixasim.DemoScriptUserID + "/conversations/" + id
	_, body := env.Get(t, c, path)
	a := euDoc(t, body).Find(`[data-testid="dixa-link"]`)
	if a.AttrOr("href", "") != "https://acme.dixa.com/conversation/"+id || a.AttrOr("target", "") != "_blank" || a.AttrOr("rel", "") != "noopener noreferrer" {
		t.Errorf("link to Dixa: href %q target %q rel %q", a.AttrOr("href", ""), a.AttrOr("target", ""), a.AttrOr("rel", ""))
	}
	env.Get(t, c, path, "HX-Request", "true")
	es := auditEntries(t, env, handlers.ActConversationViewed)
	if len(es) != 2 {
		t.Fatalf("%d entries, want 2", len(es))
	}
	for i, e := range es {
		if e.TargetType != "conversation" || e.TargetID != id || e.ActorRole != "viewer" || e.Details["enduser"] != dixasim.DemoScriptUserID {
			t.Errorf("entry %d: %+v", i, e)
		}
		if got := auditHolds(e, "alert", "invoice", "Boss", "hostile.example"); len(got) > 0 {
			t.Errorf("entry %d holds content: %v", i, got)
		}
	}
	if es[0].Details["view"] != "page" || es[1].Details["view"] != "panel" {
		t.Errorf("views %q, %q; want page, panel", es[0].Details["view"], es[1].Details["view"])
	}
}

// TestConversationHugeMessage: a 1 MB body is cut on the page, whole on
// request; a body too large for Dixa says so.
func TestConversationHugeMessage(t *testing.T) {
	env := convEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	id := demoConv(t, env, dixasim.DemoHugeMessage)
	_, body := env.Get(t, c, "/endusers/"+dixasim.DemoBusyUserID+"/conversations/"+id)
	if len(body) > 200<<10 {
		t.Errorf("the page is %d KB: the 1 MB body was not cut", len(body)>>10)
	}
	d := euDoc(t, body)
	if d.Find(`[data-testid="too-large"]`).Length() != 1 {
		t.Error("the too-large body is not said so")
	}
	full := d.Find(`[data-testid="show-full"]`)
	if full.Length() != 1 || !strings.Contains(full.Text(), "MB") {
		t.Fatalf("no link to the whole message: %q", full.Text())
	}
	resp, frag := env.Get(t, c, full.AttrOr("hx-get", ""), "HX-Request", "true")
	if resp.StatusCode != http.StatusOK || len(frag) < 1<<20 || strings.Contains(frag, "<html") || !strings.Contains(frag, "Please help!") {
		t.Errorf("whole message: status %d, %d bytes", resp.StatusCode, len(frag))
	}
	resp, page := env.Get(t, c, full.AttrOr("href", ""))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "<html") {
		t.Errorf("the whole message as a page: status %d", resp.StatusCode)
	}
	if n := len(auditEntries(t, env, handlers.ActConversationViewed)); n != 3 {
		t.Errorf("%d views recorded, want 3", n)
	}
}

// TestConversationAnonymized: an anonymized conversation says so and
// shows what Dixa still returns.
func TestConversationAnonymized(t *testing.T) {
	env := convEnv(t, webtest.Options{})
	c := env.Login(t, "viewer")
	page, err := env.API.ListEndUserConversations(t.Context(), dixasim.DemoAnonymizedUserID, apiclient.PageOptions{})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("anonymized customer's conversations: %v", err)
	}
	id := strconv.FormatInt(page.Items[0].ID, 10)
	resp, body := env.Get(t, c, "/endusers/"+dixasim.DemoAnonymizedUserID+"/conversations/"+id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	d := euDoc(t, body)
	if d.Find(`[data-testid="conv-anonymized"]`).Length() != 1 || !strings.Contains(d.Find(`[data-testid="conv-state"]`).Text(), "Anonymized") {
		t.Error("the page does not say the conversation was anonymized")
	}
	if d.Find(`[data-testid="message"]`).Length() == 0 {
		t.Error("what Dixa still returns (the messages' authors and times) is not shown")
	}
}

// TestConversationsPageLimitFallback: when Dixa refuses the page size,
// the profile still shows the conversations, and the smaller size is kept.
func TestConversationsPageLimitFallback(t *testing.T) {
	env := convEnv(t, webtest.Options{Sim: dixasim.Options{MaxPageSize: 20}})
	c := env.Login(t, "viewer")
	before := len(env.Sim.Requests())
	_, body := env.Get(t, c, "/endusers/"+dixasim.DemoBusyUserID)
	if n := euDoc(t, body).Find(`tr[data-testid="conv-row"]`).Length(); n != 10 {
		t.Errorf("%d rows, want the 10 most recent after falling back to 10", n)
	}
	limits := func(since int) []string {
		var out []string
		for _, r := range env.Sim.Requests()[since:] {
			if strings.HasSuffix(r.Path, "/conversations") {
				out = append(out, r.RawQuery)
			}
		}
		return out
	}
	if got := limits(before); len(got) < 3 || got[0] != "pageLimit=50" || got[1] != "pageLimit=25" || got[2] != "pageLimit=10" {
		t.Errorf("page sizes asked: %v", got)
	}
	before = len(env.Sim.Requests())
	env.Get(t, c, "/endusers/"+dixasim.DemoOpenConversationUserID)
	if got := limits(before); len(got) != 1 || got[0] != "pageLimit=10" {
		t.Errorf("next profile: page sizes asked %v, want pageLimit=10 only", got)
	}
}

// TestErasurePreviewLinksBlockingConversations: each open or pending
// conversation that blocks an erasure links to its page.
func TestErasurePreviewLinksBlockingConversations(t *testing.T) {
	env := convEnv(t, webtest.Options{})
	c := env.Login(t, "lead")
	_, body := env.Get(t, c, "/endusers/"+dixasim.DemoOpenConversationUserID+"/erasure")
	d := euDoc(t, body)
	open := d.Find(`[data-testid="erasure-conversation"][data-open="true"]`)
	links := d.Find(`[data-testid="blocking-conversation-link"]`)
	if open.Length() == 0 || links.Length() != open.Length() {
		t.Fatalf("%d open conversations, %d links", open.Length(), links.Length())
	}
	links.Each(func(_ int, a *goquery.Selection) {
		if resp, _ := env.Get(t, c, a.AttrOr("href", "")); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", a.AttrOr("href", ""), resp.StatusCode)
		}
	})
}

// BenchmarkConversationPage reports how long a conversation page takes
// with 100 ms of latency on every upstream call, as a multiple of the
// slowest single call (the target is at most 1.1×: the four calls run in
// parallel), and the upstream calls per view (agent names cached):
//
//	go test ./web/ -run '^$' -bench ConversationPage -benchtime 20x
func BenchmarkConversationPage(b *testing.B) {
	env := convEnv(b, webtest.Options{})
	c := env.Login(b, "viewer")
	path := "/endusers/" + dixasim.DemoScriptUserID + "/conversations/" + demoConv(b, env, dixasim.DemoHostileEmail)
	env.Get(b, c, path) // remember the deleted agents
	const latency = 100 * time.Millisecond
	env.Sim.SetLatency(dixasim.AllRoutes, latency, latency)
	// The slowest single call, measured the same way: one upstream call
	// through the console's client.
	cid, _ := env.Sim.DemoConversationID(dixasim.DemoHostileEmail)
	var slowest time.Duration
	for range 3 {
		start := time.Now()
		if _, err := env.API.ListConversationMessages(b.Context(), cid); err != nil {
			b.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
	}
	before := env.Sim.Stats().Total.Requests
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		if resp, _ := env.Get(b, c, path); resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	var total time.Duration
	for _, d := range times {
		total += d
	}
	b.ReportMetric(float64(total)/float64(len(times))/float64(slowest), "×slowest-call")
	b.ReportMetric(float64(times[len(times)/2])/float64(slowest), "median-×slowest-call")
	b.ReportMetric(float64(env.Sim.Stats().Total.Requests-before)/float64(len(times)), "calls/op")
}
