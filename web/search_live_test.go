package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// typeSearch sends the as-you-type request for every prefix of term, the
// way the search box does after each pause, and returns the upstream calls
// they made and the last answer.
func typeSearch(t *testing.T, env *webtest.Env, c *http.Client, term string) (int, string) {
	t.Helper()
	before := env.Sim.Stats().Total.Requests
	var body string
	for i := 1; i <= len(term); i++ {
		var resp *http.Response
		resp, body = env.Get(t, c, "/endusers?by=auto&q="+url.QueryEscape(term[:i]), "HX-Request", "true", "X-Search-Typing", "1")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: status %d\n%s", term[:i], resp.StatusCode, body)
		}
	}
	return env.Sim.Stats().Total.Requests - before, body
}

func TestSearchLiveCompleteEmailCostsOneCall(t *testing.T) {
	env := euEnv(t, liveOpts())
	c := env.Login(t, "viewer")
	n, body := typeSearch(t, env, c, "alice@brown.com")
	if n > 1 {
		t.Errorf("typing alice@brown.com made %d upstream calls, want at most 1", n)
	}
	if !strings.Contains(body, `data-testid="search-summary"`) {
		t.Errorf("the complete address was not searched:\n%s", body)
	}
}

func TestSearchLiveIncompleteTermCostsNothing(t *testing.T) {
	env := euEnv(t, liveOpts())
	c := env.Login(t, "viewer")
	for _, term := range []string{"CUST-000123", "alice@brown", "+45 20 1"} {
		n, body := typeSearch(t, env, c, term)
		if n != 0 {
			t.Errorf("typing %q made %d upstream calls, want 0", term, n)
		}
		if !strings.Contains(body, "press Enter") {
			t.Errorf("typing %q: no hint to press Enter:\n%s", term, body)
		}
	}
	t.Run("Enter searches", func(t *testing.T) {
		before := env.Sim.Stats().Total.Requests
		resp, body := env.Get(t, c, "/endusers?by=auto&q=CUST-000123", "HX-Request", "true")
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "press Enter") {
			t.Fatalf("status %d, want the results\n%s", resp.StatusCode, body)
		}
		if n := env.Sim.Stats().Total.Requests - before; n != 1 {
			t.Errorf("a submitted external ID made %d upstream calls, want 1", n)
		}
	})
	t.Run("a whole Dixa id opens the profile", func(t *testing.T) {
		id := "3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a"
		resp, _ := env.Get(t, c, "/endusers?q="+id, "HX-Request", "true", "X-Search-Typing", "1")
		if resp.StatusCode != http.StatusNoContent || !strings.HasSuffix(resp.Header.Get("HX-Redirect"), "/endusers/"+id) {
			t.Errorf("got %d to %q, want the profile", resp.StatusCode, resp.Header.Get("HX-Redirect"))
		}
	})
}

// liveOpts lifts the per-person request limit: the tests type faster than
// a person.
func liveOpts() webtest.Options {
	return webtest.Options{Config: func(c *web.Config) { c.PersonRate, c.PersonBurst = 1000, 1000 }}
}
