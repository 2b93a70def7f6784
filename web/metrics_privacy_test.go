package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

var routeLabel = regexp.MustCompile(`route="([^"]*)"`)

// /metrics is served without sign-in: it must hold no personal data and
// no values from URLs — the route label is always a registered pattern
// (console) or a templated Dixa route (upstream), whatever was requested.
func TestMetricsHoldNoPersonalData(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 30}, Config: func(c *web.Config) {
		c.BasePath = "/support/console"
		c.PersonRate, c.PersonBurst = 1000, 1000
	}})
	lead := env.Login(t, "lead")
	u, err := env.API.GetEndUser(t.Context(), dixasim.DemoBusyUserID)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{u.Email, u.ID, u.PhoneNumber, "canary.person@example.com", "secret-path-segment", "+4520000001"}
	for _, p := range []string{
		"/endusers?q=" + url.QueryEscape(u.Email),
		"/endusers?q=canary.person%40example.com",
		"/endusers?q=" + url.QueryEscape("+4520000001"),
		"/endusers/" + u.ID,
		"/endusers/" + u.ID + "/edit",
		"/endusers/" + u.ID + "/conversations",
		"/endusers/" + u.ID + "/erasure",
		"/endusers/canary.person@example.com",
		"/endusers/" + u.ID + "/secret-path-segment",
		"/secret-path-segment/canary.person@example.com",
		"/static/secret-path-segment",
		"/endusers/export.csv?q=" + url.QueryEscape(u.Email),
	} {
		env.Get(t, lead, p)
		env.Get(t, env.Client(), p) // signed out
	}
	env.PostForm(t, lead, "/endusers/"+u.ID, url.Values{"displayName": {"canary.person@example.com"}})
	req, _ := http.NewRequestWithContext(t.Context(), "TRACE", env.URL+"/secret-path-segment", nil)
	env.Do(t, lead, req)

	resp, body := env.Get(t, env.Client(), "/metrics")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "console_http_request_duration_seconds") || !strings.Contains(body, "console_upstream_request_duration_seconds") {
		t.Fatalf("/metrics: %d\n%.500s", resp.StatusCode, body)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(body, s) {
			t.Errorf("/metrics contains %q", s)
		}
	}
	known := map[string]bool{"unmatched": true, env.Cfg.BasePath + "/*": true} // not found: the mount's pattern
	for _, rt := range env.Server.Routes() {
		known[rt.Pattern] = true
	}
	lines := 0
	for line := range strings.SplitSeq(body, "\n") {
		m := routeLabel.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		lines++
		r := m[1]
		if strings.HasPrefix(line, "console_upstream_") {
			// A templated Dixa route: ids only as {placeholders}.
			for seg := range strings.SplitSeq(r, "/") {
				if seg != "" && !strings.HasPrefix(seg, "{") && strings.ContainsAny(seg, "0123456789@+.") {
					t.Errorf("upstream route label %q carries a value", r)
				}
			}
			continue
		}
		if !known[r] {
			t.Errorf("console route label %q is not a registered pattern", r)
		}
	}
	if lines == 0 {
		t.Error("no route labels in /metrics")
	}
}
