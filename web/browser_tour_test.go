package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserTour visits every page of the console as a lead would, in
// headless Chromium, and saves a screenshot of each as
// testoutput/tour-<page>.png for people to look at. Each stop also checks
// what a person would notice first: the page's heading or key element, no
// sideways scrolling of the page, and no "undefined"/"<nil>" leaking into
// the text. It ends with a viewer running into a 403, one page in dark mode
// and one on a 390 px wide phone.
func TestBrowserTour(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 40}})
	subject, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Tove Tour", Email: "tove.tour@example.com", PhoneNumber: "+4520771234"})
	if err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(t.TempDir(), "tour-customers.csv")
	if err := os.WriteFile(csv, []byte("email;firstName;lastName\ntour1@example.com;Ada;Tour\nnot-an-email;Bad;Row\ntour2@example.com;Bo;Tour\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := webtest.Browser(t)

	// stop checks the page the browser is on and takes its screenshot.
	stop := func(t *testing.T, ctx context.Context, name string) {
		t.Helper()
		if bad := euRun(t, ctx, name+": overflow", chromedp.Evaluate[[]string](a11yChecks[0].js)); len(bad) > 0 {
			t.Errorf("%s scrolls sideways: %s", name, strings.Join(bad, "; "))
		}
		text := euRun(t, ctx, name+": text", chromedp.Evaluate[string](`document.body.innerText`))
		for _, junk := range []string{"undefined", "<nil>", "0001-01-01", "%!"} {
			if strings.Contains(text, junk) {
				t.Errorf("%s shows %q", name, junk)
			}
		}
		if title := euRun(t, ctx, name+": title", chromedp.Evaluate[string](`document.title`)); !strings.Contains(title, "·") {
			t.Errorf("%s: title %q does not name the page", name, title)
		}
		webtest.Screenshot(t, ctx, "tour-"+name)
	}
	visit := func(t *testing.T, ctx context.Context, name, path, ready string) {
		t.Helper()
		euRun(t, ctx, "open "+name, chromedp.Steps(
			chromedp.Navigate(env.URL+path),
			chromedp.WaitVisible(chromedp.CSS(ready)),
		))
		stop(t, ctx, name)
	}
	text := func(t *testing.T, ctx context.Context, sel string) string {
		t.Helper()
		return strings.TrimSpace(euRun(t, ctx, "text of "+sel, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`) || {}).textContent || ""`)))
	}
	count := func(t *testing.T, ctx context.Context, sel string) int {
		t.Helper()
		return euRun(t, ctx, "count "+sel, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
	}

	t.Run("login", func(t *testing.T) {
		visit(t, ctx, "login", "/login", `[data-testid="sign-in"]`)
		if n := count(t, ctx, `input[name="role"]`); n != 3 {
			t.Errorf("login offers %d roles, want 3", n)
		}
		if !strings.Contains(text(t, ctx, `[data-testid="demo-notice"]`), "demo") {
			t.Error("the login page does not say it is a demo")
		}
		euRun(t, ctx, "sign in", chromedp.Steps(
			chromedp.SetValue(chromedp.ID("#name"), "Lead Lou Tour"),
			chromedp.Click(chromedp.ID("#role-lead")),
			chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
			chromedp.WaitVisible(chromedp.ID("#q")),
		))
	})

	t.Run("customers", func(t *testing.T) {
		visit(t, ctx, "list", "/endusers", `tr[data-testid="enduser-row"]`)
		if n := count(t, ctx, `tr[data-testid="enduser-row"]`); n < 10 {
			t.Errorf("list shows %d customers", n)
		}
		if cur := text(t, ctx, `header nav a[aria-current="page"]`); cur != "Customers" {
			t.Errorf("current nav entry %q", cur)
		}
		visit(t, ctx, "search-empty", "/endusers?q=nobody-here%40example.com", `[data-testid="empty"]`)
		if s := text(t, ctx, `[data-testid="empty"]`); !strings.Contains(s, "nobody-here@example.com") {
			t.Errorf("empty search says %q", s)
		}
		if n := count(t, ctx, `[data-testid="create-from-search"]`); n != 1 {
			t.Error("an empty search offers no way to create the customer")
		}
	})

	t.Run("profiles", func(t *testing.T) {
		visit(t, ctx, "profile-busy", "/endusers/"+dixasim.DemoBusyUserID, `[data-testid="convs-table"]`)
		if n := count(t, ctx, `tr[data-testid="conv-row"]`); n == 0 {
			t.Error("the busy customer shows no conversations")
		}
		if n := count(t, ctx, `[data-testid="attrs-form"] .field`); n == 0 {
			t.Error("no editable custom attribute on the busy profile")
		}
		// A lead can start an erasure from the profile (the erasures page
		// tells them to).
		if n := count(t, ctx, `a[data-testid="erasure-link"][href$="/endusers/`+dixasim.DemoBusyUserID+`/erasure"]`); n != 1 {
			t.Error("the profile offers a lead no way to request an erasure")
		}
		euRun(t, ctx, "read a conversation in place", chromedp.Steps(
			chromedp.Click(chromedp.CSS(`tr[data-testid="conv-row"] button[data-disclosure]`)),
			chromedp.WaitVisible(chromedp.CSS(`tr.conv-detail [data-testid="message"]`)),
		))
		stop(t, ctx, "profile-conversation-open")

		visit(t, ctx, "profile-script", "/endusers/"+dixasim.DemoScriptUserID, `[data-testid="profile-name"]`)
		if name := text(t, ctx, `[data-testid="profile-name"]`); !strings.Contains(name, "<script>") {
			t.Errorf("the markup in the name is not shown as text: %q", name)
		}
		if n := count(t, ctx, `main script`); n != 0 {
			t.Errorf("%d script elements inside main", n)
		}
		visit(t, ctx, "profile-rtl", "/endusers/"+dixasim.DemoQuotesRTLUserID, `[data-testid="profile-name"]`)
		visit(t, ctx, "profile-jsavatar", "/endusers/"+dixasim.DemoJSAvatarUserID, `[data-testid="profile-name"]`)
		if n := count(t, ctx, `img[data-testid="avatar"]`); n != 0 {
			t.Error("a javascript: avatar URL is rendered as an image")
		}
	})

	t.Run("edit and new", func(t *testing.T) {
		euRun(t, ctx, "edit with a bad email", chromedp.Steps(
			chromedp.Navigate(env.URL+"/endusers/"+subject.ID+"/edit"),
			chromedp.WaitVisible(chromedp.ID("#f-email")),
			chromedp.SetValue(chromedp.ID("#f-email"), "not an email"),
			chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
			chromedp.WaitVisible(chromedp.ID("#f-email-error")),
		))
		stop(t, ctx, "edit-422")
		if n := count(t, ctx, `[data-testid="error-summary"] a[href="#f-email"]`); n != 1 {
			t.Error("the error summary does not link to the email field")
		}
		// Put the email back: leaving a form with an unsaved change asks
		// first (beforeunload), which would stop the next navigation.
		euRun(t, ctx, "undo", chromedp.SetValue(chromedp.ID("#f-email"), subject.Email))
		visit(t, ctx, "new", "/endusers/new", `#f-displayName`)
		if cur := text(t, ctx, `header nav a[aria-current="page"]`); cur != "New customer" {
			t.Errorf("current nav entry %q", cur)
		}
	})

	var requestURL string
	t.Run("erasure", func(t *testing.T) {
		visit(t, ctx, "erasure-preview", "/endusers/"+subject.ID+"/erasure", `[data-testid="erasure-form"]`)
		euRun(t, ctx, "request", chromedp.Steps(
			chromedp.SendKeys(chromedp.ID("#reference"), "DSAR-TOUR-1"),
			chromedp.SendKeys(chromedp.ID("#reason"), "Art. 17(1)(a) GDPR: the customer asked"),
			chromedp.SendKeys(chromedp.ID("#confirm"), subject.Email),
			chromedp.Click(chromedp.CSS(`[data-testid="request-erasure"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="erasure-status"][data-state="requested"]`)),
		))
		requestURL = euRun(t, ctx, "url", chromedp.Location())
		stop(t, ctx, "erasure-status")
		if n := count(t, ctx, `[data-testid="awaiting-other-lead"]`); n != 1 {
			t.Error("the requester is not told that another lead must approve")
		}
		visit(t, ctx, "erasures", "/erasures", `tr[data-testid="erasure-row"]`)
		if s := text(t, ctx, `tr[data-testid="erasure-row"]`); !strings.Contains(s, "DSAR-TOUR-1") {
			t.Errorf("erasure row: %q", s)
		}
		visit(t, ctx, "erasure-receipt", strings.TrimPrefix(requestURL, env.URL)+"/receipt", `[data-testid="receipt"]`)
		if s := text(t, ctx, `[data-testid="receipt"]`); !strings.Contains(s, "Lead Lou Tour") || strings.Contains(s, "tove.tour") {
			t.Errorf("receipt does not name the requester, or names the customer:\n%s", s)
		}
		if !euRun(t, ctx, "print button", chromedp.Evaluate[bool](`(() => { const b = document.querySelector("[data-print]"); return !!b && b.offsetParent !== null; })()`)) {
			t.Error("the receipt has no visible Print button")
		}
	})

	t.Run("audit", func(t *testing.T) {
		visit(t, ctx, "audit", "/audit", `tr[data-testid="audit-row"]`)
		if n := count(t, ctx, `tr[data-testid="audit-row"][data-action="erasure.requested"]`); n != 1 {
			t.Errorf("%d erasure.requested entries in the audit log, want 1", n)
		}
	})

	t.Run("imports", func(t *testing.T) {
		euRun(t, ctx, "upload", chromedp.Steps(
			chromedp.Navigate(env.URL+"/imports"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="upload-form"]`)),
			chromedp.SetUploadFiles(chromedp.ID("#file"), []string{csv}),
			chromedp.Click(chromedp.CSS(`[data-testid="upload"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-job"][data-state="ready"]`)),
		))
		stop(t, ctx, "import-job")
		if got := text(t, ctx, `[data-testid="count-invalid"]`); got != "1" {
			t.Errorf("dry run finds %s bad rows, want 1", got)
		}
		visit(t, ctx, "imports", "/imports", `tr[data-testid="import-job-row"]`)
	})

	t.Run("errors", func(t *testing.T) {
		visit(t, ctx, "404-path", "/no/such/page", `[data-testid="error"][data-status="404"]`)
		if n := count(t, ctx, `[data-testid="error"] a[href$="/endusers"]`); n != 1 {
			t.Error("the 404 page offers no way back")
		}
		visit(t, ctx, "404-customer", "/endusers/00000000-0000-4000-8000-00000000dead", `[data-testid="error"][data-status="404"]`)
		viewer, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		defer cancel()
		if err := chromedp.Do(viewer); err != nil {
			t.Fatal(err)
		}
		euRun(t, viewer, "sign in as viewer", chromedp.Steps(
			chromedp.Navigate(env.URL+"/login"),
			chromedp.SetValue(chromedp.ID("#name"), "Viewer Vic Tour"),
			chromedp.Click(chromedp.ID("#role-viewer")),
			chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
			chromedp.WaitVisible(chromedp.ID("#q")),
		))
		visit(t, viewer, "403", "/endusers/new", `[data-testid="error"][data-status="403"]`)
		if got := text(t, viewer, `[data-testid="role-needed"]`); got != "agent" {
			t.Errorf("403 names role %q, want agent", got)
		}
		euRun(t, viewer, "viewer's profile", chromedp.Steps(
			chromedp.Navigate(env.URL+"/endusers/"+subject.ID),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-name"]`)),
		))
		if n := count(t, viewer, `[data-testid="erasure-link"], [data-testid="edit-link"]`); n != 0 {
			t.Errorf("a viewer is offered %d edit or erasure links", n)
		}
	})

	t.Run("dark and narrow", func(t *testing.T) {
		emulate := func(t *testing.T, w, h int64, scheme string) {
			t.Helper()
			euRun(t, ctx, "emulate", chromedp.Steps(
				chromedp.EmulateViewport(w, h),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
						Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
					})
					return err
				}),
			))
		}
		emulate(t, 1280, 900, "dark")
		visit(t, ctx, "dark-profile", "/endusers/"+dixasim.DemoBusyUserID, `[data-testid="convs-table"]`)
		if bg := euRun(t, ctx, "background", chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`)); bg != "rgb(15, 18, 22)" {
			t.Errorf("dark mode body background %s", bg)
		}
		emulate(t, 390, 844, "light")
		visit(t, ctx, "narrow-profile", "/endusers/"+dixasim.DemoBusyUserID, `[data-testid="convs-table"]`)
		visit(t, ctx, "narrow-erasure", strings.TrimPrefix(requestURL, env.URL), `[data-testid="erasure-status"]`)
		visit(t, ctx, "narrow-audit", "/audit", `tr[data-testid="audit-row"]`)
	})
}
