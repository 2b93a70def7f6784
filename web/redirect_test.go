package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// Open redirects: whatever next= says, the sign-in sends the browser to a
// page of the console, under BASE_PATH, on the console's own host — both
// the 303 of a plain form post and htmx's HX-Redirect (which the browser
// follows without Go's path cleaning).
func TestLoginNextStaysOnTheConsole(t *testing.T) {
	const base = "/support/console"
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) {
		c.BasePath = base
		c.PersonRate, c.PersonBurst = 1000, 1000
	}})
	console, _ := url.Parse(env.URL + "/")
	for _, next := range []string{
		"//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "/\t/evil.example",
		"/../../evil", "/%2e%2e/%2e%2e/evil", "/%2E%2E/x", "/./../evil", "/.//evil.example", "/%2F%2Fevil.example",
		"/%5C%5Cevil.example", "http:evil.example", "\\\\evil.example", " //evil.example", "/endusers/../../../x",
	} {
		for _, hdr := range [][]string{nil, {"HX-Request", "true"}} {
			resp, _ := env.PostForm(t, env.Client(), "/login", url.Values{"name": {"Ada"}, "role": {"viewer"}, "next": {next}}, hdr...)
			loc := resp.Header.Get("Location")
			if hdr != nil {
				loc = resp.Header.Get("HX-Redirect")
			}
			to, err := console.Parse(loc)
			if err != nil || loc == "" {
				t.Errorf("next=%q %v: redirect %q", next, hdr, loc)
				continue
			}
			if to.Host != console.Host || to.Scheme != console.Scheme || !strings.HasPrefix(to.Path, base+"/") || strings.Contains(to.Path, "..") {
				t.Errorf("next=%q %v: redirect %q leads to %s", next, hdr, loc, to)
			}
		}
		// The sign-in page does not carry it forward either.
		_, body := env.Get(t, env.Client(), "/login?next="+url.QueryEscape(next))
		if v, _ := doc(t, body).Find(`input[name="next"]`).Attr("value"); v != "" && v != "/endusers" {
			t.Errorf("GET /login?next=%q: the form carries next=%q", next, v)
		}
	}
	// A real console path survives, query and all.
	resp, _ := env.PostForm(t, env.Client(), "/login", url.Values{"name": {"Ada"}, "role": {"viewer"}, "next": {"/endusers?q=a%40b.example"}})
	if loc := resp.Header.Get("Location"); loc != base+"/endusers?q=a%40b.example" || resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a console path: %d %q", resp.StatusCode, loc)
	}
}
