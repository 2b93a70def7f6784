package importjob

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"

	"github.com/example/dixa-console/apiclient"
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

// Limits on cell values. Dixa documents none (NOTES §11); these keep
// obviously broken data out and requests small.
const (
	MaxNameLen  = 255
	MaxEmailLen = 254
	MaxURLLen   = 2048
	MaxCellLen  = 4000
	MaxListLen  = 20 // additional emails/phones, middle names
)

// Validator checks rows one by one, remembering the identifiers seen so
// far to find duplicates inside the file. Its memory is a few map entries
// per row; the rows themselves are not kept.
type Validator struct {
	Mode    Mode
	MatchBy string
	Region  string // PHONE_DEFAULT_REGION
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
	v := &Validator{Mode: mode, Region: region, m: m,
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

// Row validates one record (row number num) and returns the row to store:
// the item to send, or the problem why it is skipped.
func (v *Validator) Row(num int, rec []string) Row {
	row := Row{Num: num}
	var p problems
	if len(rec) != v.m.Width {
		p.add(KindShape, "This row has %d cells but the header has %d; a cell is missing or a separator is not quoted.", len(rec), v.m.Width)
		row.Problem, row.Kind = strings.Join(p.msgs, " "), p.kind
		return row
	}
	it := &row.Item
	set := 0
	for _, c := range v.m.Columns {
		cell := strings.TrimSpace(rec[c.Index])
		if cell == "" {
			continue // PATCH semantics: an empty cell leaves the field as it is
		}
		if utf8.RuneCountInString(cell) > MaxCellLen {
			p.add(KindLength, "%s is longer than %d characters.", c.Name(), MaxCellLen)
			continue
		}
		if strings.IndexFunc(cell, isBadControl) >= 0 {
			p.add(KindLength, "%s contains control characters.", c.Name())
			continue
		}
		switch c.Field {
		case FieldID:
			if v.Mode != ModeUpdate {
				continue
			}
			if !isUUID(cell) {
				p.add(KindID, "id %q is not a Dixa id (it looks like 3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a).", clip(cell))
				continue
			}
			it.ID = strings.ToLower(cell)
			if prev, dup := v.ids[it.ID]; dup {
				p.add(KindDuplicate, "The same id is on row %d.", prev)
			} else {
				v.ids[it.ID] = int32(num)
			}
			continue
		case FieldDisplayName, FieldFirstName, FieldLastName:
			if utf8.RuneCountInString(cell) > MaxNameLen {
				p.add(KindLength, "%s is longer than %d characters.", c.Name(), MaxNameLen)
				continue
			}
			s := cell
			switch c.Field {
			case FieldDisplayName:
				it.Patch.DisplayName = &s
			case FieldFirstName:
				it.Patch.FirstName = &s
			default:
				it.Patch.LastName = &s
			}
		case FieldMiddleNames:
			names := splitList(cell)
			if len(names) > MaxListLen {
				p.add(KindLength, "middleNames has more than %d names.", MaxListLen)
				continue
			}
			it.Patch.MiddleNames = &names
		case FieldEmail:
			e, ok := v.email(cell, &p, "email")
			if !ok {
				continue
			}
			k := strings.ToLower(e)
			if prev, dup := v.emails[k]; dup {
				p.add(KindDuplicate, "The email %s is also on row %d.", e, prev)
			} else {
				v.emails[k] = int32(num)
			}
			if v.Mode == ModeUpdate && v.MatchBy == MatchEmail {
				it.Key = e // the key, not a change
				continue
			}
			it.Patch.Email = &e
		case FieldPhoneNumber:
			ph, ok := v.phone(cell, &p, "phoneNumber")
			if !ok {
				continue
			}
			if prev, dup := v.phones[ph]; dup {
				p.add(KindDuplicate, "The phone number %s is also on row %d.", ph, prev)
			} else {
				v.phones[ph] = int32(num)
			}
			it.Patch.PhoneNumber = &ph
		case FieldAdditionalEmails:
			var list []string
			for _, e := range splitList(cell) {
				if e, ok := v.email(e, &p, "additionalEmails"); ok {
					list = append(list, e)
				}
			}
			if len(list) > MaxListLen {
				p.add(KindLength, "additionalEmails has more than %d addresses.", MaxListLen)
				continue
			}
			it.Patch.AdditionalEmails = &list
		case FieldAdditionalPhoneNumbers:
			var list []string
			seen := map[string]bool{}
			for _, s := range splitList(cell) {
				ph, ok := v.phone(s, &p, "additionalPhoneNumbers")
				if !ok || seen[ph] {
					continue
				}
				seen[ph] = true
				list = append(list, ph)
			}
			if len(list) > MaxListLen {
				p.add(KindLength, "additionalPhoneNumbers has more than %d numbers.", MaxListLen)
				continue
			}
			it.Patch.AdditionalPhoneNumbers = &list
		case FieldAvatarURL:
			u, err := url.Parse(cell)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(cell) > MaxURLLen {
				p.add(KindURL, "avatarUrl must be an http or https address of at most %d characters.", MaxURLLen)
				continue
			}
			it.Patch.AvatarURL = &cell
		case FieldExternalID:
			if utf8.RuneCountInString(cell) > MaxNameLen {
				p.add(KindLength, "externalId is longer than %d characters.", MaxNameLen)
				continue
			}
			if prev, dup := v.extIDs[cell]; dup {
				p.add(KindDuplicate, "The externalId %s is also on row %d.", clip(cell), prev)
			} else {
				v.extIDs[cell] = int32(num)
			}
			if v.Mode == ModeUpdate && v.MatchBy == MatchExternalID {
				it.Key = cell
				continue
			}
			s := cell
			it.Patch.ExternalID = &s
		case FieldAttribute:
			val, msg := attributeValue(c.Attr, cell)
			if msg != "" {
				p.add(KindAttribute, "%s: %s", c.Name(), msg)
				continue
			}
			if it.Attrs == nil {
				it.Attrs = map[string]apiclient.AttributeValue{}
			}
			it.Attrs[c.Attr.ID] = val
		}
		set++
	}
	if v.Mode == ModeUpdate {
		switch {
		case v.MatchBy == MatchID && it.ID == "" && p.kind == "":
			p.add(KindID, "The id cell is empty: the console cannot tell which customer to update.")
		case v.MatchBy == MatchEmail && it.Key == "" && p.kind == "":
			p.add(KindID, "The email cell is empty: the console cannot tell which customer to update.")
		case v.MatchBy == MatchExternalID && it.Key == "" && p.kind == "":
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
	if p.kind != "" {
		row.Problem, row.Kind = strings.Join(p.msgs, " "), p.kind
		row.Item = Item{ID: it.ID, Key: it.Key} // keep what identifies the row, drop the rest
	}
	return row
}

func (v *Validator) email(s string, p *problems, field string) (string, bool) {
	s = strings.TrimSpace(s)
	if !ValidEmail(s) {
		p.add(KindEmail, "%s %q is not an email address.", field, clip(s))
		return "", false
	}
	return s, true
}

func (v *Validator) phone(s string, p *problems, field string) (string, bool) {
	e164, err := NormalizePhone(s, v.Region)
	if err != nil {
		p.add(KindPhone, "%s %q: %s", field, clip(s), err.Error())
		return "", false
	}
	return e164, true
}

// ValidEmail is a deliberately plain check: one "@", something before it,
// a dotted domain, no spaces or separators, at most 254 characters.
func ValidEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	return ok && local != "" && len(e) <= MaxEmailLen &&
		strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") &&
		!strings.ContainsAny(e, " \t\r\n<>,;\"()[]\\") && !strings.Contains(domain, "@") && !strings.Contains(domain, "..")
}

type phoneError string

func (e phoneError) Error() string { return string(e) }

// NormalizePhone returns s in E.164, reading numbers without a country code
// as numbers of region.
func NormalizePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return "", phoneError("too long for a phone number.")
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", phoneError("not a phone number the console can read; use the international form, such as +45 20 12 34 56.")
	}
	if !phonenumbers.IsPossibleNumber(n) {
		return "", phoneError("the wrong number of digits for its country.")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
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

// attributeValue reads a cell for a custom attribute: any text for a Text
// attribute; for a Select, the option's value or label, nested options as
// a path joined by "/", ">" or "›".
func attributeValue(d *apiclient.CustomAttributeDefinition, cell string) (apiclient.AttributeValue, string) {
	switch d.InputDefinition.Type {
	case apiclient.InputText:
		return apiclient.TextValue(cell), ""
	case apiclient.InputSelect:
		parts := strings.FieldsFunc(cell, func(r rune) bool { return r == '/' || r == '>' || r == '›' })
		opts := d.InputDefinition.Options
		var path []string
		for i, part := range parts {
			part = strings.TrimSpace(part)
			var found *apiclient.SelectOption
			for j := range opts {
				if strings.EqualFold(opts[j].Value, part) || strings.EqualFold(opts[j].Label, part) {
					found = &opts[j]
					break
				}
			}
			if found == nil || found.IsDeactivated {
				var names []string
				for _, o := range opts {
					if !o.IsDeactivated {
						names = append(names, o.Value)
					}
				}
				if len(names) > 8 {
					names = append(names[:8], "…")
				}
				what := "option"
				if i > 0 {
					what = "option under " + strings.Join(path, "/")
				}
				return apiclient.AttributeValue{}, fmt.Sprintf("%q is not an active %s (choose from %s).", clip(part), what, strings.Join(names, ", "))
			}
			path = append(path, found.Value)
			opts = found.NestedOptions
		}
		if len(path) == 0 {
			return apiclient.AttributeValue{}, "no option given."
		}
		return apiclient.SelectValue(path...), ""
	}
	return apiclient.AttributeValue{}, "the console cannot set attributes of kind " + strconv.Quote(d.InputDefinition.Type) + "."
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// isBadControl: control characters other than tab and line breaks (which
// quoted cells may hold).
func isBadControl(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	r := []rune(s)
	return string(r[:60]) + "…"
}
