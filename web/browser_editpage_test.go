package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserEditPage: the edit form puts the cursor in its first field;
// leaving it untouched does not ask, leaving it with a change asks first
// (beforeunload) and staying keeps the change; saving does not ask, and a
// save that comes back refused (422) asks again on leaving.
func TestBrowserEditPage(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	ctx := uiPerson(t, webtest.Browser(t), env, "Agent Edit", "agent")
	id, ok := env.Sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email != "" && u.DisplayName != "" })
	if !ok {
		t.Fatal("no customer with an email and a name in the demo data")
	}
	dialogs := make(chan string, 8)
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- string(e.Type):
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	noDialog := func(t *testing.T, when string) {
		t.Helper()
		select {
		case d := <-dialogs:
			t.Errorf("%s: a %s dialog opened", when, d)
		default:
		}
	}
	edit := env.URL + "/endusers/" + id + "/edit"
	open := func(t *testing.T) {
		t.Helper()
		euRun(t, ctx, "open the form", chromedp.Steps(
			chromedp.Navigate(edit),
			chromedp.WaitVisible(chromedp.ID("#f-displayName")),
		))
	}
	cancel := chromedp.Click(chromedp.CSS(`#profile-form .actions a`))
	// leave clicks Cancel, expects the page to ask, answers "stay", and
	// returns the field's value afterwards.
	leaveAndStay := func(t *testing.T) string {
		t.Helper()
		clicked := make(chan error, 1)
		go func() {
			cctx, stop := context.WithTimeout(ctx, 15*time.Second)
			defer stop()
			_, err := chromedp.Run(cctx, cancel)
			clicked <- err
		}()
		select {
		case d := <-dialogs:
			if d != string(page.DialogTypeBeforeunload) {
				t.Errorf("leaving opened a %s dialog, want beforeunload", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("leaving the form with a change did not ask")
		}
		euRun(t, ctx, "stay", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			return err
		}))
		if err := <-clicked; err != nil {
			t.Fatalf("click Cancel: %v", err)
		}
		if loc := euRun(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/edit") {
			t.Fatalf("after choosing to stay the browser is at %s", loc)
		}
		return euRun(t, ctx, "value", chromedp.Value(chromedp.ID("f-displayName")))
	}

	t.Run("cursor in the first field", func(t *testing.T) {
		open(t)
		got := euRun(t, ctx, "focus", chromedp.Evaluate[string](`(() => {
			const first = document.querySelector("#profile-form .field input, #profile-form .field textarea, #profile-form .field select");
			const a = document.activeElement;
			return (a && a.id) + (a === first ? "" : " (not the first field, " + first.id + ")");
		})()`))
		if got != "f-displayName" {
			t.Errorf("focus on %q, want the first field f-displayName", got)
		}
	})

	t.Run("untouched: leaving does not ask", func(t *testing.T) {
		open(t)
		euRun(t, ctx, "cancel", chromedp.Steps(cancel, chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-name"]`))))
		noDialog(t, "leaving an untouched form")
	})

	t.Run("changed: leaving asks, staying keeps the change", func(t *testing.T) {
		open(t)
		euRun(t, ctx, "type", chromedp.SendKeys(chromedp.ID("f-displayName"), " Changed"))
		if v := leaveAndStay(t); !strings.Contains(v, " Changed") {
			t.Errorf("after staying the field holds %q", v)
		}
	})

	t.Run("saving does not ask", func(t *testing.T) {
		euRun(t, ctx, "save", chromedp.Steps(
			chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-notice"]`)),
		))
		noDialog(t, "saving")
	})

	t.Run("refused save: leaving asks again", func(t *testing.T) {
		open(t)
		euRun(t, ctx, "invalid save", chromedp.Steps(
			chromedp.SendKeys(chromedp.ID("f-displayName"), " Again"),
			chromedp.SetValue(chromedp.ID("#f-email"), "not an email"),
			chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
			chromedp.WaitVisible(chromedp.ID("#f-email-error")),
		))
		noDialog(t, "a refused save")
		if v := leaveAndStay(t); !strings.HasSuffix(v, " Again") {
			t.Errorf("after staying the field holds %q", v)
		}
	})
}
