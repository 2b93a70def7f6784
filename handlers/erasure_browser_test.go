package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// browserLogin signs a browser in with the demo sign-in.
func browserLogin(t *testing.T, env *webtest.Env, ctx context.Context, name, role string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/login"),
		chromedp.WaitVisible(`[data-testid=sign-in]`),
		chromedp.SendKeys(`input[name=name]`, name),
		chromedp.Click(`#role-`+role),
		chromedp.Click(`[data-testid=sign-in]`),
		chromedp.WaitVisible(`[data-testid=whoami]`),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", name, err)
	}
}

// TestErasureInBrowser walks one lead through the request and a second
// lead (another browser, other cookies) through the approval, to the
// verified state and the receipt, with screenshots of each.
func TestErasureInBrowser(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{AnonymizeDelay: 500 * time.Millisecond}})
	u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Bea Browser", Email: "bea.browser@example.com", PhoneNumber: "+4520881122"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Bea B.", Email: "bea.work@example.com", AdditionalEmails: []string{"bea.browser@example.com"}}); err != nil {
		t.Fatal(err)
	}
	first := webtest.Browser(t)
	browserLogin(t, env, first, "Rita Requester", "lead")

	var loc string
	err = chromedp.Do(first,
		chromedp.Navigate(env.URL+"/endusers/"+u.ID+"/erasure"),
		chromedp.WaitVisible(`[data-testid=erasure-form]`),
		chromedp.WaitVisible(`[data-testid=duplicate]`),
	)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	webtest.Screenshot(t, first, "erasure-preview")
	err = chromedp.Do(first,
		chromedp.SendKeys(`#reference`, "DSAR-2026-042"),
		chromedp.SendKeys(`#reason`, "Art. 17(1)(a) GDPR: customer left"),
		chromedp.SendKeys(`#confirm`, "bea.browser@example.com"),
		chromedp.Click(`[data-testid=request-erasure]`),
		chromedp.WaitVisible(`[data-testid=erasure-status][data-state=requested]`),
		chromedp.WaitVisible(`[data-testid=awaiting-other-lead]`),
	)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if loc, err = chromedp.Run(first, chromedp.Location()); err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, first, "erasure-requested")
	if !strings.Contains(loc, "/erasures/") {
		t.Fatalf("after request at %s", loc)
	}

	second := webtest.Browser(t)
	browserLogin(t, env, second, "Anders Approver", "lead")
	err = chromedp.Do(second,
		chromedp.Navigate(loc),
		chromedp.WaitVisible(`[data-testid=approve]`),
		chromedp.WaitVisible(`[data-testid=whom-name]`),
		chromedp.SendKeys(`#approve-comment`, "Checked against the ticket"),
		chromedp.SendKeys(`#confirm-reference`, "DSAR-2026-042"),
		chromedp.Click(`[data-testid=approve]`),
		chromedp.WaitVisible(`[data-testid=erasure-status]`),
	)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	// The page polls itself (htmx) until Dixa has processed and the
	// console has verified.
	sctx, cancel := context.WithTimeout(second, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.WaitVisible(`[data-testid=erasure-status][data-state=verified]`)); err != nil {
		st, _ := chromedp.Run(second, chromedp.AttributeValue(`[data-testid=erasure-status]`, "data-state"))
		t.Fatalf("status page never reached verified (at %+v): %v", st, err)
	}
	webtest.Screenshot(t, second, "erasure-status")
	err = chromedp.Do(second,
		chromedp.Click(`[data-testid=receipt-link]`),
		chromedp.WaitVisible(`[data-testid=receipt]`),
	)
	if err != nil {
		t.Fatalf("receipt: %v", err)
	}
	text, err := chromedp.Run(second, chromedp.Text(`[data-testid=receipt]`))
	if err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, second, "erasure-receipt")
	for _, pii := range []string{"bea.browser", "Bea", "20881122"} {
		if strings.Contains(text, pii) {
			t.Errorf("receipt shows %q", pii)
		}
	}
	if !strings.Contains(text, "Rita Requester") || !strings.Contains(text, "Anders Approver") {
		t.Errorf("receipt does not name both leads:\n%s", text)
	}
}
