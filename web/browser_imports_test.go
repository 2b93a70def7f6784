package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserImport walks a lead through an import in headless Chromium:
// upload, dry run with problems, start, live progress (htmx polling), the
// result and its CSV. Screenshots go to testoutput/import-*.png.
func TestBrowserImport(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 20}})
	ctx := webtest.Browser(t)
	// Slow bulk answers so that the progress can be seen moving.
	env.Sim.SetLatency("POST /endusers/bulk", 300*time.Millisecond, 300*time.Millisecond)

	var b strings.Builder
	b.WriteString("email;first name;last name;phone;notes\n")
	for i := range 40 {
		fmt.Fprintf(&b, "browser%d@example.com;Name%d;Imported;;hello\n", i, i)
	}
	b.WriteString("not-an-email;Broken;Row;;\n")
	b.WriteString("browser3@example.com;Twice;Row;;\n")
	b.WriteString("browser99@example.com;Short\n")
	path := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		euRun(t, ctx, what, chromedp.Steps(actions...))
	}
	text := func(testid string) string {
		t.Helper()
		return euRun(t, ctx, testid, chromedp.Text(chromedp.CSS(`[data-testid="`+testid+`"]`)))
	}
	run("sign in as lead",
		chromedp.Navigate(env.URL+"/login"),
		chromedp.SetValue(chromedp.ID("#name"), "Lead Lis"),
		chromedp.Click(chromedp.ID("#role-lead")),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.ID("#q")),
	)
	run("upload",
		chromedp.Navigate(env.URL+"/imports"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="upload-form"]`)),
		chromedp.SetUploadFiles(chromedp.ID("#file"), []string{path}),
		chromedp.SetValue(chromedp.ID("#batchSize"), "5"),
	)
	webtest.Screenshot(t, ctx, "import-1-upload")
	run("dry run",
		chromedp.Click(chromedp.CSS(`[data-testid="upload"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-job"][data-state="ready"]`)),
	)
	invalid, eligible := text("count-invalid"), text("count-eligible")
	if invalid != "3" || eligible != "40" {
		t.Errorf("dry run: invalid %s eligible %s; want 3, 40", invalid, eligible)
	}
	webtest.Screenshot(t, ctx, "import-2-dry-run")

	run("start and watch it move",
		chromedp.Click(chromedp.CSS(`[data-testid="start"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-job"][data-state="running"]`)),
		chromedp.Poll[chromedp.Void](`Number(document.querySelector('[data-testid="count-ok"]').textContent) >= 10`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	webtest.Screenshot(t, ctx, "import-3-progress")
	run("reload keeps the progress",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="progress"]`)),
	)
	run("done",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-job"][data-state="done"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="results-link"]`)),
	)
	ok, failed := text("count-ok"), text("count-failed")
	if ok != "40" || failed != "0" {
		t.Errorf("done: ok %s failed %s; want 40, 0", ok, failed)
	}
	webtest.Screenshot(t, ctx, "import-4-done")
	href := euRun(t, ctx, "results link", chromedp.AttributeValue(chromedp.CSS(`[data-testid="results-link"]`), "href"))
	if !strings.HasSuffix(href.Value, "/results.csv") {
		t.Errorf("results link %q", href.Value)
	}
}
