package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestFirstLoadWeight: the first load of each main page (HTML plus every
// stylesheet and script it references, as transferred with gzip) stays
// under 60 KB, and nothing is loaded from another host.
func TestFirstLoadWeight(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	c := env.Login(t, "lead")
	const budget = 60 << 10
	pages := []string{
		"/endusers",
		"/endusers?q=%2B4520112233",
		"/endusers/" + dixasim.DemoBusyUserID,
		"/endusers/" + dixasim.DemoBusyUserID + "/edit",
		"/endusers/new",
	}
	for _, p := range pages {
		resp, body := env.Get(t, c, p, "Accept-Encoding", "identity")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", p, resp.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		total := len(body)
		var assets []string
		doc.Find("link[href], script[src], img[src]").Each(func(_ int, s *goquery.Selection) {
			u, ok := s.Attr("href")
			if !ok {
				u, _ = s.Attr("src")
			}
			if goquery.NodeName(s) == "img" {
				// Avatars are customers' own URLs, loaded only from http(s)
				// and not part of the console's weight.
				return
			}
			if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
				t.Errorf("%s references %q, which is not on the console's own host", p, u)
				return
			}
			assets = append(assets, u)
		})
		for _, a := range assets {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, env.Origin()+a, nil)
			// Set explicitly so the transport hands over the compressed bytes.
			req.Header.Set("Accept-Encoding", "gzip")
			resp, b := env.Do(t, c, req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", a, resp.StatusCode)
			}
			if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("%s: Cache-Control %q, want a long immutable lifetime", a, resp.Header.Get("Cache-Control"))
			}
			total += len(b)
		}
		t.Logf("first load of %s: %d bytes (HTML %d + %d assets)", p, total, len(body), len(assets))
		if total > budget {
			t.Errorf("first load of %s transfers %d bytes, want under %d", p, total, budget)
		}
	}
}
