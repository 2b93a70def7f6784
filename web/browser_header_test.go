package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserHeaderSearch: from every page with the header, a search typed
// into the header box and sent with Enter, or with the Search button,
// lands on the results. On the customer list htmx swaps the results in
// place; everywhere else the form opens the list as a plain GET. No page
// answers with htmx:targetError (a swap target the page does not have).
func TestBrowserHeaderSearch(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 30}})
	ctx := uiPerson(t, webtest.Browser(t), env, "Lead Search", "lead")
	id, ok := env.Sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email != "" && u.ID != dixasim.DemoBusyUserID })
	if !ok {
		t.Fatal("no customer with an email in the demo data")
	}
	u, err := env.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	busy := dixasim.DemoBusyUserID
	pages := []struct {
		name, path, ready string
		live              bool // the page shows #results: htmx swaps them in
	}{
		{"list", "/endusers", `tr[data-testid="enduser-row"]`, true},
		{"profile", "/endusers/" + busy, `[data-testid="profile-name"]`, false},
		{"edit", "/endusers/" + busy + "/edit", `#f-displayName`, false},
		{"new customer", "/endusers/new", `#f-displayName`, false},
		{"conversations", "/endusers/" + busy + "/conversations", `[data-testid="conversations"]`, false},
		{"erasures", "/erasures", `main h1`, false},
		{"audit", "/audit", `main h1`, false},
		{"imports", "/imports", `main h1`, false},
		{"not found", "/no-such-page", `[data-testid="error"]`, false},
	}
	found := `#results tr[data-testid="enduser-row"][data-id="` + id + `"]`
	for _, p := range pages {
		for _, how := range []string{"Enter", "Search button"} {
			t.Run(p.name+"/"+how, func(t *testing.T) {
				euRun(t, ctx, "open "+p.name, chromedp.Steps(
					chromedp.Navigate(env.URL+p.path),
					chromedp.WaitVisible(chromedp.CSS(p.ready)),
					chromedp.Evaluate[chromedp.Void](`window.__samePage = true; window.__targetErrors = [];
						document.body.addEventListener("htmx:targetError", e => window.__targetErrors.push(String(e.detail.target)));`),
					chromedp.Evaluate[chromedp.Void](`document.getElementById("q").value = ""`),
					chromedp.SendKeys(chromedp.ID("q"), u.Email),
				))
				send := chromedp.SendKeys(chromedp.ID("q"), kb.Enter)
				if how == "Search button" {
					send = chromedp.Click(chromedp.CSS(`form.search button[type="submit"]`))
				}
				euRun(t, ctx, how, send)
				// A page that stays (htmx) reports a targetError at once; a
				// page that navigates comes back with the results.
				state := uiWait(t, ctx, "results", `(window.__targetErrors || []).length ? "error " + window.__targetErrors.join(" ") :
					document.querySelector(`+jsString(found)+`) && document.readyState === "complete" && location.search.includes("q=") ? "found" : ""`)
				if state != "found" {
					t.Fatalf("htmx:targetError: the search went nowhere (%s)", state)
				}
				loc := euRun(t, ctx, "location", chromedp.Location())
				if !strings.Contains(loc, "/endusers?") || !strings.Contains(loc, "q=") {
					t.Errorf("after the search the address is %s, want the list with q", loc)
				}
				same := euRun(t, ctx, "same page", chromedp.Evaluate[bool](`window.__samePage === true`))
				if p.live && !same {
					t.Error("on the list the search reloaded the page instead of swapping the results in")
				}
				if q := euRun(t, ctx, "box", chromedp.Value(chromedp.ID("q"))); q != u.Email {
					t.Errorf("the search box holds %q after the search, want %q", q, u.Email)
				}
				if p.name == "profile" && how == "Enter" {
					uiShot(t, ctx, "header-search-from-profile", false)
				}
			})
		}
	}

	// The results region replaced by something else (an error page in its
	// place): the box still searches, as a plain form.
	t.Run("list without its results region", func(t *testing.T) {
		euRun(t, ctx, "search", chromedp.Steps(
			chromedp.Navigate(env.URL+"/endusers"),
			chromedp.WaitVisible(chromedp.CSS(`#results`)),
			chromedp.Evaluate[chromedp.Void](`document.getElementById("results").remove()`),
			chromedp.SendKeys(chromedp.ID("q"), u.Email+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS(found)),
		))
	})
}

// TestBrowserHeaderWidth: at 1024, 1280 and 1440 px, for every role and
// with a short or a 60-character name, the search input shows a whole
// 28-character email address, the header keeps the same height (a name
// never pushes anything onto another row: it is cut with an ellipsis and
// shown whole in its tooltip), the navigation stays on one line and
// nothing scrolls sideways.
func TestBrowserHeaderWidth(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	browser := webtest.Browser(t)
	const email = "maria.jensen@dixa-example.dk" // 28 characters
	long := strings.Repeat("Bartholomew-Maximilian ", 3)[:60]
	type metrics struct {
		Need, Have         float64
		Header             float64
		NavLines, WhoLines int
		BrandSearchSameRow bool
		NameCut, Overflow  bool
		Title              string
	}
	const measure = `(() => {
		const q = document.getElementById("q"), cs = getComputedStyle(q);
		const c = document.createElement("canvas").getContext("2d");
		c.font = cs.font;
		const h = document.querySelector("header.top");
		const box = el => el.getBoundingClientRect();
		const lines = els => new Set([...els].map(e => Math.round(box(e).top + box(e).height / 2))).size;
		const mid = el => box(el).top + box(el).height / 2;
		const name = h.querySelector("[data-testid=whoami-name]");
		return {
			Need: c.measureText(` + "`" + email + "`" + `).width,
			Have: q.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
			Header: box(h).height,
			NavLines: lines(h.querySelectorAll("nav a")),
			WhoLines: new Set([...h.querySelector(".who").children].map(e => Math.round(mid(e) / 8))).size,
			BrandSearchSameRow: Math.abs(mid(h.querySelector(".brand")) - mid(h.querySelector("form.search"))) < 8,
			NameCut: name.scrollWidth > name.clientWidth,
			Overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth,
			Title: name.title,
		};
	})()`
	widths := []int64{1024, 1280, 1440}
	heights := map[int64]float64{} // the header's height at each width, from the first person
	for _, role := range []string{"viewer", "agent", "lead"} {
		for _, name := range []string{"Lou " + strings.ToUpper(role[:1]) + role[1:], long} {
			label := role + "/short name"
			if name == long {
				label = role + "/60-character name"
			}
			t.Run(label, func(t *testing.T) {
				ctx := uiPerson(t, browser, env, name, role)
				for _, w := range widths {
					euRun(t, ctx, fmt.Sprint("at ", w), chromedp.Steps(
						chromedp.EmulateViewport(w, 900),
						chromedp.Navigate(env.URL+"/endusers/"+dixasim.DemoBusyUserID),
						chromedp.WaitVisible(chromedp.CSS(`[data-testid="profile-name"]`)),
					))
					m := euRun(t, ctx, "measure", chromedp.Evaluate[metrics](measure))
					t.Logf("%d px: input %.0f px for a %.0f px address, header %.0f px", w, m.Have, m.Need, m.Header)
					if m.Have < m.Need {
						t.Errorf("%d px: the search input shows %.0f px, a 28-character email needs %.0f", w, m.Have, m.Need)
					}
					if h, ok := heights[w]; !ok {
						heights[w] = m.Header
					} else if m.Header != h {
						t.Errorf("%d px: header %.0f px high, %.0f px for the first person: something wrapped", w, m.Header, h)
					}
					if m.NavLines != 1 || m.WhoLines != 1 || !m.BrandSearchSameRow {
						t.Errorf("%d px: navigation on %d lines, who-is-signed-in on %d, brand and search on one row: %v", w, m.NavLines, m.WhoLines, m.BrandSearchSameRow)
					}
					if m.Overflow {
						t.Errorf("%d px: the page scrolls sideways", w)
					}
					if m.Title != name {
						t.Errorf("%d px: the name's tooltip is %q, want %q", w, m.Title, name)
					}
					if name == long && !m.NameCut {
						t.Errorf("%d px: the 60-character name is not cut short", w)
					}
					if role == "lead" {
						suffix := ""
						if name == long {
							suffix = "-long-name"
						}
						uiShot(t, ctx, fmt.Sprintf("header-lead-%d%s", w, suffix), false)
					}
				}
			})
		}
	}
}

// uiPerson opens a browser context of its own (own cookies and storage) in
// the test's browser and signs in there through the dev sign-in page as
// name with role.
func uiPerson(t *testing.T, browser context.Context, env *webtest.Env, name, role string) context.Context {
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

// uiWait evaluates js until it returns a non-empty string, through page
// loads (a navigation interrupts an evaluation), for at most 10 seconds.
func uiWait(t *testing.T, ctx context.Context, what, js string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		v, err := chromedp.Run(ectx, chromedp.Evaluate[string](js))
		cancel()
		if err == nil && v != "" {
			return v
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	t.Fatalf("%s: not there after 10 s (last error %v) at %s", what, last, loc)
	return ""
}

// uiShot saves a PNG of the viewport (for people to look at) in the
// directory UI_SHOTS names, or as testoutput/<name>.png.
func uiShot(t *testing.T, ctx context.Context, name string, full bool) {
	t.Helper()
	dir := os.Getenv("UI_SHOTS")
	if dir == "" {
		dir = filepath.Join("..", "testoutput")
	}
	act := chromedp.CaptureScreenshot()
	if full {
		act = chromedp.FullScreenshot(100)
	}
	buf := euRun(t, ctx, "screenshot "+name, act)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}
