package web_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserSearchHistory: typing in the search box on the customer list
// does not add a browser-history entry per pause (the address is replaced,
// so a reload shows the same results); a submitted search, a customer
// found by typing a complete identifier and a page link each add one, and
// Back returns to the previous search.
func TestBrowserSearchHistory(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 40}})
	ctx := uiPerson(t, webtest.Browser(t), env, "Agent History", "agent")
	id, ok := env.Sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email != "" })
	if !ok {
		t.Fatal("no customer with an email in the demo data")
	}
	u, err := env.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}

	// Every history update htmx makes is counted, so each step waits for
	// its own update instead of for a while.
	euRun(t, ctx, "open the list", chromedp.Steps(
		chromedp.Navigate(env.URL+"/endusers"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-testid="enduser-row"]`)),
		chromedp.Evaluate[chromedp.Void](`window.__pushed = 0; window.__replaced = 0;
			document.body.addEventListener("htmx:pushedIntoHistory", () => window.__pushed++);
			document.body.addEventListener("htmx:replacedInHistory", () => window.__replaced++);`),
	))
	start := euRun(t, ctx, "history", chromedp.Evaluate[int](`history.length`))
	updates := 0
	// step types keys into the search box (after clearing it when clear is
	// set) and waits for the history update that answers them.
	step := func(t *testing.T, what string, clear bool, keys string) (length, pushed int) {
		t.Helper()
		if clear {
			euRun(t, ctx, "clear", chromedp.Evaluate[chromedp.Void](`document.getElementById("q").value = ""`))
		}
		euRun(t, ctx, what, chromedp.SendKeys(chromedp.ID("q"), keys))
		updates++
		uiWait(t, ctx, what, `window.__pushed + window.__replaced >= `+uiItoa(updates)+` ? "yes" : ""`)
		length = euRun(t, ctx, "history", chromedp.Evaluate[int](`history.length`))
		pushed = euRun(t, ctx, "pushed", chromedp.Evaluate[int](`window.__pushed`))
		return length, pushed
	}
	location := func(t *testing.T) string {
		t.Helper()
		return euRun(t, ctx, "location", chromedp.Location())
	}

	t.Run("typing replaces", func(t *testing.T) {
		for _, keys := range []string{"nobody-1", "23", "-and-more"} {
			if n, pushed := step(t, "type "+keys, false, keys); n != start || pushed != 0 {
				t.Errorf("after typing %q: history length %d (was %d), %d entries pushed", keys, n, start, pushed)
			}
		}
		if loc := location(t); !strings.Contains(loc, "q=nobody-123-and-more") {
			t.Errorf("the address does not hold what was typed: %s", loc)
		}
	})

	t.Run("a complete identifier found by typing adds an entry", func(t *testing.T) {
		if n, _ := step(t, "type an email", true, u.Email); n != start+1 {
			t.Errorf("after typing a customer's email: history length %d, want %d", n, start+1)
		}
		euRun(t, ctx, "row", chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="`+id+`"]`)))
		// Enter on the search already in the address adds nothing.
		if n, _ := step(t, "Enter on the same search", false, kb.Enter); n != start+1 {
			t.Errorf("after Enter on the same search: history length %d, want %d", n, start+1)
		}
	})

	t.Run("Enter adds an entry", func(t *testing.T) {
		if n, _ := step(t, "type and press Enter", true, "nobody-else@example.com"+kb.Enter); n != start+2 {
			t.Errorf("after a submitted search: history length %d, want %d", n, start+2)
		}
		euRun(t, ctx, "back", chromedp.Steps(
			chromedp.NavigateBack(),
			chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="`+id+`"]`)),
		))
		if loc := location(t); !strings.Contains(loc, "q="+url.QueryEscape(u.Email)) {
			t.Errorf("Back went to %s, want the search for %s", loc, u.Email)
		}
	})

	t.Run("a page link adds an entry", func(t *testing.T) {
		euRun(t, ctx, "page 1", chromedp.Steps(
			chromedp.Navigate(env.URL+"/endusers?pageLimit=5"),
			chromedp.WaitVisible(chromedp.CSS(`a[rel="next"]`)),
		))
		before := euRun(t, ctx, "history", chromedp.Evaluate[int](`history.length`))
		euRun(t, ctx, "page 2", chromedp.Steps(
			chromedp.Click(chromedp.CSS(`a[rel="next"]`)),
			chromedp.WaitVisible(chromedp.CSS(`a[rel="prev"]`)),
		))
		uiWait(t, ctx, "address of page 2", `location.search.includes("pageKey=") ? "yes" : ""`)
		if n := euRun(t, ctx, "history", chromedp.Evaluate[int](`history.length`)); n != before+1 {
			t.Errorf("after a page link: history length %d, want %d", n, before+1)
		}
	})
}

func uiItoa(i int) string { return strconv.Itoa(i) }
