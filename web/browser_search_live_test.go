package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserSearchLiveTyping types into the search box one character at
// a time, waiting after each for the as-you-type request it triggers to
// be answered, and counts what reached Dixa: a whole email address costs
// one call, a term that is not complete costs none and asks for Enter,
// and Enter searches it.
func TestBrowserSearchLiveTyping(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 40}})
	ctx := webtest.Browser(t)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		euRun(t, ctx, what, chromedp.Steps(actions...))
	}
	run("sign in",
		chromedp.Navigate(env.URL+"/login"),
		chromedp.SetValue(chromedp.ID("#name"), "Typing Tess"),
		chromedp.Click(chromedp.ID("#role-agent")),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-testid="enduser-row"]`)),
		chromedp.Evaluate[chromedp.Void](`window.answers = 0; document.body.addEventListener("htmx:afterRequest", function (e) { if (e.detail.elt.matches("form.search")) window.answers++; })`),
	)
	answered := 0
	typeSlowly := func(term string) int {
		t.Helper()
		run("clear", chromedp.Evaluate[chromedp.Void](`document.getElementById("q").value = ""`))
		before := env.Sim.Stats().Total.Requests
		for _, ch := range term {
			answered++
			run("type "+string(ch),
				chromedp.SendKeys(chromedp.ID("q"), string(ch)),
				chromedp.Poll[chromedp.Void](`window.answers >= `+strconv.Itoa(answered)),
			)
		}
		return env.Sim.Stats().Total.Requests - before
	}
	text := func(sel string) string {
		t.Helper()
		return euRun(t, ctx, "read "+sel, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`) || {}).textContent || ""`))
	}

	if n := typeSlowly("alice@brown.com"); n > 1 {
		t.Errorf("typing alice@brown.com made %d upstream calls, want at most 1", n)
	}
	if s := text(`[data-testid="search-summary"]`); !strings.Contains(s, "alice@brown.com") {
		t.Errorf("the whole address was not searched: %q", s)
	}
	if n := typeSlowly("CUST-1234"); n != 0 {
		t.Errorf("typing an external ID made %d upstream calls, want 0", n)
	}
	if s := text(`[data-testid="typing-hint"]`); !strings.Contains(s, "press Enter to search external IDs") {
		t.Errorf("no hint to press Enter: %q", s)
	}
	before := env.Sim.Stats().Total.Requests
	answered++
	run("Enter",
		chromedp.SendKeys(chromedp.ID("q"), "\r"),
		chromedp.Poll[chromedp.Void](`window.answers >= `+strconv.Itoa(answered)),
	)
	if n := env.Sim.Stats().Total.Requests - before; n != 1 {
		t.Errorf("Enter made %d upstream calls, want 1", n)
	}
	if s := text(`[data-testid="search-summary"]`); !strings.Contains(s, "CUST-1234") {
		t.Errorf("Enter did not search the external ID: %q", s)
	}
}
