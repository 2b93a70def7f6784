package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/webtest"
)

// TestBrowserImportUpdatePreview: a lead uploads an update in headless
// Chromium and the dry run shows what its first rows would change, old →
// new, with a customer's own markup shown as text (no script runs). The
// screenshot goes to testoutput/import-update-preview.png.
func TestBrowserImportUpdatePreview(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: -1}})
	ctx := webtest.Browser(t)
	defs, err := env.API.ListCustomAttributeDefinitions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	attr := ""
	for _, d := range defs {
		if d.EntityType == apiclient.EntityContact && d.InputDefinition.Type == apiclient.InputText && !d.IsArchived && !d.IsDeactivated {
			attr = d.Identifier
			break
		}
	}
	if attr == "" {
		t.Fatal("the simulator seeds no active Contact text attribute")
	}
	var b strings.Builder
	b.WriteString("email,firstName,lastName,phoneNumber,attr." + attr + "\n")
	for i := range 12 {
		in := apiclient.CreateEndUserInput{Email: fmt.Sprintf("diff%d@example.com", i), FirstName: fmt.Sprintf("Anna%d", i),
			LastName: "Berg", DisplayName: fmt.Sprintf("Anna%d Berg", i)}
		if i == 1 {
			in.DisplayName = `<script>document.title="pwned"</script>`
		}
		if _, err := env.API.CreateEndUser(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			fmt.Fprintf(&b, "%s,Anna0,Berg,,\n", in.Email)
		case 2:
			fmt.Fprintf(&b, "%s,,Lindqvist,+4520123456,VIP since 2019\n", in.Email)
		default:
			fmt.Fprintf(&b, "%s,Anne%d,,,\n", in.Email, i)
		}
	}
	path := filepath.Join(t.TempDir(), "update.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	euRun(t, ctx, "sign in as lead", chromedp.Steps(
		chromedp.Navigate(env.URL+"/login"),
		chromedp.SetValue(chromedp.ID("#name"), "Lead Lis"),
		chromedp.Click(chromedp.ID("#role-lead")),
		chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.ID("#q")),
	))
	euRun(t, ctx, "upload an update", chromedp.Steps(
		chromedp.Navigate(env.URL+"/imports"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="upload-form"]`)),
		chromedp.SetUploadFiles(chromedp.ID("#file"), []string{path}),
		chromedp.Click(chromedp.CSS(`input[name="mode"][value="update"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="upload"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-job"][data-state="ready"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-preview"]`)),
	))
	rows := euRun(t, ctx, "preview rows", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="preview-row"]').length`))
	if rows != 10 {
		t.Errorf("previewed rows = %d; want 10", rows)
	}
	title := euRun(t, ctx, "title", chromedp.Title())
	name := euRun(t, ctx, "hostile name", chromedp.Text(chromedp.CSS(`[data-row="3"] [data-testid="preview-customer"]`)))
	if title == "pwned" || !strings.Contains(name, "<script>") {
		t.Errorf("the customer's markup ran or vanished: title %q, name %q", title, name)
	}
	change := euRun(t, ctx, "row 4", chromedp.Text(chromedp.CSS(`[data-row="4"]`)))
	for _, want := range []string{"lastName", "Berg", "Lindqvist", "phoneNumber", "(empty)", "+4520123456", "VIP since 2019"} {
		if !strings.Contains(change, want) {
			t.Errorf("row 4 = %q; want %q in it", change, want)
		}
	}
	webtest.Screenshot(t, ctx, "import-update-preview")
}
