package web_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserA11y loads the agent's pages (the customer list, a busy
// profile, the edit form, the new-customer form) in headless Chromium on a
// phone-sized screen, at 200 % zoom, at the 320 CSS px of WCAG's reflow
// criterion, and in dark mode, and checks what only a browser shows: no
// sideways scrolling of the page (wide tables scroll inside their
// .table-wrap), a label for every control, headers with a scope in every
// table, an alt on every image, "/" focusing the search box, and focus on
// the error summary after a failed htmx save. Screenshots go to
// testoutput/a11y-*.png for people to look at.
func TestBrowserA11y(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 80}})
	editID, _ := euPhoneUser(t, env)
	pages := []struct{ name, path, ready string }{
		{"list", "/endusers", `tr[data-testid="enduser-row"]`},
		{"profile", "/endusers/" + dixasim.DemoBusyUserID, `[data-testid="attrs-form"]`},
		{"edit", "/endusers/" + editID + "/edit", `#f-displayName`},
		{"new", "/endusers/new", `#f-displayName`},
	}
	modes := []struct {
		name          string
		width, height int64
		scale         float64
		dark          bool
	}{
		{"narrow", 390, 844, 1, false},
		// 200 % zoom of a 1280×900 window: a 640×450 CSS px viewport
		// drawn with two device pixels per CSS pixel.
		{"zoom200", 640, 450, 2, false},
		{"reflow320", 320, 640, 1, false},
		{"dark", 1280, 900, 1, true},
		{"dark-narrow", 390, 844, 1, true},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			// A browser per mode: each gets the whole time budget of one.
			ctx := webtest.Browser(t)
			scheme := "light"
			if m.dark {
				scheme = "dark"
			}
			a11yRun(t, ctx, "emulate",
				chromedp.EmulateViewport(m.width, m.height, chromedp.EmulateScale(m.scale)),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
						Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
					})
					return err
				}),
			)
			a11yRun(t, ctx, "sign in",
				chromedp.Navigate(env.URL+"/login"),
				chromedp.SetValue(chromedp.ID("#name"), "Agent A11y"),
				chromedp.Click(chromedp.ID("#role-agent")),
				chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
				chromedp.WaitVisible(chromedp.ID("#q")),
			)
			for _, p := range pages {
				a11yRun(t, ctx, "load "+p.name,
					chromedp.Navigate(env.URL+p.path),
					chromedp.WaitVisible(chromedp.CSS(p.ready)),
				)
				if m.dark {
					bg := euRun(t, ctx, "background", chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
					if bg != "rgb(15, 18, 22)" {
						t.Errorf("%s: body background %s in dark mode", p.name, bg)
					}
				}
				for _, c := range a11yChecks {
					if bad := euRun(t, ctx, c.name, chromedp.Evaluate[[]string](c.js)); len(bad) > 0 {
						t.Errorf("%s at %s: %s:\n  %s", p.name, m.name, c.name, strings.Join(bad, "\n  "))
					}
				}
				if p.name == "profile" {
					// The demo avatar's host does not resolve: the broken
					// picture is covered by the initials, and it has an alt.
					got := euRun(t, ctx, "avatar", chromedp.Evaluate[string](`(() => { const i = document.querySelector("[data-testid=avatar]");
						return i ? i.alt + "|" + getComputedStyle(i, "::after").content : "none"; })()`))
					if !strings.HasPrefix(got, "Picture of ") || !strings.HasSuffix(got, `|"IÅ"`) {
						t.Errorf("avatar alt|::after = %q, want an alt and the initials over a broken picture", got)
					}
				}
				webtest.Screenshot(t, ctx, fmt.Sprintf("a11y-%s-%s", m.name, p.name))

				// "/" anywhere outside a text field focuses the search box.
				a11yRun(t, ctx, "press /",
					chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`),
					chromedp.KeyEvent("/"),
				)
				if id := euRun(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`)); id != "q" {
					t.Errorf("%s at %s: after \"/\" focus is on %q, want the search box", p.name, m.name, id)
				}
			}

			// A save refused with 422 is swapped in by htmx, with the
			// input kept and focus on the error summary.
			a11yRun(t, ctx, "invalid save",
				chromedp.Navigate(env.URL+"/endusers/"+editID+"/edit"),
				chromedp.WaitVisible(chromedp.ID("#f-email")),
				chromedp.Evaluate[chromedp.Void](`window.__a11yNoReload = true`),
				chromedp.SetValue(chromedp.ID("#f-email"), "not an email"),
				chromedp.Click(chromedp.CSS(`[data-testid="save"]`)),
				chromedp.WaitVisible(chromedp.ID("#f-email-error")),
				chromedp.Poll[chromedp.Void](`document.activeElement && document.activeElement.getAttribute("data-testid") === "error-summary"`,
					chromedp.WithPollingTimeout(3*time.Second)),
			)
			if !euRun(t, ctx, "swapped", chromedp.Evaluate[bool](`window.__a11yNoReload === true`)) {
				t.Error("the 422 answer replaced the page instead of being swapped in by htmx")
			}
			if v := euRun(t, ctx, "value", chromedp.Value(chromedp.ID("f-email"))); v != "not an email" {
				t.Errorf("input after 422: %q", v)
			}
			if bad := euRun(t, ctx, "overflow after 422", chromedp.Evaluate[[]string](a11yChecks[0].js)); len(bad) > 0 {
				t.Errorf("after 422 at %s: %s", m.name, strings.Join(bad, "; "))
			}
			webtest.Screenshot(t, ctx, "a11y-"+m.name+"-edit-422")
			stored := euRun(t, ctx, "web storage", chromedp.Evaluate[string](`JSON.stringify(Object.keys(localStorage).concat(Object.keys(sessionStorage)).filter(k => k !== "htmx-current-path-for-history"))`))
			if stored != "[]" {
				t.Errorf("web storage holds %s after visiting customers", stored)
			}
		})
	}
}

// a11yRun runs browser steps with a time limit.
func a11yRun(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	euRun(t, ctx, what, chromedp.Steps(steps...))
}

// a11yDescribe is a JS helper naming an element for a failure message.
const a11yDescribe = `const describe = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
  (el.getAttribute("name") ? "[name=" + el.getAttribute("name") + "]" : "") +
  (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");`

// a11yChecks are page checks run in the browser; each returns the list of
// offenders (empty: passed). The first must stay the overflow check.
var a11yChecks = []struct{ name, js string }{
	{"horizontal overflow", `(() => {` + a11yDescribe + `
		const de = document.documentElement, w = de.clientWidth;
		if (de.scrollWidth <= w + 1) return [];
		// Name what sticks out, outside the regions allowed to scroll.
		const out = [];
		for (const el of document.body.querySelectorAll("*")) {
			if (el.parentElement && el.parentElement.closest(".table-wrap")) continue;
			const r = el.getBoundingClientRect();
			if (r.width > 0 && r.right > w + 1) out.push(describe(el) + " right edge " + Math.round(r.right) + " > " + w);
		}
		return ["document " + de.scrollWidth + " wide, viewport " + w].concat(out.slice(0, 12));
	})()`},
	{"controls without a label", `(() => {` + a11yDescribe + `
		const named = el => {
			const l = el.getAttribute("aria-label");
			if (l && l.trim()) return true;
			const by = el.getAttribute("aria-labelledby");
			if (by) return by.split(/\s+/).every(id => { const e = document.getElementById(id); return e && e.textContent.trim(); });
			if (el.id) {
				const f = document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
				if (f && f.textContent.trim()) return true;
			}
			const wrap = el.closest("label");
			return !!(wrap && wrap.textContent.trim());
		};
		return [...document.querySelectorAll("input, select, textarea")]
			.filter(el => !["hidden", "submit", "button", "reset", "image"].includes(el.type))
			.filter(el => !named(el)).map(describe);
	})()`},
	{"tables without scoped headers", `(() => {` + a11yDescribe + `
		const out = [];
		for (const t of document.querySelectorAll("table")) {
			const ths = t.querySelectorAll("th");
			if (!ths.length) { out.push(describe(t) + " has no th"); continue; }
			for (const th of ths) {
				if (!["col", "row", "colgroup", "rowgroup"].includes(th.getAttribute("scope"))) out.push(describe(t) + " th " + JSON.stringify(th.textContent.trim()) + " has no scope");
			}
		}
		return out;
	})()`},
	{"images without alt", `(() => {` + a11yDescribe + `
		return [...document.images].filter(i => !i.hasAttribute("alt")).map(describe);
	})()`},
}

// TestA11yContrast computes the WCAG 2 contrast ratio of the colour pairs
// the stylesheet puts text in, for the light scheme and the dark one
// (static/app.css's :root and its prefers-color-scheme: dark override), and
// wants at least 4.5:1 (AA for normal text) for each.
func TestA11yContrast(t *testing.T) {
	css, err := os.ReadFile("../static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	light, dark := a11yCSSVars(t, string(css))
	pairs := [][2]string{
		{"fg", "bg"}, {"muted", "bg"}, {"accent", "bg"},
		{"danger", "danger-bg"}, {"warn", "warn-bg"}, {"ok", "ok-bg"},
		// Also used: text on the header and hovered rows, links in
		// notices, button labels, field errors on the page.
		{"fg", "bg-alt"}, {"muted", "bg-alt"}, {"accent", "bg-alt"}, {"accent-fg", "accent"},
		{"accent", "danger-bg"}, {"accent", "warn-bg"}, {"accent", "ok-bg"}, {"danger", "bg"}, {"bg", "danger"},
	}
	for _, scheme := range []struct {
		name string
		vars map[string]string
	}{{"light", light}, {"dark", dark}} {
		for _, p := range pairs {
			fg, bg := scheme.vars[p[0]], scheme.vars[p[1]]
			if fg == "" || bg == "" {
				t.Errorf("%s: --%s or --%s is not set", scheme.name, p[0], p[1])
				continue
			}
			r, err := a11yContrast(fg, bg)
			if err != nil {
				t.Errorf("%s: %v", scheme.name, err)
				continue
			}
			t.Logf("%-5s --%s %s on --%s %s: %.2f:1", scheme.name, p[0], fg, p[1], bg, r)
			if r < 4.5 {
				t.Errorf("%s: --%s %s on --%s %s has contrast %.2f:1, want at least 4.5:1", scheme.name, p[0], fg, p[1], bg, r)
			}
		}
	}
}

// a11yCSSVars returns the custom properties of the stylesheet's first
// :root block (light) and those of the :root inside the
// prefers-color-scheme: dark media query laid over them (dark).
func a11yCSSVars(t *testing.T, css string) (light, dark map[string]string) {
	t.Helper()
	decl := regexp.MustCompile(`--([a-z0-9-]+)\s*:\s*([^;]+);`)
	block := func(from int) string {
		open := strings.Index(css[from:], "{")
		end := strings.Index(css[from:], "}")
		if open < 0 || end < open {
			t.Fatalf("no block after offset %d", from)
		}
		return css[from+open+1 : from+end]
	}
	parse := func(body string, into map[string]string) {
		for _, m := range decl.FindAllStringSubmatch(body, -1) {
			into[m[1]] = strings.TrimSpace(m[2])
		}
	}
	root := strings.Index(css, ":root")
	media := regexp.MustCompile(`@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)\s*\{`).FindStringIndex(css)
	if root < 0 || media == nil {
		t.Fatal("app.css has no :root block or no prefers-color-scheme: dark block")
	}
	darkRoot := strings.Index(css[media[1]:], ":root")
	if darkRoot < 0 {
		t.Fatal("the dark block does not set :root")
	}
	light, dark = map[string]string{}, map[string]string{}
	parse(block(root), light)
	for k, v := range light {
		dark[k] = v
	}
	parse(block(media[1]+darkRoot), dark)
	return light, dark
}

// a11yContrast is the WCAG 2 contrast ratio of two #rrggbb or #rgb colours.
func a11yContrast(a, b string) (float64, error) {
	la, err := a11yLuminance(a)
	if err != nil {
		return 0, err
	}
	lb, err := a11yLuminance(b)
	if err != nil {
		return 0, err
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), nil
}

// a11yLuminance is the relative luminance of an sRGB colour (WCAG 2).
func a11yLuminance(hex string) (float64, error) {
	h := strings.TrimPrefix(strings.ToLower(hex), "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if len(h) != 6 || err != nil {
		return 0, fmt.Errorf("colour %q is not #rrggbb", hex)
	}
	lin := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff), nil
}
