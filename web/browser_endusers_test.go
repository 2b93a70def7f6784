package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserEndUsers walks an agent's day in headless Chromium: search by
// each identifier (live, htmx), page through, open a profile, edit and
// save, run into a conflict and resolve it, create a customer past the
// duplicate warning. Screenshots go to testoutput/.
func TestBrowserEndUsers(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 80}})
	ctx := webtest.Browser(t)
	id, phone := euPhoneUser(t, env)
	u, err := env.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		euRun(t, ctx, what, chromedp.Steps(actions...))
	}
	// typeSearch types q into the search box and waits until the results
	// region says what it searched for.
	typeSearch := func(t *testing.T, q, understood string) {
		t.Helper()
		run(t, "type "+q,
			chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("q").value = ""`))
				return err
			}),
			chromedp.SendKeys(chromedp.ID("q"), q),
		)
		if understood != "" {
			run(t, "results for "+q, chromedp.Poll[chromedp.Void](
				`(document.querySelector("#results [data-testid=search-summary]") || {}).textContent.includes(`+jsString(understood)+`)`,
				chromedp.WithPollingTimeout(5*time.Second)))
		}
	}

	run(t, "sign in",
		chromedp.Navigate(env.URL+"/login"),
		chromedp.SetValue(chromedp.ID("#name"), "Agent Ann"),
		chromedp.Click(chromedp.ID("#role-agent")),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.ID("#q")),
	)

	t.Run("search by each identifier", func(t *testing.T) {
		run(t, "list", chromedp.Navigate(env.URL+"/endusers"), chromedp.WaitVisible(chromedp.CSS(`tr[data-testid="enduser-row"]`)))
		webtest.Screenshot(t, ctx, "endusers-list")
		row := `#results tr[data-id="` + id + `"]`
		searches := [][2]string{
			{u.Email, u.Email},
			{"+45 " + phone[3:5] + " " + phone[5:7] + " " + phone[7:9] + " " + phone[9:], phone},
			{phone[3:], phone},
			{"0045 " + phone[3:], phone},
		}
		if u.ExternalID != "" {
			searches = append(searches, [2]string{u.ExternalID, u.ExternalID})
		}
		for _, q := range searches {
			typeSearch(t, q[0], q[1])
			run(t, "result for "+q[0], chromedp.WaitVisible(chromedp.CSS(row)))
			if n := euRun(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#results tr[data-testid=enduser-row]").length`)); n != 1 {
				t.Errorf("search %q: %d rows, want 1", q[0], n)
			}
		}
		loc := euRun(t, ctx, "url", chromedp.Location())
		if !strings.Contains(loc, "q=") {
			t.Errorf("the search is not in the URL: %s", loc)
		}
		typeSearch(t, "no-such-customer-42", "no-such-customer-42")
		run(t, "empty state", chromedp.WaitVisible(chromedp.CSS(`[data-testid="create-from-search"]`)))
		// A Dixa id opens the profile.
		typeSearch(t, id, "")
		run(t, "id opens the profile", chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-name"]`)))
	})

	t.Run("page through", func(t *testing.T) {
		firstRow := chromedp.AttributeValue(chromedp.CSS(`tr[data-testid="enduser-row"]`), "data-id")
		run(t, "page 1", chromedp.Navigate(env.URL+"/endusers?pageLimit=10"))
		first := euRun(t, ctx, "first row", firstRow).Value
		run(t, "page 2",
			chromedp.Click(chromedp.CSS(`a[rel="next"]`)),
			chromedp.WaitVisible(chromedp.CSS(`a[rel="prev"]`)),
		)
		second := euRun(t, ctx, "first row", firstRow).Value
		loc := euRun(t, ctx, "url", chromedp.Location())
		if first == second || !strings.Contains(loc, "pageKey=") {
			t.Errorf("page 2 starts with %s (page 1: %s), at %s", second, first, loc)
		}
		run(t, "back to page 1",
			chromedp.Click(chromedp.CSS(`a[rel="prev"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(`a[rel="prev"]`)),
		)
	})

	t.Run("open a profile, edit and save", func(t *testing.T) {
		run(t, "profile",
			chromedp.Navigate(env.URL+"/endusers?q="+u.Email),
			chromedp.Click(chromedp.CSS(`tr[data-id="`+id+`"] a`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="conversations"]`)),
		)
		run(t, "busy profile", chromedp.Navigate(env.URL+"/endusers/"+dixasim.DemoBusyUserID), chromedp.WaitVisible(chromedp.CSS(`[data-testid="attrs-form"]`)))
		webtest.Screenshot(t, ctx, "profile")
		run(t, "conversations page 2",
			chromedp.Click(chromedp.CSS(`#conversations a[rel="next"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#conversations a[rel="prev"]`)),
		)
		run(t, "edit",
			chromedp.Navigate(env.URL+"/endusers/"+id),
			chromedp.Click(chromedp.CSS(`[data-testid="edit-link"]`)),
			chromedp.WaitVisible(chromedp.ID("#f-displayName")),
			chromedp.Clear(chromedp.ID("#f-displayName")),
			chromedp.SendKeys(chromedp.ID("#f-displayName"), "Saved From Chromium"),
			chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-notice"]`)),
		)
		name := euRun(t, ctx, "name", chromedp.Text(chromedp.CSS(`[data-testid="profile-name"]`)))
		if got, _ := env.API.GetEndUser(t.Context(), id); got.PhoneNumber != phone || got.Email != u.Email {
			t.Errorf("after saving the name: phone %q email %q, want them unchanged", got.PhoneNumber, got.Email)
		}
		if name != "Saved From Chromium" {
			t.Errorf("name after save: %q", name)
		}
		// An invalid value comes back next to the field, input kept, focus
		// on the summary.
		run(t, "invalid",
			chromedp.Navigate(env.URL+"/endusers/"+id+"/edit"),
			chromedp.WaitVisible(chromedp.ID("#f-email")),
			chromedp.SetValue(chromedp.ID("#f-email"), "not an email"),
			chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
			chromedp.WaitVisible(chromedp.ID("#f-email-error")),
			chromedp.Sleep(100*time.Millisecond),
		)
		val := euRun(t, ctx, "value", chromedp.Value(chromedp.ID("f-email")))
		focused := euRun(t, ctx, "focus", chromedp.Evaluate[string](focusedTestID))
		if val != "not an email" || focused != "error-summary" {
			t.Errorf("after 422: value %q, focus on %q", val, focused)
		}
	})

	t.Run("conflict and resolve", func(t *testing.T) {
		if got, _ := env.API.GetEndUser(t.Context(), id); got.PhoneNumber != phone {
			t.Errorf("phone is %q before the conflict, want %q", got.PhoneNumber, phone)
		}
		run(t, "load the form",
			chromedp.Navigate(env.URL+"/endusers/"+id+"/edit"),
			chromedp.WaitVisible(chromedp.ID("#f-lastName")),
		)
		// Someone else changes the last name after the form was loaded.
		theirs := "Changed By Someone Else"
		if _, err := env.API.PatchEndUser(t.Context(), id, apiclient.PatchEndUserInput{LastName: &theirs}); err != nil {
			t.Fatal(err)
		}
		run(t, "save into the conflict",
			chromedp.SetValue(chromedp.ID("#f-lastName"), "Mine From Chromium"),
			chromedp.SetValue(chromedp.ID("#f-firstName"), "Also Mine"),
			chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-conflict="lastName"]`)),
			chromedp.Sleep(100*time.Millisecond),
		)
		yours := euRun(t, ctx, "yours", chromedp.Text(chromedp.CSS(`[data-conflict="lastName"] [data-testid="yours"]`)))
		focused := euRun(t, ctx, "focus", chromedp.Evaluate[string](focusedTestID))
		if yours != "Mine From Chromium" || focused != "conflict-summary" {
			t.Errorf("conflict shows yours %q, focus on %q", yours, focused)
		}
		if v := euRun(t, ctx, "phone", chromedp.Value(chromedp.ID("f-phoneNumber"))); v != phone {
			t.Errorf("phone field shows %q in the conflict form, want %q", v, phone)
		}
		webtest.Screenshot(t, ctx, "edit-conflict")
		run(t, "keep mine",
			chromedp.Click(chromedp.CSS(`[data-conflict="lastName"] [data-testid="keep-mine"]`)),
			chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-notice"]`)),
		)
		got, _ := env.API.GetEndUser(t.Context(), id)
		if got.LastName != "Mine From Chromium" || got.FirstName != "Also Mine" {
			t.Errorf("after resolving: %q %q", got.FirstName, got.LastName)
		}
		// htmx keeps only the current path in sessionStorage; no page
		// snapshot may land in web storage.
		stored := euRun(t, ctx, "web storage", chromedp.Evaluate[string](`JSON.stringify(Object.keys(localStorage).concat(Object.keys(sessionStorage)).filter(k => k !== "htmx-current-path-for-history"))`))
		if stored != "[]" {
			t.Errorf("web storage holds %s after visiting customers", stored)
		}
	})

	t.Run("create past the duplicate warning", func(t *testing.T) {
		other, _ := env.API.GetEndUser(t.Context(), dixasim.DemoBusyUserID)
		if other.ExternalID == "" {
			t.Skip("the busy demo user has no external id")
		}
		run(t, "duplicate warning",
			chromedp.Navigate(env.URL+"/endusers/new?externalId="+url.QueryEscape(other.ExternalID)),
			chromedp.WaitVisible(chromedp.ID("#f-displayName")),
			chromedp.SendKeys(chromedp.ID("#f-displayName"), "Twin Customer"),
			chromedp.SendKeys(chromedp.ID("#f-email"), "twin-customer@example.com"),
			chromedp.Click(chromedp.CSS(`[data-testid="create"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="duplicate"]`)),
		)
		webtest.Screenshot(t, ctx, "create-duplicate")
		run(t, "create anyway",
			chromedp.Click(chromedp.CSS(`[data-testid="create-anyway"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-notice"]`)),
		)
		loc := euRun(t, ctx, "url", chromedp.Location())
		if !strings.Contains(loc, "saved=created") || strings.Contains(loc, other.ID) {
			t.Errorf("after create: %s", loc)
		}
	})
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const focusedTestID = `document.activeElement && document.activeElement.getAttribute("data-testid") || ""`

// euRun runs one browser action with a time limit and fails the test with
// where the browser was.
func euRun[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		t.Fatalf("%s: %v\nat %s\n%.2000s", what, err, loc, html)
	}
	return v
}
