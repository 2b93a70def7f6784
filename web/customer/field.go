package customer

import (
	"slices"

	"github.com/example/dixa-console/apiclient"
)

// Field is a writable end-user field, named as in Dixa's API.
type Field string

// The writable fields.
const (
	DisplayName            Field = "displayName"
	FirstName              Field = "firstName"
	MiddleNames            Field = "middleNames"
	LastName               Field = "lastName"
	Email                  Field = "email"
	PhoneNumber            Field = "phoneNumber"
	AdditionalEmails       Field = "additionalEmails"
	AdditionalPhoneNumbers Field = "additionalPhoneNumbers"
	ExternalID             Field = "externalId"
	AvatarURL              Field = "avatarUrl"
)

// Bounds of the kinds of value (see the package comment).
const (
	MaxNameLen     = 255  // a name or an identifier, in characters
	MaxEmailLen    = 254  // an email address
	MaxPhoneLen    = 40   // a phone number as typed
	MaxURLLen      = 2048 // a web address
	MaxAttrTextLen = 1000 // a Text custom attribute
	MaxListItems   = 20   // middle names, additional emails, additional phone numbers
)

// kind is what sort of value a field holds.
type kind int

const (
	kindName kind = iota
	kindEmail
	kindPhone
	kindURL
)

// Fields lists the writable fields in the order the forms show them.
func Fields() []Field {
	return []Field{DisplayName, FirstName, LastName, Email, PhoneNumber, ExternalID, AvatarURL,
		MiddleNames, AdditionalEmails, AdditionalPhoneNumbers}
}

// Known reports whether f is one of the writable fields.
func (f Field) Known() bool { return slices.Contains(Fields(), f) }

// List reports whether the field holds a list of values.
func (f Field) List() bool {
	return f == MiddleNames || f == AdditionalEmails || f == AdditionalPhoneNumbers
}

func (f Field) kind() kind {
	switch f {
	case Email, AdditionalEmails:
		return kindEmail
	case PhoneNumber, AdditionalPhoneNumbers:
		return kindPhone
	case AvatarURL:
		return kindURL
	}
	return kindName
}

// MaxLen is the bound of one value of the field (one item of a list), in
// characters.
func (f Field) MaxLen() int {
	switch f.kind() {
	case kindEmail:
		return MaxEmailLen
	case kindPhone:
		return MaxPhoneLen
	case kindURL:
		return MaxURLLen
	}
	return MaxNameLen
}

// MaxItems is the bound of a list field; 1 for the others.
func (f Field) MaxItems() int {
	if f.List() {
		return MaxListItems
	}
	return 1
}

// Held is the value of f in a customer record: one value, or the list.
func Held(f Field, u apiclient.EndUser) []string {
	switch f {
	case DisplayName:
		return []string{u.DisplayName}
	case FirstName:
		return []string{u.FirstName}
	case LastName:
		return []string{u.LastName}
	case Email:
		return []string{u.Email}
	case PhoneNumber:
		return []string{u.PhoneNumber}
	case ExternalID:
		return []string{u.ExternalID}
	case AvatarURL:
		return []string{u.AvatarURL}
	case MiddleNames:
		return slices.Clone(u.MiddleNames)
	case AdditionalEmails:
		return slices.Clone(u.AdditionalEmails)
	case AdditionalPhoneNumbers:
		return slices.Clone(u.AdditionalPhoneNumbers)
	}
	return nil
}

// Same reports whether two values of a field are equal; a nil and an
// empty list are the same.
func Same(a, b []string) bool { return slices.Equal(a, b) }

// SetPatch sets field f of a PATCH body to v (a list, or one value; an
// empty single value clears the field).
func SetPatch(p *apiclient.PatchEndUserInput, f Field, v []string) {
	one := func() *string {
		x := ""
		if len(v) > 0 {
			x = v[0]
		}
		return &x
	}
	list := func() *[]string { x := append([]string{}, v...); return &x }
	switch f {
	case DisplayName:
		p.DisplayName = one()
	case FirstName:
		p.FirstName = one()
	case LastName:
		p.LastName = one()
	case MiddleNames:
		p.MiddleNames = list()
	case Email:
		p.Email = one()
	case PhoneNumber:
		p.PhoneNumber = one()
	case AdditionalEmails:
		p.AdditionalEmails = list()
	case AdditionalPhoneNumbers:
		p.AdditionalPhoneNumbers = list()
	case AvatarURL:
		p.AvatarURL = one()
	case ExternalID:
		p.ExternalID = one()
	}
}

// Patched is the value a PATCH body sets field f to (one value, or the
// list), and whether it sets it: the reverse of SetPatch.
func Patched(p apiclient.PatchEndUserInput, f Field) ([]string, bool) {
	one := func(s *string) ([]string, bool) {
		if s == nil {
			return nil, false
		}
		return []string{*s}, true
	}
	list := func(l *[]string) ([]string, bool) {
		if l == nil {
			return nil, false
		}
		return *l, true
	}
	switch f {
	case DisplayName:
		return one(p.DisplayName)
	case FirstName:
		return one(p.FirstName)
	case LastName:
		return one(p.LastName)
	case Email:
		return one(p.Email)
	case PhoneNumber:
		return one(p.PhoneNumber)
	case ExternalID:
		return one(p.ExternalID)
	case AvatarURL:
		return one(p.AvatarURL)
	case MiddleNames:
		return list(p.MiddleNames)
	case AdditionalEmails:
		return list(p.AdditionalEmails)
	case AdditionalPhoneNumbers:
		return list(p.AdditionalPhoneNumbers)
	}
	return nil, false
}

// CreateInput turns a patch into the body of a create: the fields set in
// p, the others absent.
func CreateInput(p apiclient.PatchEndUserInput) apiclient.CreateEndUserInput {
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	list := func(l *[]string) []string {
		if l == nil {
			return nil
		}
		return *l
	}
	return apiclient.CreateEndUserInput{
		DisplayName: str(p.DisplayName), Email: str(p.Email), PhoneNumber: str(p.PhoneNumber),
		AdditionalEmails: list(p.AdditionalEmails), AdditionalPhoneNumbers: list(p.AdditionalPhoneNumbers),
		FirstName: str(p.FirstName), LastName: str(p.LastName), MiddleNames: list(p.MiddleNames),
		AvatarURL: str(p.AvatarURL), ExternalID: str(p.ExternalID),
	}
}

// Name is how a customer is named in the console: the display name, else
// first and last name, else the email, else a placeholder.
func Name(u apiclient.EndUser) string {
	if n := trimSpace(u.DisplayName); n != "" {
		return n
	}
	if n := trimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	if u.Email != "" {
		return u.Email
	}
	return "(no name)"
}
