package web_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// hostileTrap runs before any script of every page: should anything from
// a message call alert, confirm or prompt, the flag says so (and no dialog
// blocks the test).
const hostileTrap = `window.__hostileRan = false;
["alert", "confirm", "prompt", "print"].forEach(function (n) { window[n] = function () { window.__hostileRan = true; }; });`

// inertChecks are what must hold on a page showing hostile content: each
// returns the offending things, or nothing.
var inertChecks = []struct{ name, js string }{
	{"a script ran", `window.__hostileRan ? ["window.__hostileRan"] : []`},
	{"markup from the content", `[...document.querySelectorAll("[data-testid=conversation]")].flatMap(c => [...c.querySelectorAll("script, style, iframe, form, img, svg, math, object, embed, link, meta, base, input")]).map(e => e.outerHTML.slice(0, 80))`},
	{"script links", `[...document.querySelectorAll("a[href]")].filter(a => /^(javascript|data|vbscript):$/i.test(a.protocol)).map(a => a.getAttribute("href"))`},
	{"links out of the console from the content", `[...document.querySelectorAll("[data-testid=conversation] a[href]")].filter(a => !/^(mailto|tel):$/i.test(a.protocol) && a.host !== location.host && !a.matches("[data-testid=dixa-link]")).map(a => a.getAttribute("href"))`},
	{"stylesheets other than the console's", `[...document.styleSheets].filter(s => !s.href || !s.href.includes("/static/")).map(s => String(s.href))`},
	{"event handler attributes", `[...document.querySelectorAll("[data-testid=conversation] *")].flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name) || a.name === "style").map(a => e.tagName + " " + a.name))`},
	// The page's own content; the header is the layout's.
	{"sideways scrolling", `[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(-5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`},
}

// TestBrowserConversations reads the hostile demo email in Chromium, on
// its own page and opened in place under its row on the profile with the
// keyboard: every script tag, javascript: link, stylesheet, 1 MB body and
// bidirectional override is shown as inert text, no dialog opens, no
// request leaves the console. Then the huge message, at 320 px wide and in
// dark mode. Screenshots go to testoutput/conv-*.png.
func TestBrowserConversations(t *testing.T) {
	b := newConvBrowser(t)
	t.Run("hostile email on its page", b.hostilePage)
	t.Run("opened in place with the keyboard", b.inPlace)
	t.Run("huge message at 320 px", b.narrow)
	t.Run("dark", b.dark)
}

// convBrowser is a signed-in viewer's browser that records dialogs and
// requests to other hosts.
type convBrowser struct {
	env     *webtest.Env
	ctx     context.Context
	hid     string // the hostile email's id
	dialogs atomic.Int64
	mu      sync.Mutex
	away    []string
}

func newConvBrowser(t *testing.T) *convBrowser {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 80}})
	b := &convBrowser{env: env, ctx: webtest.Browser(t)}
	hostile, _ := env.Sim.DemoConversationID(dixasim.DemoHostileEmail)
	b.hid = strconv.FormatInt(hostile, 10)
	console, _ := url.Parse(env.URL)
	// The profile's own picture (a customer's avatar URL, shown by design)
	// is the one thing loaded from elsewhere.
	subject, err := env.API.GetEndUser(t.Context(), dixasim.DemoScriptUserID)
	if err != nil {
		t.Fatal(err)
	}
	avatar, _ := url.Parse(subject.AvatarURL)
	chromedp.Listen(b.ctx, func(ev any) {
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.dialogs.Add(1)
		case *network.EventRequestWillBeSent:
			if u, err := url.Parse(e.Request.URL); err == nil && u.Host != console.Host && u.Scheme != "data" && (avatar == nil || u.Host != avatar.Host) {
				b.mu.Lock()
				b.away = append(b.away, e.Request.URL)
				b.mu.Unlock()
			}
		}
	})
	euRun(t, b.ctx, "trap and sign in", chromedp.Steps(
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: hostileTrap})
			return err
		}),
		chromedp.Navigate(env.URL+"/login"),
		chromedp.SetValue(chromedp.ID("#name"), "Viewer Vera"),
		chromedp.Click(chromedp.ID("#role-viewer")),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.ID("#q")),
	))
	return b
}

// inert checks that nothing of the content on the page is live.
func (b *convBrowser) inert(t *testing.T, where string) {
	t.Helper()
	for _, c := range inertChecks {
		if bad := euRun(t, b.ctx, c.name, chromedp.Evaluate[[]string](c.js)); len(bad) > 0 {
			t.Errorf("%s: %s: %v", where, c.name, bad)
		}
	}
	if n := b.dialogs.Load(); n != 0 {
		t.Errorf("%s: %d dialogs opened", where, n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.away) > 0 {
		t.Errorf("%s: requests left the console: %v", where, b.away)
	}
}

// open shows the hostile email's page and waits for sel.
func (b *convBrowser) open(t *testing.T, sel string) {
	t.Helper()
	euRun(t, b.ctx, "open", chromedp.Steps(
		chromedp.Navigate(b.env.URL+"/endusers/"+dixasim.DemoScriptUserID+"/conversations/"+b.hid),
		chromedp.WaitVisible(chromedp.CSS(sel)),
	))
}

func (b *convBrowser) hostilePage(t *testing.T) {
	b.open(t, `[data-testid="conversation"]`)
	b.inert(t, "page")
	shown := euRun(t, b.ctx, "text", chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	for _, want := range []string{"<script>alert('text')</script>", "(javascript:alert(document.cookie))", "invoice[RLO]fdp.exe", "<style>body{display:none}</style>"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	webtest.Screenshot(t, b.ctx, "conv-hostile-page")
}

func (b *convBrowser) inPlace(t *testing.T) {
	btn := `tr[data-id="` + b.hid + `"] button[data-disclosure]`
	euRun(t, b.ctx, "profile", chromedp.Steps(
		chromedp.Navigate(b.env.URL+"/endusers/"+dixasim.DemoScriptUserID),
		chromedp.WaitVisible(chromedp.CSS(btn)),
		chromedp.Focus(chromedp.CSS(btn)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#d`+b.hid+` [data-testid="conversation"]`)),
	))
	state := func() string {
		return euRun(t, b.ctx, "state", chromedp.Evaluate[string](`(() => { const b = document.querySelector(`+jsString(btn)+`);
			return b.getAttribute("aria-expanded") + " " + document.getElementById(b.getAttribute("aria-controls")).hidden + " " + (document.activeElement === b); })()`))
	}
	if s := state(); s != "true false true" {
		t.Errorf("after Enter: expanded, hidden, focused = %s; want true false true", s)
	}
	b.inert(t, "panel")
	webtest.Screenshot(t, b.ctx, "conv-hostile-panel")
	before := b.env.Sim.Stats().Total.Requests
	euRun(t, b.ctx, "close", chromedp.KeyEvent(" "))
	if s := state(); s != "false true true" {
		t.Errorf("after Space: %s; want false true true", s)
	}
	euRun(t, b.ctx, "open again", chromedp.KeyEvent("\r"))
	if s := state(); s != "true false true" {
		t.Errorf("after Enter again: %s; want true false true", s)
	}
	if n := b.env.Sim.Stats().Total.Requests - before; n != 0 {
		t.Errorf("opening it again made %d upstream calls, want none", n)
	}
}

func (b *convBrowser) narrow(t *testing.T) {
	euRun(t, b.ctx, "narrow", chromedp.EmulateViewport(320, 640))
	huge, _ := b.env.Sim.DemoConversationID(dixasim.DemoHugeMessage)
	euRun(t, b.ctx, "open", chromedp.Steps(
		chromedp.Navigate(b.env.URL+"/endusers/"+dixasim.DemoBusyUserID+"/conversations/"+strconv.FormatInt(huge, 10)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="show-full"]`)),
	))
	b.inert(t, "huge, cut")
	webtest.Screenshot(t, b.ctx, "conv-huge-320")
	euRun(t, b.ctx, "show the whole message", chromedp.Steps(
		chromedp.Focus(chromedp.CSS(`[data-testid="show-full"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.Poll[chromedp.Void](`document.querySelector("main").innerText.includes("Please help!")`, chromedp.WithPollingTimeout(10*time.Second)),
	))
	b.inert(t, "huge, whole")
	b.open(t, `[data-testid="conversation"]`)
	b.inert(t, "hostile at 320")
	webtest.Screenshot(t, b.ctx, "conv-hostile-320")
}

func (b *convBrowser) dark(t *testing.T) {
	euRun(t, b.ctx, "dark", chromedp.Steps(
		chromedp.EmulateViewport(1280, 900),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
			})
			return err
		}),
	))
	b.open(t, `[data-testid="note"]`)
	colours := euRun(t, b.ctx, "colours", chromedp.Evaluate[[]string](`[document.body, document.querySelector("[data-testid=message]"), document.querySelector("[data-testid=note]")].map(e => getComputedStyle(e).backgroundColor)`))
	if colours[0] != "rgb(15, 18, 22)" || colours[2] == colours[1] {
		t.Errorf("dark mode backgrounds (body, message, note) = %v: want the dark body and notes set apart", colours)
	}
	b.inert(t, "dark")
	webtest.Screenshot(t, b.ctx, "conv-hostile-dark")
}
