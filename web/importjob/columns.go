package importjob

import (
	"slices"
	"strconv"
	"strings"

	"github.com/example/dixa-console/apiclient"
)

// Field is an end-user field a column can hold.
type Field int

// Fields, named as in the API.
const (
	FieldNone Field = iota
	FieldID
	FieldDisplayName
	FieldFirstName
	FieldLastName
	FieldMiddleNames
	FieldEmail
	FieldPhoneNumber
	FieldAdditionalEmails
	FieldAdditionalPhoneNumbers
	FieldAvatarURL
	FieldExternalID
	FieldAttribute // attr.<identifier>
)

var fieldNames = [...]string{"", "id", "displayName", "firstName", "lastName", "middleNames", "email",
	"phoneNumber", "additionalEmails", "additionalPhoneNumbers", "avatarUrl", "externalId", "attr"}

// String is the API's name of the field.
func (f Field) String() string { return fieldNames[f] }

// aliases maps a normalised header (lower case, without spaces, dashes,
// underscores and dots) to a field: the API's names plus what people
// commonly write.
var aliases = map[string]Field{
	"id": FieldID, "dixaid": FieldID, "userid": FieldID, "enduserid": FieldID,
	"displayname": FieldDisplayName, "name": FieldDisplayName, "fullname": FieldDisplayName,
	"firstname": FieldFirstName, "givenname": FieldFirstName, "forename": FieldFirstName, "first": FieldFirstName,
	"lastname": FieldLastName, "surname": FieldLastName, "familyname": FieldLastName, "last": FieldLastName,
	"middlenames": FieldMiddleNames, "middlename": FieldMiddleNames,
	"email": FieldEmail, "emailaddress": FieldEmail, "mail": FieldEmail, "primaryemail": FieldEmail,
	"phonenumber": FieldPhoneNumber, "phone": FieldPhoneNumber, "mobile": FieldPhoneNumber, "mobilephone": FieldPhoneNumber,
	"mobilenumber": FieldPhoneNumber, "tel": FieldPhoneNumber, "telephone": FieldPhoneNumber, "cell": FieldPhoneNumber,
	"cellphone": FieldPhoneNumber, "primaryphone": FieldPhoneNumber,
	"additionalemails": FieldAdditionalEmails, "additionalemail": FieldAdditionalEmails, "otheremails": FieldAdditionalEmails,
	"additionalphonenumbers": FieldAdditionalPhoneNumbers, "additionalphonenumber": FieldAdditionalPhoneNumbers,
	"additionalphones": FieldAdditionalPhoneNumbers, "otherphones": FieldAdditionalPhoneNumbers,
	"avatarurl": FieldAvatarURL, "avatar": FieldAvatarURL, "pictureurl": FieldAvatarURL, "photourl": FieldAvatarURL,
	"externalid": FieldExternalID, "extid": FieldExternalID, "externalreference": FieldExternalID, "externalref": FieldExternalID,
}

func normalizeHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch r {
		case ' ', '-', '_', '.', '\t':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// attrPrefix splits "attr.<identifier>" (also "attr:" and "attribute.",
// any case) and reports whether h is one.
func attrPrefix(h string) (string, bool) {
	h = strings.TrimSpace(h)
	l := strings.ToLower(h)
	for _, p := range []string{"attr.", "attr:", "attribute.", "attribute:"} {
		if strings.HasPrefix(l, p) {
			return strings.TrimSpace(h[len(p):]), true
		}
	}
	return "", false
}

// Column is one column of the file and what it was matched to.
type Column struct {
	Index  int    // 0-based position in the file
	Header string // as written
	Field  Field
	// Attr is the custom attribute definition of an attr.<identifier>
	// column.
	Attr *apiclient.CustomAttributeDefinition
}

// Name is what the column is matched to: "email", "attr.tier".
func (c Column) Name() string {
	if c.Field == FieldAttribute && c.Attr != nil {
		return "attr." + c.Attr.Identifier
	}
	return c.Field.String()
}

// Mapping is the header of a file matched to fields.
type Mapping struct {
	Columns []Column // matched columns, in file order
	// Unknown lists the headers that match no field; their cells are
	// ignored.
	Unknown []string
	// Ignored lists matched columns not used in this mode (id on create).
	Ignored []string
	Width   int // number of header cells
	byField map[Field]int
}

// Has reports whether a column holds f.
func (m *Mapping) Has(f Field) bool { _, ok := m.byField[f]; return ok }

// MapHeader matches header cells to fields, case-insensitively and with
// the common variants; attr.<identifier> columns are matched to the active
// Contact attribute definitions in defs. A header in which nothing is
// recognised, or in which two columns mean the same field, is an
// *apperr.Error.
func MapHeader(header []string, defs []apiclient.CustomAttributeDefinition) (*Mapping, error) {
	m := &Mapping{Width: len(header), byField: map[Field]int{}}
	attrSeen := map[string]int{}
	for i, h := range header {
		name := strings.TrimSpace(h)
		if name == "" {
			if i < len(header)-1 || len(header) == 1 {
				m.Unknown = append(m.Unknown, "(column "+strconv.Itoa(i+1)+" has no name)")
			}
			continue
		}
		if ident, ok := attrPrefix(name); ok {
			d := findDef(defs, ident)
			if d == nil {
				m.Unknown = append(m.Unknown, name+" (no active customer attribute with that identifier)")
				continue
			}
			if j, dup := attrSeen[d.ID]; dup {
				return nil, fileErrorf("Columns %d and %d are both the custom attribute %q. Keep one of them.", j+1, i+1, d.Identifier)
			}
			attrSeen[d.ID] = i
			m.Columns = append(m.Columns, Column{Index: i, Header: h, Field: FieldAttribute, Attr: d})
			continue
		}
		f, ok := aliases[normalizeHeader(name)]
		if !ok {
			m.Unknown = append(m.Unknown, name)
			continue
		}
		if j, dup := m.byField[f]; dup {
			return nil, fileErrorf("Columns %d (%q) and %d (%q) both mean %s. Keep one of them.", j+1, header[j], i+1, h, f)
		}
		m.byField[f] = i
		m.Columns = append(m.Columns, Column{Index: i, Header: h, Field: f})
	}
	if len(m.Columns) == 0 {
		shown := header
		if len(shown) > 5 {
			shown = shown[:5]
		}
		return nil, fileErrorf("The first line must be a header naming the columns (such as email, phoneNumber, firstName, lastName, externalId), but none of its cells (%s) names a field the console knows.", quoteList(shown))
	}
	return m, nil
}

func findDef(defs []apiclient.CustomAttributeDefinition, ident string) *apiclient.CustomAttributeDefinition {
	for i := range defs {
		d := &defs[i]
		if d.EntityType == apiclient.EntityContact && !d.IsArchived && !d.IsDeactivated && strings.EqualFold(d.Identifier, ident) {
			return d
		}
	}
	return nil
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// NeedsAttributeDefinitions reports whether the header has attr.* columns,
// so that the definitions must be fetched (one request) before mapping.
func NeedsAttributeDefinitions(header []string) bool {
	return slices.ContainsFunc(header, func(h string) bool { _, ok := attrPrefix(h); return ok })
}
