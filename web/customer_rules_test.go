package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/importjob"
	"github.com/example/dixa-console/web/webtest"
)

// ruleCase is one value of one field, given to the CSV import (a cell of
// column) and typed into the edit form (field; list items one per line).
type ruleCase struct {
	name   string
	column string   // import header and form field: "firstName", "attr.<identifier>"
	items  []string // the value; several for a list field
	ok     bool     // both paths accept it
	kind   string   // the import's problem kind when refused
}

// crLen is a valid value of field f exactly n characters long.
func crLen(f customer.Field, n int, seed int) string {
	tag := fmt.Sprintf("%02d", seed)
	switch f {
	case customer.Email, customer.AdditionalEmails:
		const domain = "@rules.example.com"
		local := "r" + tag + strings.Repeat("a", min(61, n-len(domain)-3))
		rest := n - len(local) - len(domain)
		var labels []string
		for rest > 0 {
			l := min(rest, 40)
			if rest-l == 1 {
				l--
			}
			labels = append(labels, strings.Repeat("b", l-1))
			rest -= l
		}
		d := domain
		if len(labels) > 0 {
			d = "@" + strings.Join(labels, ".") + "." + domain[1:]
		}
		return local + d
	case customer.PhoneNumber, customer.AdditionalPhoneNumbers:
		return "+45" + strings.Repeat(" ", n-len("+457199")-4) + "7199" + "00" + tag
	case customer.AvatarURL:
		return "https://img.example/" + tag + strings.Repeat("p", n-len("https://img.example/")-2)
	}
	return tag + strings.Repeat("é", n-2)
}

// crItems is n distinct valid items of list field f.
func crItems(f customer.Field, n, seed int) []string {
	out := make([]string, n)
	for i := range out {
		switch f {
		case customer.AdditionalEmails:
			out[i] = fmt.Sprintf("list%02d.%02d@rules.example.com", seed, i)
		case customer.AdditionalPhoneNumbers:
			out[i] = fmt.Sprintf("+45 72 %02d %02d 00", seed, i)
		default:
			out[i] = fmt.Sprintf("Middle%02d", i)
		}
	}
	return out
}

func ruleCases(notes, sel apiclient.CustomAttributeDefinition, active, inactive string) []ruleCase {
	var cs []ruleCase
	seed := 0
	next := func() int { seed++; return seed }
	for _, f := range customer.Fields() {
		cs = append(cs,
			ruleCase{name: string(f) + " at its bound", column: string(f), items: []string{crLen(f, f.MaxLen(), next())}, ok: true},
			ruleCase{name: string(f) + " one over", column: string(f), items: []string{crLen(f, f.MaxLen()+1, next())}, kind: importjob.KindLength})
		if f.List() {
			cs = append(cs,
				ruleCase{name: string(f) + " with the most items", column: string(f), items: crItems(f, customer.MaxListItems, next()), ok: true},
				ruleCase{name: string(f) + " with one item more", column: string(f), items: crItems(f, customer.MaxListItems+1, next()), kind: importjob.KindLength})
		}
	}
	text := "attr." + notes.Identifier
	cs = append(cs,
		ruleCase{name: "Text attribute at its bound", column: text, items: []string{strings.Repeat("n", customer.MaxAttrTextLen)}, ok: true},
		ruleCase{name: "Text attribute one over", column: text, items: []string{strings.Repeat("n", customer.MaxAttrTextLen+1)}, kind: importjob.KindAttribute},
		ruleCase{name: "Select active option", column: "attr." + sel.Identifier, items: []string{active}, ok: true},
		ruleCase{name: "Select deactivated option", column: "attr." + sel.Identifier, items: []string{inactive}, kind: importjob.KindAttribute},
		// Formats, where the two paths used to disagree.
		ruleCase{name: "name with a tab", column: "firstName", items: []string{"Ann\tMarie"}, kind: importjob.KindLength},
		ruleCase{name: "email with a display name", column: "email", items: []string{"Ann <ann@rules.example.com>"}, kind: importjob.KindEmail},
		ruleCase{name: "email with two dots", column: "email", items: []string{"ann@rules..example.com"}, kind: importjob.KindEmail},
		ruleCase{name: "additional email twice", column: "additionalEmails", items: []string{"twice@rules.example.com", "TWICE@rules.example.com"}, kind: importjob.KindDuplicate},
		ruleCase{name: "phone without enough digits", column: "phoneNumber", items: []string{"12 34"}, kind: importjob.KindPhone},
		ruleCase{name: "avatar not http", column: "avatarUrl", items: []string{"ftp://img.example/a.png"}, kind: importjob.KindURL},
	)
	return cs
}

// TestFieldRulesSameInImportAndEditForm: every field at its bound and one
// over, and the formats where the two used to disagree, go through the CSV
// import (an update by id, up to the end of its dry run) and through the
// edit form (or the custom attributes form) of the real console. Both
// accept the same values and refuse the same values, and what the form
// saves is what the import would send.
func TestFieldRulesSameInImportAndEditForm(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 80}})
	lead := env.Login(t, "lead")
	notes, sel, active, inactive := crAttributes(t, env)
	cases := ruleCases(notes, sel, active.label, inactive.label)
	ids := crCustomers(t, env, len(cases))

	rows := crImportDryRun(t, env, lead, cases, ids)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			agent := env.Login(t, "agent") // a person of their own: the per-person budget is not the subject
			row := rows[i+2]
			importOK := row.Kind == ""
			if importOK != tc.ok || (!tc.ok && row.Kind != tc.kind) {
				t.Errorf("import: kind %q (%s); want ok=%v kind %q", row.Kind, row.Problem, tc.ok, tc.kind)
			}
			var formOK bool
			if strings.HasPrefix(tc.column, "attr.") {
				value := tc.items[0]
				if tc.column == "attr."+sel.Identifier {
					value = active.id
					if !tc.ok {
						value = inactive.id
					}
				}
				formOK = crSaveAttribute(t, env, agent, ids[i], notes, sel, tc.column, value)
			} else {
				formOK = crSaveField(t, env, agent, ids[i], tc.column, strings.Join(tc.items, "\n"))
			}
			if formOK != tc.ok {
				t.Errorf("edit form accepted=%v, import accepted=%v; want both %v", formOK, importOK, tc.ok)
			}
			if !tc.ok || !formOK || !importOK {
				return
			}
			// The form saved what the import would send.
			u, err := env.API.GetEndUser(t.Context(), ids[i])
			if err != nil {
				t.Fatal(err)
			}
			if want := crImported(t, row, tc.column); !slices.Equal(crHeld(u, tc.column), want) {
				t.Errorf("form saved %q, import would send %q", crHeld(u, tc.column), want)
			}
		})
	}
}

type crOption struct{ id, label string }

// crAttributes finds the active Text attribute "agent_notes" and a Select
// attribute with an active and a deactivated option in the demo data.
func crAttributes(t *testing.T, env *webtest.Env) (notes, sel apiclient.CustomAttributeDefinition, active, inactive crOption) {
	t.Helper()
	defs, err := env.API.ListCustomAttributeDefinitions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		if !customer.Writable(d) {
			continue
		}
		if d.Identifier == "agent_notes" {
			notes = d
		}
		if d.InputDefinition.Type != apiclient.InputSelect || sel.ID != "" {
			continue
		}
		var a, in crOption
		for _, o := range customer.Options(d.InputDefinition.Options) {
			if o.Active && a.id == "" {
				a = crOption{o.ID, strings.Join(o.Path, "/")}
			}
			if !o.Active && in.id == "" {
				in = crOption{o.ID, strings.Join(o.Path, "/")}
			}
		}
		if a.id != "" && in.id != "" {
			sel, active, inactive = d, a, in
		}
	}
	if notes.ID == "" || sel.ID == "" {
		t.Fatal("the demo data needs the Text attribute agent_notes and a Select attribute with a deactivated option")
	}
	return notes, sel, active, inactive
}

// crCustomers picks n different customers with a name, none holding a
// phone number or email the cases use.
func crCustomers(t *testing.T, env *webtest.Env, n int) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	for len(ids) < n {
		id, ok := env.Sim.AnyUserID(func(u apiclient.EndUser) bool {
			return !seen[u.ID] && strings.TrimSpace(u.DisplayName) != ""
		})
		if !ok {
			t.Fatalf("the demo data has %d named customers, the test needs %d", len(ids), n)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if _, clash := env.Sim.AnyUserID(func(u apiclient.EndUser) bool {
		phones := append([]string{u.PhoneNumber}, u.AdditionalPhoneNumbers...)
		return slices.ContainsFunc(phones, func(p string) bool { return strings.HasPrefix(p, "+457199") || strings.HasPrefix(p, "+4572") }) ||
			strings.Contains(u.Email, "rules.example.com")
	}); clash {
		t.Fatal("the demo data already holds a phone number or email of the test's ranges")
	}
	return ids
}

// crImportDryRun uploads one update file with a row per case (the id and
// the case's one cell) and returns the rows of its finished dry run by
// row number.
func crImportDryRun(t *testing.T, env *webtest.Env, lead *http.Client, cases []ruleCase, ids []string) map[int]importjob.Row {
	t.Helper()
	header := []string{"id"}
	col := map[string]int{}
	for _, tc := range cases {
		if _, ok := col[tc.column]; !ok {
			col[tc.column] = len(header)
			header = append(header, tc.column)
		}
	}
	var file bytes.Buffer
	w := csv.NewWriter(&file)
	w.Write(header)
	for i, tc := range cases {
		rec := make([]string, len(header))
		rec[0], rec[col[tc.column]] = ids[i], strings.Join(tc.items, "|")
		w.Write(rec)
	}
	w.Flush()
	resp, body := imUpload(t, env, lead, "rules.csv", file.Bytes(), "mode", "update")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	jobPath := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
	imWaitState(t, env, lead, jobPath, "ready")
	all, err := env.Store.ImportJobs().Rows(t.Context(), strings.TrimPrefix(jobPath, "/imports/"), importjob.RowQuery{})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int]importjob.Row{}
	for _, r := range all {
		rows[r.Num] = r
	}
	if len(rows) != len(cases) {
		t.Fatalf("the dry run has %d rows, want %d", len(rows), len(cases))
	}
	return rows
}

// crSaveField types value into one field of the edit form and saves; it
// reports whether the save went through (303), and checks that a refusal
// is a 422 with the message at the field.
func crSaveField(t *testing.T, env *webtest.Env, agent *http.Client, id, field, value string) bool {
	t.Helper()
	_, page := env.Get(t, agent, "/endusers/"+id+"/edit")
	form := euFormValues(t, page, "#profile-form")
	form.Set(field, value)
	resp, body := env.PostForm(t, agent, "/endusers/"+id, form)
	switch resp.StatusCode {
	case http.StatusSeeOther:
		return true
	case http.StatusUnprocessableEntity:
		if euDoc(t, body).Find("#f-"+field).AttrOr("aria-invalid", "") != "true" {
			t.Errorf("422 without a message at %s", field)
		}
		return false
	}
	t.Fatalf("save %s: status %d\n%s", field, resp.StatusCode, body)
	return false
}

// crSaveAttribute sets one attribute in the custom attributes form (value
// is the control value: text or option id) and saves.
func crSaveAttribute(t *testing.T, env *webtest.Env, agent *http.Client, id string, notes, sel apiclient.CustomAttributeDefinition, column, value string) bool {
	t.Helper()
	def := notes
	if column == "attr."+sel.Identifier {
		def = sel
	}
	_, page := env.Get(t, agent, "/endusers/"+id)
	form := euFormValues(t, page, `[data-testid="attrs-form"]`)
	form.Set("attr."+def.ID, value)
	resp, body := env.PostForm(t, agent, "/endusers/"+id+"/custom-attributes", form)
	switch resp.StatusCode {
	case http.StatusSeeOther:
		return true
	case http.StatusUnprocessableEntity:
		if !strings.Contains(body, "a-"+def.ID+"-error") && !strings.Contains(body, `href="#a-`+def.ID+`"`) {
			t.Errorf("422 without a message at the attribute")
		}
		return false
	}
	t.Fatalf("save %s: status %d\n%s", column, resp.StatusCode, body)
	return false
}

// crImported is the value an import row would send for column.
func crImported(t *testing.T, row importjob.Row, column string) []string {
	t.Helper()
	if strings.HasPrefix(column, "attr.") {
		for _, v := range row.Item.Attrs { // one attribute per row
			if v.IsSelect {
				return v.Select
			}
			return []string{v.Text}
		}
		t.Fatalf("row %d sends no attribute", row.Num)
	}
	b, _ := json.Marshal(row.Item.Patch)
	var u apiclient.EndUser
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	return customer.Held(customer.Field(column), u)
}

// crHeld is what Dixa holds for column.
func crHeld(u apiclient.EndUser, column string) []string {
	if ident, ok := strings.CutPrefix(column, "attr."); ok {
		for _, ca := range u.CustomAttributes {
			if ca.Identifier == ident {
				if ca.Value.IsSelect {
					return ca.Value.Select
				}
				return []string{ca.Value.Text}
			}
		}
		return nil
	}
	return customer.Held(customer.Field(column), u)
}

// TestCreateFormTakesEveryFieldAtItsBound: the create form follows the
// same rules: every field at its bound at once creates the customer with
// those values; every field one over is refused, each at its field.
func TestCreateFormTakesEveryFieldAtItsBound(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 10}})
	agent := env.Login(t, "agent")
	_, page := env.Get(t, agent, "/endusers/new")
	at, over := euFormValues(t, page, "#create-form"), euFormValues(t, page, "#create-form")
	for i, f := range customer.Fields() {
		at.Set(string(f), crLen(f, f.MaxLen(), 60+i))
		over.Set(string(f), crLen(f, f.MaxLen()+1, 80+i))
		if f.List() {
			items := crItems(f, customer.MaxListItems-1, 40+i)
			at.Set(string(f), strings.Join(append(items, crLen(f, f.MaxLen(), 60+i)), "\n"))
		}
	}
	resp, body := env.PostForm(t, agent, "/endusers", over)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("every field one over: status %d, want 422", resp.StatusCode)
	}
	d := euDoc(t, body)
	for _, f := range customer.Fields() {
		if d.Find("#f-"+string(f)).AttrOr("aria-invalid", "") != "true" {
			t.Errorf("%s one over: no message at the field", f)
		}
	}
	resp, body = env.PostForm(t, agent, "/endusers", at)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("every field at its bound: status %d, want 303\n%s", resp.StatusCode, body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/endusers/"), "?saved=created")
	u, err := env.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	rules := customer.New(env.Cfg.PhoneDefaultRegion)
	for _, f := range customer.Fields() {
		want, err := rules.Values(f, canonicalLines(f, at.Get(string(f))))
		if err != nil || !slices.Equal(customer.Held(f, u), want) {
			t.Errorf("%s: Dixa holds %q, want %q (%v)", f, customer.Held(f, u), want, err)
		}
	}
}

// canonicalLines splits a list field's text one item per line.
func canonicalLines(f customer.Field, s string) []string {
	if f.List() {
		return strings.Split(s, "\n")
	}
	return []string{s}
}
