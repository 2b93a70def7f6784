package web_test

import (
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

var (
	requestSeries = regexp.MustCompile(`(?m)^console_http_request_duration_seconds_count\{(.*)\} `)
	methodLabel   = regexp.MustCompile(`method="([^"]*)"`)
)

// TestMetricLabelsAreBounded: /metrics is open to anyone, and every
// request, signed in or not, is counted. Made-up methods and random paths
// must not add series: methods are GET, HEAD, POST or "other", routes are
// registered patterns or "unmatched". A thousand such requests leave the
// number of series where a first pass over every kind of request put it.
func TestMetricLabelsAreBounded(t *testing.T) {
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) {
		c.BasePath = "/support/console"
		c.PersonRate, c.PersonBurst = 100000, 100000
	}})
	signedIn := env.Login(t, "lead")
	signedOut := env.Client()
	origin := env.Origin()
	rnd := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 3+rnd.IntN(10))
		for i := range b {
			b[i] = letters[rnd.IntN(len(letters))]
		}
		return string(b)
	}
	madeUp := func() string { return "X" + strings.ToUpper(word()) }

	// Each kind of request: which paths, with which methods.
	type kind struct {
		path    func() string
		methods []string // "" = a made-up method
	}
	kinds := []kind{
		{func() string { return "/" + word() + "/" + word() }, []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", ""}},
		{func() string { return env.URL[len(origin):] + "/" + word() + "/" + word() }, []string{"GET", "HEAD", "POST", "PATCH", ""}},
		{func() string { return env.URL[len(origin):] + "/endusers/" + word() + "/" + word() + "/x" }, []string{"GET", "POST", ""}},
		{func() string { return env.URL[len(origin):] + "/static/" + word() }, []string{"GET", "HEAD", ""}},
		{func() string { return env.URL[len(origin):] + "/endusers" }, []string{"PUT", "DELETE", "TRACE", ""}},
		{func() string { return env.URL[len(origin):] + "/login" }, []string{"PUT", ""}},
	}
	send := func(c *http.Client, method, path string) {
		t.Helper()
		if method == "" {
			method = madeUp()
		}
		req, err := http.NewRequestWithContext(t.Context(), method, origin+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
	}
	series := func() (int, string) {
		t.Helper()
		_, body := env.Get(t, signedOut, "/metrics")
		return len(requestSeries.FindAllString(body, -1)), body
	}

	// A first pass over every kind, method and client (and /metrics).
	series()
	for _, c := range []*http.Client{signedIn, signedOut} {
		for _, k := range kinds {
			for _, m := range k.methods {
				send(c, m, k.path())
			}
		}
	}
	before, _ := series()

	for range 1000 {
		c := signedOut
		if rnd.IntN(2) == 0 {
			c = signedIn
		}
		k := kinds[rnd.IntN(len(kinds))]
		send(c, k.methods[rnd.IntN(len(k.methods))], k.path())
	}
	after, body := series()
	if after != before {
		t.Errorf("got %d request series after 1,000 more requests, want %d as before", after, before)
	}
	known := map[string]bool{"unmatched": true}
	for _, rt := range env.Server.Routes() {
		known[rt.Pattern] = true
	}
	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "other": true}
	for _, m := range requestSeries.FindAllStringSubmatch(body, -1) {
		labels := m[1]
		if mm := methodLabel.FindStringSubmatch(labels); mm == nil || !methods[mm[1]] {
			t.Errorf("series {%s}: method not GET, HEAD, POST or other", labels)
		}
		if rm := routeLabel.FindStringSubmatch(labels); rm == nil || !known[rm[1]] {
			t.Errorf("series {%s}: route not a registered pattern or unmatched", labels)
		}
	}
	if t.Failed() {
		t.Logf("%d series, e.g.:\n%s", after, strings.Join(firstN(requestSeries.FindAllString(body, -1), 20), "\n"))
	}
	if before < 4 {
		t.Errorf("only %d request series; the first pass was not counted", before)
	}
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
