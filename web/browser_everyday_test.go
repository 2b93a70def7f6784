package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/webtest"
)

// evPerson opens a browser context of its own in the test's browser and
// signs in there through the dev sign-in page as name with role.
func evPerson(t *testing.T, env *webtest.Env, browser context.Context, name, role string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new browser context for %s: %v", name, err)
	}
	euRun(t, ctx, "sign in as "+name, chromedp.Steps(
		chromedp.Navigate(env.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("#name")),
		chromedp.SetValue(chromedp.ID("#name"), name),
		chromedp.Click(chromedp.ID("#role-"+role)),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.ID("#q")),
	))
	return ctx
}

// TestBrowserEverydaySearchApprovalErased, in headless Chromium: an agent
// types a name into the search box and is told that Enter searches
// external IDs, presses Enter and gets the honest empty state without an
// offer to create; the second lead sees whom a request erases and the
// count in the navigation, approves by typing the reference, and once the
// erasure is verified the profile says so at the top and offers no edit.
// Screenshots: empty-search, approval, erased-profile (testoutput/).
func TestBrowserEverydaySearchApprovalErased(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 20, AnonymizeDelay: 200 * time.Millisecond}})
	browser := webtest.Browser(t)

	agent := evPerson(t, env, browser, "Agnes Agent", "agent")
	euRun(t, agent, "type a name", chromedp.Steps(
		chromedp.Navigate(env.URL+"/endusers"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-testid="enduser-row"]`)),
		chromedp.SendKeys(chromedp.ID("q"), "Jane Doe"),
		chromedp.WaitVisible(chromedp.CSS(`#results [data-testid="typing-hint"]`)),
	))
	hint := euRun(t, agent, "hint", chromedp.Text(chromedp.CSS(`[data-testid="typing-hint"]`)))
	if !strings.Contains(hint, "press Enter to search external IDs") {
		t.Errorf("typing hint %q", hint)
	}
	euRun(t, agent, "Enter", chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("q"), kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#results [data-testid="search-explained"]`)),
	))
	if n := euRun(t, agent, "create offers", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=create-from-search]").length`)); n != 0 {
		t.Error("the empty state offers to create a customer from a name")
	}
	webtest.Screenshot(t, agent, "empty-search")

	u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Wanda Whom", Email: "wanda.whom@example.com",
		AdditionalEmails: []string{"w.whom@example.org"}, PhoneNumber: "+4520661122"})
	if err != nil {
		t.Fatal(err)
	}
	rid := evRequest(t, env, env.Login(t, "lead"), u, "DSAR-2026-051")
	lead := evPerson(t, env, browser, "Lars Lead", "lead")
	euRun(t, lead, "approval page", chromedp.Steps(
		chromedp.Navigate(env.URL+"/erasures/"+rid),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="whom-name"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="awaiting-count"]`)),
	))
	if got := euRun(t, lead, "whom", chromedp.Text(chromedp.CSS(`[data-testid="whom"]`))); !strings.Contains(got, "Wanda Whom") || !strings.Contains(got, "w.whom@example.org") {
		t.Errorf("whom %q", got)
	}
	webtest.Screenshot(t, lead, "approval")
	euRun(t, lead, "approve", chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("confirm-reference"), "DSAR-2026-051"),
		chromedp.Click(chromedp.CSS(`[data-testid="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="erasure-status"]`)),
	))
	evWaitState(t, env, rid, erasure.Verified)
	euRun(t, lead, "erased profile", chromedp.Steps(
		chromedp.Navigate(env.URL+"/endusers/"+u.ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="erased-banner"]`)),
	))
	if n := euRun(t, lead, "changes offered", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=edit-link], [data-testid=erasure-link], [data-testid=attrs-form]").length`)); n != 0 {
		t.Errorf("the erased profile offers %d ways to change it", n)
	}
	webtest.Screenshot(t, lead, "erased-profile")
}
