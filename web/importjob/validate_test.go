package importjob

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/customer"
)

// validateFile runs the rows of a comma-separated file through a
// validator and returns them by row number.
func validateFile(t *testing.T, mode Mode, defs []apiclient.CustomAttributeDefinition, records [][]string) map[int]Row {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.WriteAll(records)
	rd, err := NewReader(strings.NewReader(b.String()), 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := MapHeader(rd.Header(), defs)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator(mode, "DK", m)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]Row{}
	for {
		rec, err := rd.Next()
		if err != nil {
			break
		}
		out[rd.Row()] = v.Row(rd.Row(), rec)
	}
	return out
}

// The rows follow the customer rules, including those between fields and
// those the import used to apply differently from the edit form.
func TestValidatorUsesTheCustomerRules(t *testing.T) {
	notes := apiclient.CustomAttributeDefinition{ID: "a1111111-1111-4111-8111-111111111111", EntityType: apiclient.EntityContact,
		Identifier: "notes", InputDefinition: apiclient.InputDefinition{Type: apiclient.InputText}}
	twenty := make([]string, customer.MaxListItems)
	for i := range twenty {
		twenty[i] = strings.Repeat("m", customer.MaxNameLen-2) + string(rune('a'+i)) + "z"
	}
	rows := validateFile(t, ModeCreate, []apiclient.CustomAttributeDefinition{notes}, [][]string{
		{"email", "firstName", "middleNames", "phoneNumber", "additionalPhoneNumbers", "additionalEmails", "attr.notes"},
		{"a@example.com", strings.Repeat("é", customer.MaxNameLen), strings.Join(twenty, "|"), "", "", "", ""}, // 2 ok: bounds
		{"b@example.com", "Ann\tMarie", "", "", "", "", ""},                                                    // 3 tab in a name
		{"c@example.com", "", "", "20 12 34 56", "+45 20 12 34 56", "", ""},                                    // 4 primary phone repeated
		{"d@example.com", "", "", "", "", "x@example.com|X@EXAMPLE.COM", ""},                                   // 5 email twice in a cell
		{"e@example.com", "", "", "", "", "", strings.Repeat("n", customer.MaxAttrTextLen+1)},                  // 6 attribute too long
		{"f@example.com", "", "", "", "", "F@example.com", ""},                                                 // 7 primary email repeated
		{"g@example.com", "", "", "", "", "", "two\nlines"},                                                    // 8 ok: free text
		{"Name <h@example.com>", "", "", "", "", "", ""},                                                       // 9 display name
	})
	want := map[int]string{2: "", 3: KindLength, 4: KindDuplicate, 5: KindDuplicate, 6: KindAttribute, 7: KindDuplicate, 8: "", 9: KindEmail}
	for num, kind := range want {
		if rows[num].Kind != kind {
			t.Errorf("row %d: kind %q (%s), want %q", num, rows[num].Kind, rows[num].Problem, kind)
		}
	}
	if p := rows[2].Item.Patch; p.MiddleNames == nil || len(*p.MiddleNames) != customer.MaxListItems {
		t.Errorf("row 2 middle names = %v", p.MiddleNames)
	}
	if v := rows[8].Item.Attrs[notes.ID]; v.Text != "two\nlines" {
		t.Errorf("row 8 notes = %q", v.Text)
	}
	if !strings.Contains(rows[4].Problem, "already the main phone number") {
		t.Errorf("row 4 problem = %q", rows[4].Problem)
	}
}

// In an update by email, the key is the customer's primary email: the
// additional emails may not repeat it either.
func TestValidatorUpdateKeyCountsAsPrimary(t *testing.T) {
	rows := validateFile(t, ModeUpdate, nil, [][]string{
		{"email", "additionalEmails"},
		{"a@example.com", "A@example.com"},
		{"b@example.com", "c@example.com"},
	})
	if rows[2].Kind != KindDuplicate || rows[2].Item.Key != "a@example.com" {
		t.Errorf("row 2: %q (%s), key %q", rows[2].Kind, rows[2].Problem, rows[2].Item.Key)
	}
	if rows[3].Kind != "" || rows[3].Item.Key != "b@example.com" {
		t.Errorf("row 3: %q (%s)", rows[3].Kind, rows[3].Problem)
	}
}
