package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdpinput "github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserContactLinks: on a profile and in the customer list, emails
// are mailto: links and phone numbers tel: links shown in international
// format; copying a shown number gives its E.164 form; the Dixa ID is text
// selected whole with one click and has a copy button that copies it and
// announces "Copied". Without JavaScript the button stays hidden and the ID
// is plain text.
func TestBrowserContactLinks(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	id := dixasim.DemoBusyUserID
	u, err := env.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	intl, e164, ok := views.PhoneFormats(u.PhoneNumber)
	if !ok || intl == e164 {
		t.Fatalf("the busy customer's phone %q has no international format", u.PhoneNumber)
	}

	t.Run("without JavaScript", func(t *testing.T) {
		resp, body := env.Get(t, env.Login(t, "viewer"), "/endusers/"+id)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Find(`[data-testid="profile-id"]`).Text(); got != id {
			t.Errorf("the Dixa ID shows as %q, want %q", got, id)
		}
		b := d.Find(`button[data-copy]`)
		if _, hidden := b.Attr("hidden"); b.Length() != 1 || !hidden || b.AttrOr("data-copy", "") != id {
			t.Errorf("copy button: %d found, hidden %v, copies %q; want one, hidden until the script runs", b.Length(), hidden, b.AttrOr("data-copy", ""))
		}
	})

	browser := webtest.Browser(t)
	ctx := uiPerson(t, browser, env, "Agent Contact", "agent")
	bctx := chromedp.FromContext(ctx).BrowserContextID
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted,
			Origin: env.Origin(), BrowserContextID: bctx,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	type link struct{ Href, Text, E164 string }
	const links = `[...document.querySelectorAll(SEL)].map(a => ({Href: a.getAttribute("href"), Text: a.textContent.trim(), E164: a.dataset.e164 || ""}))`
	wantTel := link{Href: "tel:" + e164, Text: intl, E164: e164}

	t.Run("profile", func(t *testing.T) {
		euRun(t, ctx, "open", chromedp.Steps(
			chromedp.Navigate(env.URL+"/endusers/"+id),
			chromedp.WaitVisible(chromedp.CSS(`button[data-copy]`)),
		))
		mails := euRun(t, ctx, "emails", chromedp.Evaluate[[]link](strings.Replace(links, "SEL", `"[data-testid=props] a[href^='mailto:']"`, 1)))
		want := append([]string{u.Email}, u.AdditionalEmails...)
		if len(mails) != len(want) {
			t.Errorf("%d mailto: links, want %d (%v): %v", len(mails), len(want), want, mails)
		}
		for i := range min(len(mails), len(want)) {
			if mails[i] != (link{Href: "mailto:" + want[i], Text: want[i]}) {
				t.Errorf("email link %d: %+v, want %s", i, mails[i], want[i])
			}
		}
		tels := euRun(t, ctx, "phones", chromedp.Evaluate[[]link](strings.Replace(links, "SEL", `"[data-field=phoneNumber] a"`, 1)))
		if len(tels) != 1 || tels[0] != wantTel {
			t.Errorf("phone link %+v, want %+v", tels, wantTel)
		}
		if n := euRun(t, ctx, "additional phones", chromedp.Evaluate[int](`document.querySelectorAll("[data-field=additionalPhoneNumbers] a[href^='tel:+']").length`)); n != len(u.AdditionalPhoneNumbers) {
			t.Errorf("%d additional phone links, want %d", n, len(u.AdditionalPhoneNumbers))
		}

		// Select the shown number and copy it, as a person would.
		euRun(t, ctx, "copy the phone number", chromedp.Steps(chromedp.Evaluate[chromedp.Void](`(() => {
			const r = document.createRange();
			r.selectNodeContents(document.querySelector("[data-field=phoneNumber] a"));
			getSelection().removeAllRanges();
			getSelection().addRange(r);
		})()`), chromedp.KeyEvent("c", chromedp.KeyModifiers(chromedp.ModifierCtrl), func(p *cdpinput.DispatchKeyEventParams) {
			p.Commands = []string{"copy"}
		})))
		if got := euRun(t, ctx, "clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)); got != e164 {
			t.Errorf("copying the shown number %q gave %q, want %q", intl, got, e164)
		}

		// The ID is selected whole with one click.
		if got := euRun(t, ctx, "user-select", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("[data-testid=profile-id]")).userSelect`)); got != "all" {
			t.Errorf("the Dixa ID has user-select %q, want all", got)
		}
		euRun(t, ctx, "copy the id", chromedp.Steps(
			chromedp.Evaluate[chromedp.Void](`getSelection().removeAllRanges()`),
			chromedp.Click(chromedp.CSS(`button[data-copy]`)),
		))
		status := uiWait(t, ctx, "announcement", `document.getElementById("status").textContent`)
		if status != "Copied" {
			t.Errorf("the status region says %q, want Copied", status)
		}
		if got := euRun(t, ctx, "clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)); got != id {
			t.Errorf("the copy button copied %q, want %q", got, id)
		}
		if got := euRun(t, ctx, "button", chromedp.Text(chromedp.CSS(`button[data-copy]`))); got != "Copied" {
			t.Errorf("the button says %q right after copying", got)
		}
		uiShot(t, ctx, "profile-contact-links", false)
		uiWait(t, ctx, "button text back", `document.querySelector("button[data-copy]").textContent === "Copy" ? "yes" : ""`)
	})

	t.Run("list", func(t *testing.T) {
		euRun(t, ctx, "search", chromedp.Steps(
			chromedp.Navigate(env.URL+"/endusers?q="+u.Email),
			chromedp.WaitVisible(chromedp.CSS(`tr[data-id="`+id+`"]`)),
		))
		row := `tr[data-id="` + id + `"] `
		mails := euRun(t, ctx, "email", chromedp.Evaluate[[]link](strings.Replace(links, "SEL", `'`+row+`a[href^="mailto:"]'`, 1)))
		if len(mails) != 1 || mails[0] != (link{Href: "mailto:" + u.Email, Text: u.Email}) {
			t.Errorf("email in the list: %+v", mails)
		}
		tels := euRun(t, ctx, "phone", chromedp.Evaluate[[]link](strings.Replace(links, "SEL", `'`+row+`a[href^="tel:"]'`, 1)))
		if len(tels) != 1 || tels[0] != wantTel {
			t.Errorf("phone in the list: %+v, want %+v", tels, wantTel)
		}
	})
}
