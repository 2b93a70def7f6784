package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

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
				`((document.querySelector("#results [data-testid=search-summary]") || {}).textContent || "").includes(`+jsString(understood)+`)`,
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
			// An external ID is searched when submitted (Enter), not while typed.
			searches = append(searches, [2]string{u.ExternalID + "\r", u.ExternalID})
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
		// A term that is no email, phone number or Dixa ID is searched as
		// an external ID on Enter, not while typing, and a miss is not
		// offered for creating; an explicit external ID is.
		typeSearch(t, "no-such-customer-42", "")
		run(t, "typing hint", chromedp.Poll[chromedp.Void](
			`(document.querySelector("#results [data-testid=typing-hint]") || {textContent: ""}).textContent.includes("press Enter to search external IDs")`,
			chromedp.WithPollingTimeout(5*time.Second)))
		run(t, "Enter searches", chromedp.SendKeys(chromedp.ID("q"), kb.Enter), chromedp.WaitVisible(chromedp.CSS(`#results [data-testid="search-explained"]`)))
		if n := euRun(t, ctx, "create offers", chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=create-from-search]").length`)); n != 0 {
			t.Errorf("an auto term that fell back to external ID is offered for creating")
		}
		run(t, "explicit external ID", chromedp.SetValue(chromedp.ID("by"), "externalId"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("by").dispatchEvent(new Event("change", {bubbles: true}))`),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="create-from-search"]`)))
		run(t, "back to any", chromedp.SetValue(chromedp.ID("by"), "auto"))
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
		run(t, "read a conversation in place",
			chromedp.Click(chromedp.CSS(`tr[data-testid="conv-row"] button[data-disclosure]`)),
			chromedp.WaitVisible(chromedp.CSS(`tr.conv-detail [data-testid="conversation"]`)),
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
		// Put the email back: leaving a form with an unsaved change asks
		// first (beforeunload), which would stop the next navigation.
		run(t, "undo", chromedp.SetValue(chromedp.ID("#f-email"), u.Email))
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

	// Issue 3's quality bar: the conflict provoked by two people, each in a
	// browser context of their own (own cookie jar, own session), not by
	// a write behind the browser's back.
	t.Run("two people in two browser contexts", func(t *testing.T) {
		other, ok := env.Sim.AnyUserID(func(c apiclient.EndUser) bool { return c.ID != id && c.ID != dixasim.DemoBusyUserID })
		if !ok {
			t.Fatal("no second customer in the demo data")
		}
		edit := env.URL + "/endusers/" + other + "/edit"
		ann := euPerson(t, ctx, env, "Agent Anna Two")
		bo := euPerson(t, ctx, env, "Agent Bo Two")
		for _, p := range []struct {
			ctx  context.Context
			name string
		}{{ann, "Agent Anna Two"}, {bo, "Agent Bo Two"}} {
			if who := euRun(t, p.ctx, "whoami", chromedp.Text(chromedp.CSS(`[data-testid="whoami"]`))); !strings.Contains(who, p.name) {
				t.Errorf("signed in as %q in %s's browser context", who, p.name)
			}
		}
		openForm := func(ctx context.Context) {
			t.Helper()
			euRun(t, ctx, "open the form", chromedp.Steps(
				chromedp.Navigate(edit),
				chromedp.WaitVisible(chromedp.ID("#f-lastName")),
				// Cleared by a full page load, kept by an htmx swap.
				chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`),
			))
		}
		save := func(ctx context.Context, what string, fields map[string]string, then chromedp.Action[chromedp.Void]) {
			t.Helper()
			var acts []chromedp.Action[chromedp.Void]
			for _, f := range []string{"firstName", "lastName", "displayName"} {
				if v, ok := fields[f]; ok {
					acts = append(acts, chromedp.SetValue(chromedp.ID("#f-"+f), v))
				}
			}
			acts = append(acts, chromedp.Click(chromedp.CSS(`[data-testid="save"]`)), then)
			euRun(t, ctx, what, chromedp.Steps(acts...))
		}
		savedNotice := chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-notice"]`))

		// Both open the same customer; Anna saves first, Bo runs into her
		// change of the same field.
		openForm(ann)
		openForm(bo)
		save(ann, "Anna saves", map[string]string{"lastName": "Anna's Surname"}, savedNotice)
		if got, _ := env.API.GetEndUser(t.Context(), other); got.LastName != "Anna's Surname" {
			t.Fatalf("after Anna's save Dixa has last name %q", got.LastName)
		}
		save(bo, "Bo saves into the conflict", map[string]string{"lastName": "Bo's Surname", "firstName": "Bo's First"},
			chromedp.Steps(
				chromedp.WaitVisible(chromedp.CSS(`[data-conflict="lastName"]`)),
				chromedp.Sleep(100*time.Millisecond),
			))
		webtest.Screenshot(t, bo, "edit-conflict-two-people")
		if !euRun(t, bo, "same document", chromedp.Evaluate[bool](`window.sameDocument === true`)) {
			t.Error("the conflict was not swapped in by htmx: the page was reloaded")
		}
		yours := euRun(t, bo, "yours", chromedp.Text(chromedp.CSS(`[data-conflict="lastName"] [data-testid="yours"]`)))
		theirs := euRun(t, bo, "theirs", chromedp.Text(chromedp.CSS(`[data-conflict="lastName"] [data-testid="theirs"]`)))
		if yours != "Bo's Surname" || theirs != "Anna's Surname" {
			t.Errorf("Bo's conflict shows yours %q, theirs %q", yours, theirs)
		}
		if n := euRun(t, bo, "conflicts", chromedp.Evaluate[int](`document.querySelectorAll("[data-conflict]").length`)); n != 1 {
			t.Errorf("%d conflicting fields shown, want 1 (lastName)", n)
		}
		if focused := euRun(t, bo, "focus", chromedp.Evaluate[string](focusedTestID)); focused != "conflict-summary" {
			t.Errorf("focus on %q after the conflict, want the summary", focused)
		}
		last := euRun(t, bo, "last name field", chromedp.Value(chromedp.ID("f-lastName")))
		first := euRun(t, bo, "first name field", chromedp.Value(chromedp.ID("f-firstName")))
		if last != "Bo's Surname" || first != "Bo's First" {
			t.Errorf("Bo's input after the conflict: first %q, last %q", first, last)
		}
		if got, _ := env.API.GetEndUser(t.Context(), other); got.LastName != "Anna's Surname" || got.FirstName == "Bo's First" {
			t.Errorf("the conflicting save wrote: Dixa has %q %q", got.FirstName, got.LastName)
		}
		euRun(t, bo, "Bo keeps his", chromedp.Steps(
			chromedp.Click(chromedp.CSS(`[data-conflict="lastName"] [data-testid="keep-mine"]`)),
			chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
			savedNotice,
		))
		if got, _ := env.API.GetEndUser(t.Context(), other); got.LastName != "Bo's Surname" || got.FirstName != "Bo's First" {
			t.Errorf("after Bo resolved the conflict Dixa has %q %q", got.FirstName, got.LastName)
		}

		// Different fields: both changes survive, and nobody sees a conflict.
		openForm(ann)
		openForm(bo)
		save(ann, "Anna changes the display name", map[string]string{"displayName": "Anna's Display"}, savedNotice)
		save(bo, "Bo changes the first name", map[string]string{"firstName": "Bo's Second First"}, savedNotice)
		got, _ := env.API.GetEndUser(t.Context(), other)
		if got.DisplayName != "Anna's Display" || got.FirstName != "Bo's Second First" || got.LastName != "Bo's Surname" {
			t.Errorf("after two saves of different fields Dixa has display %q, first %q, last %q", got.DisplayName, got.FirstName, got.LastName)
		}
	})

	t.Run("create past the duplicate warning", func(t *testing.T) {
		other, err := env.API.GetEndUser(t.Context(), dixasim.DemoBusyUserID)
		if err != nil || other.ExternalID == "" {
			// The deterministic seed gives the busy demo user an external id;
			// without it the duplicate warning would go untested.
			t.Fatalf("the busy demo user has no external id (%v): the seed changed", err)
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

// euPerson opens a browser context of its own (separate cookie jar and
// storage) in the test's browser and signs in there through the dev sign-in
// page as an agent called name. It first checks that the new context does
// not share the session of another one.
func euPerson(t *testing.T, browser context.Context, env *webtest.Env, name string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab here, not under euRun's time limit.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new browser context for %s: %v", name, err)
	}
	euRun(t, ctx, "sign in as "+name, chromedp.Steps(
		chromedp.Navigate(env.URL+"/endusers"),
		chromedp.WaitVisible(chromedp.ID("#name")), // not signed in: no shared cookies
		chromedp.SetValue(chromedp.ID("#name"), name),
		chromedp.Click(chromedp.ID("#role-agent")),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.ID("#q")),
	))
	return ctx
}
