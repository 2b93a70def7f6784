package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// busyEnv is a console whose Dixa calls fail at once when Dixa refuses
// them, with a clock the test moves.
func busyEnv(t *testing.T) (*webtest.Env, *webtest.Clock) {
	clk := webtest.NewClock()
	env := euEnv(t, webtest.Options{
		Now:    clk.Now,
		Client: []apiclient.Option{apiclient.WithRetries(0), apiclient.WithMaxWait(50 * time.Millisecond)},
		Config: func(c *web.Config) { c.CacheTTL, c.StaleMax = 15*time.Second, 5*time.Minute },
	})
	return env, clk
}

// linkNamed returns the links of doc whose accessible name (their text)
// is name.
func linkNamed(doc *goquery.Document, name string) *goquery.Selection {
	return doc.Find("a").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Join(strings.Fields(s.Text()), " ") == name
	})
}

// The profile offers "Refresh from Dixa": a quiet plain link when the data
// is current, which reads Dixa bypassing the cache; when the profile is
// shown from held data because Dixa is busy, the link sits in the notice
// (and is the only one), and still bypasses the cache: a 503 that retries
// itself rather than the held data again.
func TestProfileRefreshFromDixa(t *testing.T) {
	env, clk := busyEnv(t)
	c := env.Login(t, "viewer")
	id, _ := euPhoneUser(t, env)
	want := "/endusers/" + id + "?fresh=1"

	_, body := env.Get(t, c, "/endusers/"+id)
	links := linkNamed(euDoc(t, body), "Refresh from Dixa")
	if links.Length() != 1 || links.AttrOr("href", "") != want || links.AttrOr("data-testid", "") != "refresh-link" {
		t.Fatalf("current profile: %d refresh links (href %q), want one quiet link to %s", links.Length(), links.AttrOr("href", ""), want)
	}
	since := len(env.Sim.Requests())
	env.Get(t, c, "/endusers/"+id)
	if n := profileGets(env, since, id); n != 0 {
		t.Fatalf("a repeat view made %d upstream reads; want it held", n)
	}
	since = len(env.Sim.Requests())
	if resp, _ := env.Get(t, c, links.AttrOr("href", "")); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh link: %d", resp.StatusCode)
	}
	if n := profileGets(env, since, id); n != 2 {
		t.Errorf("the refresh link made %d upstream reads, want 2 (the user and the conversations, from Dixa)", n)
	}

	clk.Advance(40 * time.Second)
	env.Sim.Storm429(time.Minute, true)
	resp, body := env.Get(t, c, "/endusers/"+id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("busy: %d, want the held profile", resp.StatusCode)
	}
	doc := euDoc(t, body)
	notice := doc.Find(`[data-testid="stale-notice"]`)
	if notice.Length() != 1 || !strings.Contains(notice.Text(), "shown as of 40 s ago") {
		t.Fatalf("%d stale notices, want one:\n%s", notice.Length(), body)
	}
	links = linkNamed(doc, "Refresh from Dixa")
	if links.Length() != 1 || links.AttrOr("href", "") != want || linkNamed(goquery.NewDocumentFromNode(notice.Nodes[0]), "Refresh from Dixa").Length() != 1 {
		t.Fatalf("held profile: %d refresh links, want one, in the notice, to %s:\n%s", links.Length(), want, body)
	}
	if notice.Find(`[hx-trigger="load delay:3s"][hx-target="#main"][hx-swap="innerHTML"]`).Length() != 1 {
		t.Error("the profile's notice does not refresh the page by itself")
	}
	resp, _ = env.Get(t, c, want)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("refresh while Dixa is busy: %d (Retry-After %q); want a 503 that says when, never the held data", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// When search results are shown from held data because Dixa is busy, the
// notice is inside the results region, the region htmx swaps: the
// fragment is that one region and nothing beside it, and the notice's
// self-refresh replaces the region, not the page. The whole page has the
// notice once, inside the region too.
func TestStaleSearchNoticeInsideResults(t *testing.T) {
	env, clk := busyEnv(t)
	c := env.Login(t, "viewer")
	id, _ := euPhoneUser(t, env)
	u, err := env.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	path := "/endusers?" + url.Values{"q": {u.Email}}.Encode()
	if resp, _ := env.Get(t, c, path, "HX-Request", "true"); resp.StatusCode != http.StatusOK {
		t.Fatalf("search: %d", resp.StatusCode)
	}
	clk.Advance(40 * time.Second)
	env.Sim.Storm429(time.Minute, true)

	resp, body := env.Get(t, c, path, "HX-Request", "true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("busy search fragment: %d, want the held results", resp.StatusCode)
	}
	top := euDoc(t, body).Find("body").Children()
	if top.Length() != 1 || top.AttrOr("id", "") != "results" {
		t.Fatalf("the fragment is %d elements (first #%s); want the results region alone, the notice inside:\n%s", top.Length(), top.AttrOr("id", ""), body)
	}
	notice := top.Find(`[data-testid="stale-notice"][role="status"]`)
	if notice.Length() != 1 || !strings.Contains(notice.Text(), "Dixa is busy — shown as of 40 s ago") {
		t.Fatalf("no stale notice inside the results:\n%s", body)
	}
	if notice.Find(`[hx-get="`+path+`"][hx-trigger="load delay:3s"][hx-target="#results"][hx-swap="outerHTML"]`).Length() != 1 {
		t.Errorf("the notice's self-refresh does not replace the results region:\n%s", body)
	}
	if top.Find(`[data-testid="enduser-row"][data-id="`+id+`"]`).Length() != 1 {
		t.Errorf("the held results are missing:\n%s", body)
	}

	_, body = env.Get(t, c, path)
	doc := euDoc(t, body)
	if n, in := doc.Find(`[data-testid="stale-notice"]`).Length(), doc.Find(`#results [data-testid="stale-notice"]`).Length(); n != 1 || in != 1 {
		t.Errorf("whole page: %d notices, %d inside #results; want one, inside", n, in)
	}
}
