package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// frameTarget waits for the iframe target whose URL starts with prefix.
func frameTarget(ctx context.Context, prefix string, wait time.Duration) (context.Context, context.CancelFunc, bool) {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(ctx)
		if err == nil {
			for _, info := range infos {
				if info.Type == "iframe" && strings.HasPrefix(info.URL, prefix) {
					fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
					return fctx, cancel, true
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, nil, false
}

func embeddedEnv(t *testing.T, frameAncestors func(portal string) string) (*webtest.Env, string, *httptest.Server) {
	t.Helper()
	var p *httptest.Server
	var consoleURL string
	// The portal needs the console's URL and the console needs the portal's
	// origin: start the portal first with a placeholder page.
	mux := http.NewServeMux()
	p = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) {
		c.FrameAncestors = frameAncestors(p.URL)
		c.CookieSameSite = "none" // cross-site iframe: CHIPS cookie
		c.PersonRate, c.PersonBurst = 1000, 1000
	}})
	consoleURL = strings.Replace(env.URL, "127.0.0.1", "localhost", 1)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Intranet portal</title></head>
<body style="font-family:sans-serif;margin:0"><header style="background:#234;color:#fff;padding:8px 16px">Intranet portal · Support tools</header>
<iframe id="console" src="%s/login" style="width:100%%;height:760px;border:0"></iframe></body></html>`, consoleURL)
	})
	return env, consoleURL, p
}

// Framed by an allowed portal origin the console renders and a same-origin
// POST inside the frame (the sign-in) works; framed by an origin
// FRAME_ANCESTORS does not list, the browser refuses to render it.
func TestEmbeddedInPortal(t *testing.T) {
	t.Run("allowed", func(t *testing.T) {
		env, consoleURL, p := embeddedEnv(t, func(portal string) string { return "'self' " + portal })
		ctx := webtest.Browser(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(p.URL)); err != nil {
			t.Fatal(err)
		}
		fctx, cancel, ok := frameTarget(ctx, consoleURL, 15*time.Second)
		if !ok {
			logTargets(t, ctx)
			t.Fatal("the console did not load in the portal's frame")
		}
		defer cancel()
		if err := chromedp.Do(fctx,
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=login]`)),
			// SetValue, not SendKeys: typed keys into a cross-site frame were
			// seen to be cut short on a loaded machine; typing is not what
			// this test is about.
			chromedp.SetValue(chromedp.ID("name"), "Ada Embedded"),
			chromedp.Click(chromedp.ID("role-lead")),
			chromedp.Click(chromedp.CSS(`[data-testid=sign-in]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)),
		); err != nil {
			t.Fatalf("sign in inside the frame: %v", err)
		}
		who, err := chromedp.Run(fctx, chromedp.Text(chromedp.CSS(`[data-testid=whoami]`)))
		if err != nil || !strings.Contains(who, "Ada Embedded") || !strings.Contains(who, "lead") {
			t.Errorf("whoami inside the frame %q (%v)", who, err)
		}
		if !strings.Contains(env.Logs.String(), "signed in") {
			t.Error("the console did not log the sign-in")
		}
	})

	t.Run("refused", func(t *testing.T) {
		env, consoleURL, p := embeddedEnv(t, func(string) string { return "'self'" })
		ctx := webtest.Browser(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(p.URL)); err != nil {
			t.Fatal(err)
		}
		// The browser asked the console for the page (so a refusal is the
		// browser's doing, not a frame that never loaded) ...
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(env.Logs.String(), "path=/login") {
			if time.Now().After(deadline) {
				t.Fatal("the browser never asked the console for the framed page: the refusal cannot be checked")
			}
			time.Sleep(50 * time.Millisecond)
		}
		// ... and the frame that asked for it shows the browser's error page,
		// not the console.
		fctx, cancel, ok := frameTarget(ctx, consoleURL, 10*time.Second)
		if !ok {
			logTargets(t, ctx)
			t.Fatal("no frame of the console found: the refusal cannot be checked")
		}
		defer cancel()
		const doc = `location.href + " " + document.readyState + " " + document.querySelectorAll('[data-testid=login]').length`
		var got string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var err error
			got, err = chromedp.Run(fctx, chromedp.Evaluate[string](doc))
			if err == nil && !strings.HasPrefix(got, "about:blank") && strings.Contains(got, " complete ") {
				break // the frame's final document
			}
			if time.Now().After(deadline) {
				logTargets(t, ctx)
				t.Fatalf("the frame's document did not settle: %q (%v)", got, err)
			}
		}
		if !strings.HasPrefix(got, "chrome-error://") || !strings.HasSuffix(got, " 0") {
			t.Fatalf("the frame shows %q: the browser rendered the console in a frame FRAME_ANCESTORS does not allow", got)
		}
	})
}

// logTargets lists the browser's targets, to see what a failed frame test
// found.
func logTargets(t *testing.T, ctx context.Context) {
	t.Helper()
	infos, _ := chromedp.Targets(ctx)
	for _, i := range infos {
		t.Logf("target %s %s", i.Type, i.URL)
	}
}

// The sign-in page and the 403 page in a real browser, for people to look
// at (testoutput/login.png, testoutput/forbidden.png).
func TestSignInAndForbiddenPagesInBrowser(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	ctx := webtest.Browser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/endusers/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login]`)),
	); err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, ctx, "login")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("name"), "Vera Viewer"),
		chromedp.Click(chromedp.ID("role-viewer")),
		chromedp.Click(chromedp.CSS(`[data-testid=sign-in]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=forbidden-reason]`)),
	); err != nil {
		t.Fatal(err)
	}
	need, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=role-needed]`)))
	if err != nil || need != "agent" {
		t.Errorf("role needed %q (%v), want agent", need, err)
	}
	webtest.Screenshot(t, ctx, "forbidden")
}
