package web_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/webtest"
)

// TestCustomerListOffersExport: leads get "Export CSV" on the customer
// list, of everyone or of the current search; agents do not. The file
// keeps an E.164 phone number as it is and still quotes a formula.
func TestCustomerListOffersExport(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	if _, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "=HYPERLINK(\"x\")", LastName: "+1+1",
		Email: "e164.export@example.com", PhoneNumber: "+4520123499"}); err != nil {
		t.Fatal(err)
	}
	lead := env.Login(t, "lead")
	href := func(c *http.Client, path string) (string, bool) {
		t.Helper()
		_, body := env.Get(t, c, path)
		h, ok := euDoc(t, body).Find(`a[data-testid=export-csv]`).Attr("href")
		return strings.TrimPrefix(h, env.Cfg.BasePath), ok
	}
	if h, ok := href(lead, "/endusers"); !ok || h != "/endusers/export.csv" {
		t.Errorf("everyone: export link %q", h)
	}
	h, ok := href(lead, "/endusers?q=e164.export%40example.com&by=email")
	want := "/endusers/export.csv?" + url.Values{"by": {"email"}, "q": {"e164.export@example.com"}}.Encode()
	if !ok || h != want {
		t.Fatalf("search: export link %q, want %q", h, want)
	}
	if _, ok := href(env.Login(t, "agent"), "/endusers"); ok {
		t.Error("an agent is offered the export")
	}

	resp, body := env.Get(t, lead, h)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", resp.StatusCode)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("export: %v, %d records\n%s", err, len(recs), body)
	}
	cell := map[string]string{}
	for i, name := range recs[0] {
		cell[name] = recs[1][i]
	}
	for name, want := range map[string]string{"phoneNumber": "+4520123499", "displayName": "'=HYPERLINK(\"x\")", "lastName": "'+1+1"} {
		if cell[name] != want {
			t.Errorf("%s = %q, want %q", name, cell[name], want)
		}
	}
}
