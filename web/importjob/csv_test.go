package importjob

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/apperr"
)

func TestPrepareHostileFiles(t *testing.T) {
	utf16 := append([]byte{0xFF, 0xFE}, []byte("e\x00m\x00a\x00i\x00l\x00\n\x00")...)
	latin1 := "email,firstName\na@example.com,Ann\nb@example.com,J\xf8rgen\n"
	tests := []struct {
		name, file string
		limit      int64
		want       string // substring of the message shown
	}{
		{"empty", "", 0, "The file is empty"},
		{"utf16", string(utf16), 0, "UTF-16"},
		{"utf16 no bom", "e\x00m\x00", 0, "UTF-16"},
		{"latin1 names the row", latin1, 0, "Row 3 is not valid UTF-8"},
		{"no header", "ann@example.com,Ann,Smith\nbob@example.com,Bob,Jones\n", 0, "must be a header"},
		{"header only", "email,firstName\n", 0, "no rows"},
		{"bare quote", "email,firstName\na@example.com,An\"n\n", 0, "Line 2 has a quote"},
		{"unclosed quote", "email,firstName\na@example.com,\"Ann\nb@example.com,Bob\n", 0, "never closed"},
		{"too large", csvRows("big", 200), 1000, "larger than the 1000 bytes limit"},
		{"duplicate column", "email,E-mail\na@example.com,b@example.com\n", 0, "both mean email"},
		{"update without key", "firstName\nAnn\n", 0, "needs a column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewMemStore()
			mode := ModeCreate
			if strings.Contains(tt.name, "update") {
				mode = ModeUpdate
			}
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			_, err := Prepare(t.Context(), st, Upload{File: strings.NewReader(tt.file), Mode: mode, Limit: limit, Region: "DK"})
			fe, ok := apperr.As(err)
			if !ok || fe.Code != apperr.Invalid {
				t.Fatalf("err = %v, want an *apperr.Error (invalid)", err)
			}
			if !strings.Contains(fe.Msg, tt.want) {
				t.Errorf("message = %q, want it to contain %q", fe.Msg, tt.want)
			}
			if jobs, _ := st.Jobs(t.Context(), 0); len(jobs) != 0 {
				t.Errorf("%d jobs kept after a refused file, want 0", len(jobs))
			}
			if tt.name == "too large" && !errors.Is(err, ErrTooLarge) {
				t.Errorf("errors.Is(err, ErrTooLarge) = false")
			}
		})
	}
}

func TestReaderFormats(t *testing.T) {
	tests := []struct {
		name, file string
		comma      rune
		rows       [][]string
	}{
		{"comma", "a,b\n1,2\n", ',', [][]string{{"1", "2"}}},
		{"semicolon with commas in cells", "a;b\n\"x, y\";2\n", ';', [][]string{{"x, y", "2"}}},
		{"bom and crlf", "\xEF\xBB\xBFa,b\r\n1,2\r\n", ',', [][]string{{"1", "2"}}},
		{"quoted newline and quote", "a,b\n\"line1\nline2\",\"say \"\"hi\"\"\"\n", ',', [][]string{{"line1\nline2", "say \"hi\""}}},
		{"semicolon inside quoted header", "\"a;x\",b\n1,2\n", ',', [][]string{{"1", "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := NewReader(strings.NewReader(tt.file), 0)
			if err != nil {
				t.Fatal(err)
			}
			if rd.Comma() != tt.comma {
				t.Errorf("comma = %q, want %q", rd.Comma(), tt.comma)
			}
			if rd.Header()[0] == "\uFEFFa" {
				t.Errorf("BOM kept in header")
			}
			for i, want := range tt.rows {
				got, err := rd.Next()
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("row %d = %q, want %q", i, got, want)
				}
			}
			if _, err := rd.Next(); err != io.EOF {
				t.Errorf("after last row: %v, want EOF", err)
			}
		})
	}
}

func TestValidateRows(t *testing.T) {
	defs := []apiclient.CustomAttributeDefinition{
		{ID: "a1111111-1111-4111-8111-111111111111", EntityType: apiclient.EntityContact, Identifier: "tier",
			InputDefinition: apiclient.InputDefinition{Type: apiclient.InputText}},
		{ID: "b2222222-2222-4222-8222-222222222222", EntityType: apiclient.EntityContact, Identifier: "location",
			InputDefinition: apiclient.InputDefinition{Type: apiclient.InputSelect, Options: []apiclient.SelectOption{
				{Label: "Denmark", Value: "denmark", NestedOptions: []apiclient.SelectOption{{Label: "Copenhagen", Value: "cph"}}}}}},
	}
	file := "E-mail;Mobile;First Name;surname;External ID;Shoe size;attr.tier;attr.location;attr.nope\n" +
		"ann@example.com;20 12 34 56;Ann;Smith;X1;44;gold;Denmark/Copenhagen;\n" + // 2 ok, phone DK → E.164
		"not-an-email;;Bob;;;;;;\n" + // 3 email
		"ANN@example.com;;Ann2;;;;;;\n" + // 4 duplicate email (case)
		"c@example.com;12;Cy;;;;;;\n" + // 5 phone
		"d@example.com;;\"=HYPERLINK(\"\"x\"\")\";;;;;;\n" + // 6 formula text is just a name on import
		"e@example.com;;Ed;;X1;;;;\n" + // 7 duplicate external id
		"f@example.com;;Fi;;;;;Sweden;\n" + // 8 bad select
		";;;;;;;;\n" + // blank: not a row
		"g@example.com;;Gu\n" + // 10 ragged
		"h@example.com;;" + strings.Repeat("x", 300) + ";;;;;;\n" // 11 too long
	rd, err := NewReader(strings.NewReader(file), 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := MapHeader(rd.Header(), defs)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Unknown, "|"); !strings.Contains(got, "Shoe size") || !strings.Contains(got, "attr.nope") {
		t.Errorf("unknown = %q, want Shoe size and attr.nope", got)
	}
	v, err := NewValidator(ModeCreate, "DK", m)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]Row{}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if allEmpty(rec) {
			continue
		}
		got[rd.Row()] = v.Row(rd.Row(), rec)
	}
	want := map[int]string{2: "", 3: KindEmail, 4: KindDuplicate, 5: KindPhone, 6: "", 7: KindDuplicate, 8: KindAttribute, 10: KindShape, 11: KindLength}
	for num, kind := range want {
		if got[num].Kind != kind {
			t.Errorf("row %d kind = %q (%s), want %q", num, got[num].Kind, got[num].Problem, kind)
		}
	}
	r2 := got[2].Item
	if *r2.Patch.PhoneNumber != "+4520123456" || *r2.Patch.Email != "ann@example.com" || *r2.Patch.ExternalID != "X1" {
		t.Errorf("row 2 patch = %+v", r2.Patch)
	}
	if v := r2.Attrs["b2222222-2222-4222-8222-222222222222"]; strings.Join(v.Select, "/") != "denmark/cph" {
		t.Errorf("select path = %v, want denmark/cph", v.Select)
	}
	if !strings.Contains(got[4].Problem, "row 2") {
		t.Errorf("duplicate problem = %q, want it to name row 2", got[4].Problem)
	}
	if _, ok := got[9]; ok {
		t.Errorf("blank row 9 was validated")
	}
}

func TestUpdateModeMatchAndPatchSemantics(t *testing.T) {
	st := NewMemStore()
	file := "externalId,firstName,lastName\nX1,Ann,\nX2,,\n,Bob,\n"
	j := prepare(t, st, ModeUpdate, file, 0)
	if j.MatchBy != MatchExternalID || j.State != StateChecking || j.CheckMethod != CheckLookups {
		t.Fatalf("job = match %q state %q check %q", j.MatchBy, j.State, j.CheckMethod)
	}
	rows := allRows(t, st, j.ID)
	if rows[0].Item.Patch.LastName != nil || *rows[0].Item.Patch.FirstName != "Ann" || rows[0].Item.Patch.ExternalID != nil {
		t.Errorf("row 2 patch = %+v; want only firstName (empty = unchanged, key not patched)", rows[0].Item.Patch)
	}
	if rows[1].Kind != KindEmpty || rows[2].Kind != KindID {
		t.Errorf("kinds = %q, %q; want empty, id", rows[1].Kind, rows[2].Kind)
	}
}

// TestEscapeCellLeavesE164: a phone number in E.164 (a "+" and digits
// only) is written as it is; anything else starting with "+" is quoted.
func TestEscapeCellLeavesE164(t *testing.T) {
	for in, want := range map[string]string{
		"+4520123456": "+4520123456", "+1": "+1", "+4": "+4",
		"+45 2012": "'+45 2012", "+45-2012": "'+45-2012", "+": "'+", "+1+1": "'+1+1", "+45201234561234567": "'+45201234561234567",
		"+SUM(A1)": "'+SUM(A1)", "'+4520123456": "''+4520123456", "+4520123456\n": "'+4520123456\n",
	} {
		if got := EscapeCell(in); got != want {
			t.Errorf("EscapeCell(%q) = %q, want %q", in, got, want)
		}
		if got := UnescapeCell(EscapeCell(in)); got != in {
			t.Errorf("round trip of %q gives %q", in, got)
		}
	}
}

func TestEscapeCell(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Write("=1+1", "+45 2012", "-2", "@SUM(A1)", "\tx", "\rx", "plain", "", "a=b")
	w.Flush()
	want := "'=1+1,'+45 2012,'-2,'@SUM(A1),'\tx,\"'\rx\",plain,,a=b\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}

// TestUnescapeCell: the import drops the one quote the export added, and
// only that one, so that every value comes back as it was.
func TestUnescapeCell(t *testing.T) {
	for _, v := range []string{"@alice", "=1+2", "+4520123456", "-dash", "\tx", "\rx", "plain", "", "'", "''",
		"'plain", "'=already quoted", "''@two", "it's", "a=b", "'+45"} {
		if got := UnescapeCell(EscapeCell(v)); got != v {
			t.Errorf("UnescapeCell(EscapeCell(%q)) = %q (escaped %q)", v, got, EscapeCell(v))
		}
	}
	for in, want := range map[string]string{
		"'@alice": "@alice", "'=1+2": "=1+2", "'+4520123456": "+4520123456", "'-2": "-2",
		"'plain": "'plain", "'": "'", "''@x": "'@x", "@x": "@x",
	} {
		if got := UnescapeCell(in); got != want {
			t.Errorf("UnescapeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportedFileImportsUnchanged: a file written by the export (every
// cell through EscapeCell) and uploaded again as an update by id sends
// the values as they were, not with the export's quote in front.
func TestExportedFileImportsUnchanged(t *testing.T) {
	const id = "6f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a"
	want := map[string]string{"externalId": "@alice", "firstName": "=1+2", "lastName": "-Smith",
		"displayName": "'=already quoted", "phoneNumber": "+4520123456"}
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Write("id", "externalId", "firstName", "lastName", "displayName", "phoneNumber")
	w.Write(id, want["externalId"], want["firstName"], want["lastName"], want["displayName"], want["phoneNumber"])
	w.Flush()
	if !strings.Contains(b.String(), "'@alice") {
		t.Fatalf("the export did not escape: %q", b.String())
	}
	st := NewMemStore()
	j := prepare(t, st, ModeUpdate, b.String(), 10)
	rows := allRows(t, st, j.ID)
	if len(rows) != 1 || rows[0].Problem != "" {
		t.Fatalf("rows = %+v", rows)
	}
	p := rows[0].Item.Patch
	got := map[string]string{}
	for k, v := range map[string]*string{"externalId": p.ExternalID, "firstName": p.FirstName, "lastName": p.LastName,
		"displayName": p.DisplayName, "phoneNumber": p.PhoneNumber} {
		if v != nil {
			got[k] = *v
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("imported %q\nwant     %q", got, want)
	}
}

func TestDescribeBulkError(t *testing.T) {
	got := DescribeBulkError(&apiclient.BulkError{Type: "Validation", Message: "Create EndUser [userId=1] in [orgId=2] failed with [errors=PhoneNumberExists,EmailExists]"})
	if got != "A customer with this phone number already exists in Dixa; a customer with this email already exists in Dixa." {
		t.Errorf("got %q", got)
	}
}
