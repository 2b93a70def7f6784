package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/webtest"
)

// TestImportTemplateAndAttributeColumns: leads download a template CSV
// with the standard columns and today's custom attribute columns (active
// customer attributes only); the page lists those columns with the
// values a Select accepts and says what "Rows per request" means; the
// template uploaded with a row passes the dry run; agents get neither.
func TestImportTemplateAndAttributeColumns(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: -1}})
	lead := env.Login(t, "lead")
	resp, body := env.Get(t, lead, "/imports/template.csv")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("template: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 1 {
		t.Fatalf("template: %v, %d records\n%s", err, len(recs), body)
	}
	header := strings.Join(recs[0], ",")
	for _, c := range []string{"id", "email", "phoneNumber", "firstName", "externalId", "attr.agent_notes", "attr.location", "attr.preferred_language"} {
		if !strings.Contains(","+header+",", ","+c+",") {
			t.Errorf("template lacks %s: %s", c, header)
		}
	}
	for _, c := range []string{"attr.legacy_segment", "attr.newsletter_opt_in", "attr.contact_reason", "attr.parcel_id"} {
		if strings.Contains(header, c) {
			t.Errorf("template offers %s, which an import cannot set", c)
		}
	}

	_, body = env.Get(t, lead, "/imports")
	d := imDoc(t, body)
	if h, _ := d.Find(`a[data-testid=import-template]`).Attr("href"); h != env.Cfg.BasePath+"/imports/template.csv" {
		t.Errorf("template link %q", h)
	}
	defs, err := env.API.ListCustomAttributeDefinitions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, def := range defs {
		if def.Identifier != "preferred_language" {
			continue
		}
		dd := d.Find(`[data-attr-column="attr.preferred_language"]`).Text()
		for _, o := range customer.Options(def.InputDefinition.Options) {
			if v := strings.Join(o.Path, "/"); o.Active != strings.Contains(dd, v) {
				t.Errorf("option %q (active %v) listed: %v\n%s", v, o.Active, !o.Active, dd)
			}
		}
	}
	if !strings.Contains(d.Find(`[data-attr-column="attr.agent_notes"]`).Text(), "Free text") {
		t.Error("the Text column is not described")
	}
	if !strings.Contains(d.Find(`[data-testid=batch-explained]`).Text(), "How many customers go to Dixa together in one request") {
		t.Error("Rows per request is not explained")
	}

	row := make([]string, len(recs[0]))
	row[1] = "from.template@example.com"
	file := body0(recs[0]) + strings.Join(row, ",") + "\n"
	if resp, body := imUpload(t, env, lead, "template.csv", []byte(file), "mode", "create"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the filled-in template was refused: %d\n%s", resp.StatusCode, body)
	}

	agent := env.Login(t, "agent")
	if resp, _ := env.Get(t, agent, "/imports/template.csv"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent template: %d, want 403", resp.StatusCode)
	}
}

// body0 is a header record as a CSV line.
func body0(header []string) string { return strings.Join(header, ",") + "\n" }
