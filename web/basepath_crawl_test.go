package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// BASE_PATH: every link, form action, htmx URL, asset and redirect of the
// rendered pages carries the prefix; crawling from the list finds no page
// outside it and no broken internal link.
func TestBasePathEverywhere(t *testing.T) {
	const base = "/support/console"
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) {
		c.BasePath = base
		c.PersonRate, c.PersonBurst = 1000, 1000
	}})
	origin := env.Origin()

	// Redirects: signed out → sign-in page; sign-in → back.
	anon := env.Client()
	resp, _ := env.Get(t, anon, "/endusers")
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, base+"/login") {
		t.Errorf("sign-in redirect %q", loc)
	}
	c := env.Login(t, "lead")
	resp, _ = env.Get(t, c, "/")
	if loc := resp.Header.Get("Location"); loc != base+"/endusers" {
		t.Errorf("/ redirects to %q", loc)
	}

	attrs := []string{"href", "src", "action", "hx-get", "hx-post", "hx-put", "hx-delete", "hx-patch", "formaction", "data-url"}
	check := func(page, ref string) (string, bool) {
		if ref == "" || strings.HasPrefix(ref, "#") {
			return "", false
		}
		u, err := url.Parse(ref)
		if err != nil {
			t.Errorf("%s: unparsable URL %q", page, ref)
			return "", false
		}
		if u.Scheme != "" || u.Host != "" {
			if u.Host == strings.TrimPrefix(origin, "http://") {
				t.Errorf("%s: absolute link to ourselves %q", page, ref)
			}
			return "", false // customers' avatar URLs and the like
		}
		if !strings.HasPrefix(u.Path, base+"/") {
			t.Errorf("%s: %q is outside %s", page, ref, base)
			return "", false
		}
		return strings.TrimPrefix(u.Path, base) + func() string {
			if u.RawQuery != "" {
				return "?" + u.RawQuery
			}
			return ""
		}(), true
	}

	queue := []string{"/endusers", "/login", "/no/such/page"}
	seen := map[string]bool{}
	pages := 0
	for len(queue) > 0 && pages < 40 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		resp, body := env.Get(t, c, p)
		pages++
		if loc := resp.Header.Get("Location"); loc != "" {
			if next, ok := check(p+" (redirect)", loc); ok {
				queue = append(queue, next)
			}
			continue
		}
		if resp.StatusCode >= 500 || (resp.StatusCode == 404 && p != "/no/such/page") {
			t.Errorf("GET %s: %d (linked from a rendered page)", p, resp.StatusCode)
		}
		if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
			continue
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range attrs {
			d.Find("[" + a + "]").Each(func(_ int, s *goquery.Selection) {
				v, _ := s.Attr(a)
				next, ok := check(p, v)
				if !ok {
					return
				}
				method := "get"
				if a == "action" {
					method, _ = s.Attr("method")
				}
				if a == "href" || a == "hx-get" || (a == "action" && strings.EqualFold(method, "get")) {
					if !strings.Contains(next, "/logout") && !strings.Contains(next, "/static/") {
						queue = append(queue, next)
					}
				}
				if strings.Contains(next, "/static/") && !seen[next] {
					seen[next] = true
					if resp, _ := env.Get(t, c, next); resp.StatusCode != http.StatusOK {
						t.Errorf("asset %s: %d", next, resp.StatusCode)
					}
				}
			})
		}
	}
	if pages < 3 {
		t.Errorf("crawled only %d pages", pages)
	}
}
