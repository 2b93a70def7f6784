package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserDates: every page with dates shows them in one style, "4 Dec
// 2026, 14:05", in the time zone the browser reports (here
// Europe/Copenhagen, through the tz cookie app.js sets), in <time
// datetime> elements with the exact UTC time as their tooltip. Without the
// cookie (no JavaScript) the same times are shown in UTC, labelled "UTC".
func TestBrowserDates(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	const zone = "Europe/Copenhagen"
	cph, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	busy := dixasim.DemoBusyUserID
	csv := filepath.Join(t.TempDir(), "dates.csv")
	if err := os.WriteFile(csv, []byte("email;firstName\ndates1@example.com;Ada\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := chromedp.NewContext(webtest.Browser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab here, not under euRun's time limit.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	euRun(t, ctx, "sign in from Copenhagen", chromedp.Steps(
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
			return err
		}),
		chromedp.Navigate(env.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("#name")),
		chromedp.SetValue(chromedp.ID("#name"), "Lead Dates"),
		chromedp.Click(chromedp.ID("#role-lead")),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.ID("#q")),
	))
	if c := euRun(t, ctx, "cookie", chromedp.Evaluate[string](`document.cookie`)); !strings.Contains(c, "tz="+zone) {
		t.Fatalf("app.js did not report the time zone: cookies %q", c)
	}
	euRun(t, ctx, "an import job", chromedp.Steps(
		chromedp.Navigate(env.URL+"/imports"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="upload-form"]`)),
		chromedp.SetUploadFiles(chromedp.ID("#file"), []string{csv}),
		chromedp.Click(chromedp.CSS(`[data-testid="upload"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-job"][data-state="ready"]`)),
	))
	job := euRun(t, ctx, "job page", chromedp.Location())

	type stamp struct{ Text, Datetime, Title string }
	pages := []struct{ name, path, ready string }{
		{"list", "/endusers", `tr[data-testid="enduser-row"]`},
		{"profile", "/endusers/" + busy, `[data-testid="convs-table"]`},
		{"conversations", "/endusers/" + busy + "/conversations", `[data-testid="convs-table"]`},
		{"erasure preview", "/endusers/" + busy + "/erasure", `main h1`},
		{"audit", "/audit", `main table`},
		{"imports", "/imports", `main table`},
		{"import job", strings.TrimPrefix(job, env.URL), `[data-testid="import-job"]`},
	}
	day := regexp.MustCompile(`^\d{1,2} [A-Z][a-z]{2} \d{4}$`)
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			euRun(t, ctx, "open", chromedp.Steps(chromedp.Navigate(env.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready))))
			stamps := euRun(t, ctx, "times", chromedp.Evaluate[[]stamp](`[...document.querySelectorAll("main time")].map(e =>
				({Text: e.textContent.trim(), Datetime: e.getAttribute("datetime") || "", Title: e.getAttribute("title") || ""}))`))
			if len(stamps) == 0 {
				t.Fatal("no <time> element on the page")
			}
			t.Logf("%d times, the first %+v", len(stamps), stamps[0])
			for _, s := range stamps {
				if day.MatchString(s.Text) {
					if d, err := time.Parse(time.DateOnly, s.Datetime); err != nil || d.Format("2 Jan 2006") != s.Text {
						t.Errorf("day %q has datetime %q", s.Text, s.Datetime)
					}
					continue
				}
				at, err := time.Parse(time.RFC3339, s.Datetime)
				if err != nil {
					t.Errorf("%q: datetime %q is not an RFC 3339 time", s.Text, s.Datetime)
					continue
				}
				if want := at.In(cph).Format("2 Jan 2006, 15:04"); s.Text != want {
					t.Errorf("shows %q, want %q (%s in %s)", s.Text, want, s.Datetime, zone)
				}
				if want := at.UTC().Format("2 Jan 2006, 15:04:05 UTC"); s.Title != want {
					t.Errorf("%q: tooltip %q, want %q", s.Text, s.Title, want)
				}
			}
			if p.name == "audit" {
				uiShot(t, ctx, "dates-audit-copenhagen", false)
			}
			if heads := euRun(t, ctx, "headers", chromedp.Evaluate[string](`[...document.querySelectorAll("main th")].map(e => e.textContent).join("|")`)); strings.Contains(heads, "(UTC)") {
				t.Errorf("a column still says its times are UTC: %s", heads)
			}
		})
	}

	t.Run("without the cookie: UTC, labelled", func(t *testing.T) {
		c := env.Login(t, "lead")
		resp, body := env.Get(t, c, "/endusers/"+busy)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		d.Find("main time").Each(func(_ int, s *goquery.Selection) {
			n++
			at, err := time.Parse(time.RFC3339, s.AttrOr("datetime", ""))
			if want := at.UTC().Format("2 Jan 2006, 15:04") + " UTC"; err != nil || s.Text() != want {
				t.Errorf("without a zone %q shows %q, want %q", s.AttrOr("datetime", ""), s.Text(), want)
			}
		})
		if n == 0 {
			t.Error("no <time> element on the profile")
		}
	})
}
