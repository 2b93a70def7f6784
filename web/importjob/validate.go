package importjob

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/customer"
)

// Problem kinds, for the counts on the dry-run page and problems.csv.
const (
	KindShape     = "shape"     // ragged row
	KindEmpty     = "empty"     // nothing to send
	KindEmail     = "email"     // not an email address
	KindPhone     = "phone"     // not a phone number
	KindLength    = "length"    // too long
	KindURL       = "url"       // avatar not an http(s) URL
	KindID        = "id"        // update key missing or not a Dixa id
	KindDuplicate = "duplicate" // same identifier as an earlier row
	KindAttribute = "attribute" // custom attribute value not valid
	KindExists    = "exists"    // create: a customer with this identifier is already in Dixa
	KindNotFound  = "notfound"  // update: no customer matches the key
	KindAmbiguous = "ambiguous" // update: several customers match the key
)

// KindLabels describes the problem kinds for people.
var KindLabels = map[string]string{
	KindShape:     "Wrong number of cells",
	KindEmpty:     "Nothing to import",
	KindEmail:     "Email address not valid",
	KindPhone:     "Phone number not valid",
	KindLength:    "Value too long",
	KindURL:       "Avatar URL not valid",
	KindID:        "Customer to update not identified",
	KindDuplicate: "Duplicate inside the file",
	KindAttribute: "Custom attribute value not valid",
	KindExists:    "Already in Dixa",
	KindNotFound:  "Not found in Dixa",
	KindAmbiguous: "Several customers match",
}

// Validator checks rows one by one with the customer field rules,
// remembering the identifiers seen so far to find duplicates inside the
// file. Its memory is a few map entries per row; the rows themselves are
// not kept.
type Validator struct {
	Mode    Mode
	MatchBy string
	Region  string // PHONE_DEFAULT_REGION
	rules   customer.Rules
	m       *Mapping
	emails  map[string]int32
	phones  map[string]int32
	extIDs  map[string]int32
	ids     map[string]int32
}

// NewValidator returns a validator for rows of a file with mapping m. For
// an update, the match key is the id column when there is one, else
// email, else externalId; a file with none of them is an *apperr.Error.
func NewValidator(mode Mode, region string, m *Mapping) (*Validator, error) {
	v := &Validator{Mode: mode, Region: region, rules: customer.New(region), m: m,
		emails: map[string]int32{}, phones: map[string]int32{}, extIDs: map[string]int32{}, ids: map[string]int32{}}
	switch mode {
	case ModeCreate:
		if m.Has(FieldID) {
			m.Ignored = append(m.Ignored, "id (Dixa assigns the id of a new customer)")
		}
	case ModeUpdate:
		switch {
		case m.Has(FieldID):
			v.MatchBy = MatchID
		case m.Has(FieldEmail):
			v.MatchBy = MatchEmail
		case m.Has(FieldExternalID):
			v.MatchBy = MatchExternalID
		default:
			return nil, fileErrorf("An update needs a column that says which customer each row is: id (the Dixa id), email or externalId.")
		}
	default:
		return nil, fileErrorf("Choose whether the file creates or updates customers.")
	}
	return v, nil
}

type problems struct {
	kind string
	msgs []string
}

func (p *problems) add(kind, format string, args ...any) {
	if p.kind == "" {
		p.kind = kind
	}
	p.msgs = append(p.msgs, fmt.Sprintf(format, args...))
}

// refused adds a refusal by the customer rules, with its kind.
func (p *problems) refused(err error, format string, args ...any) {
	p.add(kindOf(err), format+"%s", append(args, apperr.Message(err, "This value cannot be saved."))...)
}

// kindOf is the problem kind of a refusal by the customer rules.
func kindOf(err error) string {
	switch {
	case errors.Is(err, customer.ErrEmail):
		return KindEmail
	case errors.Is(err, customer.ErrPhone):
		return KindPhone
	case errors.Is(err, customer.ErrURL):
		return KindURL
	case errors.Is(err, customer.ErrID):
		return KindID
	case errors.Is(err, customer.ErrOption):
		return KindAttribute
	case errors.Is(err, customer.ErrDuplicate):
		return KindDuplicate
	}
	return KindLength // too long, too many, control characters
}

// rowState is one row on its way through Row.
type rowState struct {
	num     int
	it      *Item
	p       problems
	changes []customer.Change // the fields given, for the rules between fields
}

// Row validates one record (row number num) and returns the row to store:
// the item to send, or the problem why it is skipped. An empty cell leaves
// its field as it is (PATCH semantics).
func (v *Validator) Row(num int, rec []string) Row {
	row := Row{Num: num}
	if len(rec) != v.m.Width {
		row.Kind = KindShape
		row.Problem = fmt.Sprintf("This row has %d cells but the header has %d; a cell is missing or a separator is not quoted.", len(rec), v.m.Width)
		return row
	}
	st := &rowState{num: num, it: &row.Item}
	for _, c := range v.m.Columns {
		if cell := strings.TrimSpace(rec[c.Index]); cell != "" {
			v.cell(st, c, cell)
		}
	}
	if st.p.kind == "" {
		for _, e := range customer.CrossCheck(st.changes) {
			st.p.refused(e, "%s: ", e.Field)
		}
	}
	v.whole(st)
	if st.p.kind != "" {
		row.Problem, row.Kind = strings.Join(st.p.msgs, " "), st.p.kind
		row.Item = Item{ID: st.it.ID, Key: st.it.Key} // keep what identifies the row, drop the rest
	}
	return row
}

// cell validates one non-empty cell into the row's item.
func (v *Validator) cell(st *rowState, c Column, cell string) {
	switch c.Field {
	case FieldID:
		if v.Mode == ModeUpdate {
			v.id(st, cell)
		}
	case FieldAttribute:
		val, err := customer.ParseAttr(*c.Attr, cell)
		if err != nil { // every refusal of an attribute value is of that kind
			st.p.add(KindAttribute, "%s: %s", c.Name(), apperr.Message(err, "This value cannot be saved."))
			return
		}
		if st.it.Attrs == nil {
			st.it.Attrs = map[string]apiclient.AttributeValue{}
		}
		st.it.Attrs[c.Attr.ID] = val
	default:
		v.field(st, customer.Field(c.Field.String()), cell)
	}
}

// id reads the Dixa id of the customer to update.
func (v *Validator) id(st *rowState, cell string) {
	id, err := customer.ID(customer.Field(FieldID.String()), cell)
	if err != nil {
		st.p.refused(err, "id: ")
		return
	}
	st.it.ID = id
	if prev, dup := v.ids[id]; dup {
		st.p.add(KindDuplicate, "The same id is on row %d.", prev)
	} else {
		v.ids[id] = int32(st.num)
	}
}

// field validates a cell of an end-user field: one value, or a list split
// on "|" or line breaks.
func (v *Validator) field(st *rowState, f customer.Field, cell string) {
	var vals []string
	var err error
	if f.List() {
		vals, err = v.rules.List(f, splitList(cell))
	} else {
		vals, err = v.rules.Values(f, []string{cell})
	}
	if err != nil {
		if f.List() {
			st.p.refused(err, "%s: ", f)
		} else {
			st.p.refused(err, "%s %s: ", f, customer.Quote(cell))
		}
		return
	}
	dup := v.duplicate(st, f, vals)
	if v.Mode == ModeUpdate && ((f == customer.Email && v.MatchBy == MatchEmail) || (f == customer.ExternalID && v.MatchBy == MatchExternalID)) {
		st.it.Key = vals[0] // the key, not a change
		st.changes = append(st.changes, customer.Change{Field: f, Base: vals})
		return
	}
	if dup {
		return
	}
	customer.SetPatch(&st.it.Patch, f, vals)
	st.changes = append(st.changes, customer.Change{Field: f, Yours: vals, Changed: true})
}

// duplicate finds an email, phone number or external ID given on an
// earlier row; it reports whether the row is refused for it.
func (v *Validator) duplicate(st *rowState, f customer.Field, vals []string) bool {
	var seen map[string]int32
	key, what := vals[0], string(f)
	switch f {
	case customer.Email:
		seen, key, what = v.emails, strings.ToLower(key), "email"
	case customer.PhoneNumber:
		seen, what = v.phones, "phone number"
	case customer.ExternalID:
		seen = v.extIDs
	default:
		return false
	}
	if prev, dup := seen[key]; dup {
		st.p.add(KindDuplicate, "The %s %s is also on row %d.", what, clip(vals[0]), prev)
		return true
	}
	seen[key] = int32(st.num)
	return false
}

// whole checks the row as a whole: an update must say which customer it
// is, and a row must change something.
func (v *Validator) whole(st *rowState) {
	it, p := st.it, &st.p
	if v.Mode == ModeUpdate && p.kind == "" {
		switch {
		case v.MatchBy == MatchID && it.ID == "":
			p.add(KindID, "The id cell is empty: the console cannot tell which customer to update.")
		case v.MatchBy == MatchEmail && it.Key == "":
			p.add(KindID, "The email cell is empty: the console cannot tell which customer to update.")
		case v.MatchBy == MatchExternalID && it.Key == "":
			p.add(KindID, "The externalId cell is empty: the console cannot tell which customer to update.")
		}
	}
	if p.kind == "" && it.Patch.IsEmpty() && len(it.Attrs) == 0 {
		if v.Mode == ModeUpdate {
			p.add(KindEmpty, "Every cell apart from the key is empty: nothing to change.")
		} else {
			p.add(KindEmpty, "Every cell is empty: nothing to create.")
		}
	}
}

// splitList splits a multi-value cell on "|" or line breaks.
func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == '\n' || r == '\r' })
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	r := []rune(s)
	return string(r[:60]) + "…"
}
