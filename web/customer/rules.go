package customer

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/example/dixa-console/web/apperr"
)

// Reasons a value is refused: the Cause of the *apperr.Error, so that a
// caller can count refusals by kind. The message says it to people.
var (
	ErrTooLong   = errors.New("customer: too long")
	ErrTooMany   = errors.New("customer: too many items")
	ErrControl   = errors.New("customer: control characters")
	ErrEmail     = errors.New("customer: not an email address")
	ErrPhone     = errors.New("customer: not a phone number")
	ErrURL       = errors.New("customer: not a web address")
	ErrDuplicate = errors.New("customer: listed twice")
	ErrID        = errors.New("customer: not a Dixa id")
	ErrOption    = errors.New("customer: not an active option")
)

// refuse is the error for a value of field f refused for reason.
func refuse(f Field, reason error, format string, args ...any) *apperr.Error {
	return &apperr.Error{Code: apperr.Invalid, Field: string(f), Msg: fmt.Sprintf(format, args...), Cause: reason}
}

// Rules applies the field rules; Region is the default region of phone
// numbers typed without a country code (an ISO 3166 code such as "DK").
type Rules struct {
	Region string
}

// New returns the rules with the default phone region.
func New(region string) Rules { return Rules{Region: region} }

// Value checks and normalises one value of field f (a single field, or one
// item of a list): trimmed, phone numbers in E.164. An empty value is
// valid (it clears a single field).
func (r Rules) Value(f Field, v string) (string, error) {
	v = trimSpace(v)
	if v == "" {
		return "", nil
	}
	switch f.kind() {
	case kindEmail:
		return v, checkEmail(f, v)
	case kindPhone:
		return r.phone(f, v)
	case kindURL:
		return v, checkURL(f, v)
	}
	return v, checkText(f, v, MaxNameLen)
}

// List checks and normalises the items of a list field: each trimmed and
// checked as by Value, empty items dropped, at most MaxListItems, no email
// (in any case) or phone number twice. A refused item is named in the
// message.
func (r Rules) List(f Field, items []string) ([]string, error) {
	var out []string
	for _, it := range items {
		if it = trimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	if len(out) > MaxListItems {
		return nil, refuse(f, ErrTooMany, "Give at most %d, one per line (this has %d).", MaxListItems, len(out))
	}
	seen := map[string]bool{}
	for i, it := range out {
		n, err := r.Value(f, it)
		if err != nil {
			e, _ := apperr.As(err)
			return nil, refuse(f, e.Cause, "%s: %s", Quote(it), e.Msg)
		}
		out[i] = n
		if f == MiddleNames {
			continue
		}
		key := n
		if f.kind() == kindEmail {
			key = strings.ToLower(n)
		}
		if seen[key] {
			return nil, refuse(f, ErrDuplicate, "%s is listed twice.", Quote(it))
		}
		seen[key] = true
	}
	return out, nil
}

// Values checks a field's values: List for a list field, else Value of the
// one value (a missing value is empty).
func (r Rules) Values(f Field, vals []string) ([]string, error) {
	if f.List() {
		return r.List(f, vals)
	}
	v := ""
	if len(vals) > 0 {
		v = vals[0]
	}
	n, err := r.Value(f, v)
	if err != nil {
		return nil, err
	}
	return []string{n}, nil
}

// Overlap finds the primary email or phone number repeated among the
// additional ones (Dixa holds a phone number once per customer). primary
// and list are normalised values; the email comparison ignores case. It
// returns the repeated item and whether there is one.
func Overlap(primaryField Field, primary string, list []string) (string, bool) {
	if primary == "" {
		return "", false
	}
	for _, x := range list {
		if x == primary || (primaryField == Email && strings.EqualFold(x, primary)) {
			return x, true
		}
	}
	return "", false
}

// OverlapError is the refusal for an item of the additional list of
// primaryField that repeats the primary value. onList puts the message on
// the additional list (the person changed it), else on the primary field.
func OverlapError(primaryField Field, item string, onList bool) *apperr.Error {
	what, list, other := "phone number", AdditionalPhoneNumbers, "phone numbers"
	if primaryField == Email {
		what, list, other = "email", AdditionalEmails, "emails"
	}
	if onList {
		return refuse(list, ErrDuplicate, "%s is already the main %s.", Quote(item), what)
	}
	return refuse(primaryField, ErrDuplicate, "This is already listed among the additional %s.", other)
}

func checkText(f Field, v string, max int) error {
	switch {
	case !utf8.ValidString(v):
		return refuse(f, ErrControl, "This contains characters that cannot be saved.")
	case utf8.RuneCountInString(v) > max:
		return refuse(f, ErrTooLong, "Use at most %d characters (this has %d).", max, utf8.RuneCountInString(v))
	case HasControl(v):
		return refuse(f, ErrControl, "Remove line breaks and control characters.")
	}
	return nil
}

// checkEmail accepts a plain address: name@domain.tld with a dot inside
// the domain, no display name, no quoting, no spaces.
func checkEmail(f Field, v string) error {
	if n := utf8.RuneCountInString(v); n > MaxEmailLen {
		return refuse(f, ErrTooLong, "Use at most %d characters (this has %d).", MaxEmailLen, n)
	}
	if !ValidEmail(v) {
		return refuse(f, ErrEmail, "Enter an email address such as name@example.com.")
	}
	return nil
}

// ValidEmail reports whether v is an email address the console accepts
// (see checkEmail).
func ValidEmail(v string) bool {
	if v == "" || len(v) > MaxEmailLen || strings.ContainsAny(v, " \t\r\n<>,;:\"()[]\\") || HasControl(v) {
		return false
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return false
	}
	local, domain, ok := strings.Cut(v, "@")
	return ok && local != "" && strings.Contains(domain, ".") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}

func checkURL(f Field, v string) error {
	if n := utf8.RuneCountInString(v); n > MaxURLLen {
		return refuse(f, ErrTooLong, "Use at most %d characters (this has %d).", MaxURLLen, n)
	}
	if !ValidURL(v) {
		return refuse(f, ErrURL, "Use a full web address starting with https:// or http://.")
	}
	return nil
}

// ValidURL reports whether v is an absolute http or https address with a
// host, no user name and no control characters.
func ValidURL(v string) bool {
	if HasControl(v) {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// ValidID reports whether s is a Dixa id: a UUID in its 36-character form
// (any case).
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// ID checks a Dixa id and returns it in lower case.
func ID(f Field, s string) (string, error) {
	s = trimSpace(s)
	if !ValidID(s) {
		return "", refuse(f, ErrID, "%s is not a Dixa ID (one looks like 3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a).", Quote(s))
	}
	return strings.ToLower(s), nil
}

// HasControl reports whether s holds a control character (line breaks
// and tabs included).
func HasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

// Quote names a value in a message, shortened to 40 characters.
func Quote(v string) string {
	if utf8.RuneCountInString(v) > 40 {
		r := []rune(v)
		v = string(r[:40]) + "…"
	}
	return "“" + v + "”"
}

func trimSpace(s string) string { return strings.TrimSpace(s) }
