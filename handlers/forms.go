package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
)

// The profile form (interface.md §5): fields carry the API's names; the
// additional emails and phone numbers, and the middle names, are one per
// line.

type fieldKind int

const (
	kindText fieldKind = iota
	kindEmail
	kindPhone
	kindURL
	kindNames  // lines of text
	kindEmails // lines of email addresses
	kindPhones // lines of phone numbers
)

// Length limits. Dixa documents none; these are generous for real data and
// keep absurd input out.
const (
	MaxNameLen     = 200
	MaxEmailLen    = 254
	MaxPhoneLen    = 40
	MaxURLLen      = 2048
	MaxExternalLen = 200
	MaxListItems   = 20
	MaxMiddleNames = 10
)

type fieldSpec struct {
	name, label, typ, autocomplete, hint string
	kind                                 fieldKind
	max                                  int
	get                                  func(apiclient.EndUser) []string
}

func (s fieldSpec) list() bool { return s.kind >= kindNames }

// profileSpecs lists the writable profile fields in form order.
func profileSpecs() []fieldSpec {
	one := func(f func(apiclient.EndUser) string) func(apiclient.EndUser) []string {
		return func(u apiclient.EndUser) []string { return []string{f(u)} }
	}
	return []fieldSpec{
		{name: "displayName", label: "Display name", typ: "text", autocomplete: "off", kind: kindText, max: MaxNameLen,
			get: one(func(u apiclient.EndUser) string { return u.DisplayName })},
		{name: "firstName", label: "First name", typ: "text", autocomplete: "off", kind: kindText, max: MaxNameLen,
			get: one(func(u apiclient.EndUser) string { return u.FirstName })},
		{name: "lastName", label: "Last name", typ: "text", autocomplete: "off", kind: kindText, max: MaxNameLen,
			get: one(func(u apiclient.EndUser) string { return u.LastName })},
		{name: "email", label: "Email", typ: "email", autocomplete: "off", kind: kindEmail, max: MaxEmailLen,
			get: one(func(u apiclient.EndUser) string { return u.Email })},
		{name: "phoneNumber", label: "Phone number", typ: "tel", autocomplete: "off", kind: kindPhone, max: MaxPhoneLen,
			hint: "Any common form; numbers without a country code are read as local.",
			get:  one(func(u apiclient.EndUser) string { return u.PhoneNumber })},
		{name: "externalId", label: "External ID", typ: "text", autocomplete: "off", kind: kindText, max: MaxExternalLen,
			get: one(func(u apiclient.EndUser) string { return u.ExternalID })},
		{name: "avatarUrl", label: "Avatar URL", typ: "url", autocomplete: "off", kind: kindURL, max: MaxURLLen,
			hint: "An https:// or http:// address of an image.",
			get:  one(func(u apiclient.EndUser) string { return u.AvatarURL })},
		{name: "middleNames", label: "Middle names", typ: "lines", kind: kindNames, max: MaxNameLen,
			hint: "One per line.", get: func(u apiclient.EndUser) []string { return u.MiddleNames }},
		{name: "additionalEmails", label: "Additional emails", typ: "lines", kind: kindEmails, max: MaxEmailLen,
			hint: "One per line.", get: func(u apiclient.EndUser) []string { return u.AdditionalEmails }},
		{name: "additionalPhoneNumbers", label: "Additional phone numbers", typ: "lines", kind: kindPhones, max: MaxPhoneLen,
			hint: "One per line.", get: func(u apiclient.EndUser) []string { return u.AdditionalPhoneNumbers }},
	}
}

// fieldValue is one field of a submitted (or rendered) form.
type fieldValue struct {
	spec fieldSpec
	// raw is the text as typed, kept for re-rendering.
	raw string
	// yours is the typed value, trimmed (lists: one item per non-empty line).
	yours []string
	// norm is yours validated and normalised (phones in E.164).
	norm []string
	// base is what the form was rendered from.
	base    []string
	changed bool
	err     string
	// conflict, on a 409: what Dixa holds now; choice the person's pick.
	theirs   []string
	conflict bool
	oldBase  []string
	choice   string
}

// canonical splits and trims a typed value.
func canonical(s fieldSpec, raw string) []string {
	if !s.list() {
		return []string{strings.TrimSpace(raw)}
	}
	var out []string
	for _, line := range strings.Split(raw, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// held is a field's value in a customer record, in canonical form.
func held(s fieldSpec, u apiclient.EndUser) []string {
	v := s.get(u)
	if s.list() {
		return slices.Clone(v)
	}
	return v
}

// same compares canonical values (nil and empty lists are the same).
func same(a, b []string) bool { return slices.Equal(a, b) }

// shown renders a value for the form (lists one per line).
func shown(s fieldSpec, v []string) string { return strings.Join(v, "\n") }

// readFields reads the profile fields from a form; with base, also the
// values the form was rendered from.
func readFields(form url.Values, withBase bool) []fieldValue {
	specs := profileSpecs()
	out := make([]fieldValue, len(specs))
	for i, s := range specs {
		raw := form.Get(s.name)
		if len(raw) > 64<<10 {
			raw = raw[:64<<10]
		}
		fv := fieldValue{spec: s, raw: raw, yours: canonical(s, raw)}
		if withBase {
			b := form["base."+s.name]
			if s.list() {
				fv.base = slices.Clone(b)
			} else if len(b) > 0 {
				fv.base = []string{b[0]}
			} else {
				fv.base = []string{""}
			}
		}
		out[i] = fv
	}
	return out
}

// validate checks and normalises fv.yours into fv.norm, or sets fv.err.
func (fv *fieldValue) validate(region string) {
	fv.norm, fv.err = nil, ""
	s := fv.spec
	switch s.kind {
	case kindText:
		v := fv.yours[0]
		fv.err = checkText(v, s.max)
		fv.norm = []string{v}
	case kindEmail:
		v := fv.yours[0]
		if v != "" {
			fv.err = checkEmail(v)
		}
		fv.norm = []string{v}
	case kindPhone:
		v := fv.yours[0]
		if v == "" {
			fv.norm = []string{""}
			return
		}
		e164, err := NormalizePhone(v, region)
		if err != nil {
			fv.err = err.Error()
			return
		}
		fv.norm = []string{e164}
	case kindURL:
		v := fv.yours[0]
		fv.norm = []string{v}
		switch {
		case v == "":
		case len(v) > MaxURLLen:
			fv.err = fmt.Sprintf("Use at most %d characters.", MaxURLLen)
		case views.SafeHTTPURL(v) == "":
			fv.err = "Use a full web address starting with https:// or http://."
		}
	case kindNames, kindEmails, kindPhones:
		fv.validateList(region)
	}
}

func (fv *fieldValue) validateList(region string) {
	s := fv.spec
	limit := MaxListItems
	if s.kind == kindNames {
		limit = MaxMiddleNames
	}
	if len(fv.yours) > limit {
		fv.err = fmt.Sprintf("Give at most %d, one per line.", limit)
		return
	}
	seen := map[string]bool{}
	norm := make([]string, 0, len(fv.yours))
	for _, v := range fv.yours {
		n := v
		switch s.kind {
		case kindNames:
			if msg := checkText(v, s.max); msg != "" {
				fv.err = quoteItem(v) + ": " + msg
				return
			}
		case kindEmails:
			if msg := checkEmail(v); msg != "" {
				fv.err = quoteItem(v) + ": " + msg
				return
			}
		case kindPhones:
			e164, err := NormalizePhone(v, region)
			if err != nil {
				fv.err = quoteItem(v) + ": " + err.Error()
				return
			}
			n = e164
		}
		key := n
		if s.kind == kindEmails {
			key = strings.ToLower(n)
		}
		if s.kind != kindNames && seen[key] {
			fv.err = quoteItem(v) + " is listed twice."
			return
		}
		seen[key] = true
		norm = append(norm, n)
	}
	fv.norm = norm
}

// quoteItem names a list item in a message, shortened.
func quoteItem(v string) string {
	if utf8.RuneCountInString(v) > 40 {
		r := []rune(v)
		v = string(r[:40]) + "…"
	}
	return "“" + v + "”"
}

func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

func checkText(v string, max int) string {
	switch {
	case utf8.RuneCountInString(v) > max:
		return fmt.Sprintf("Use at most %d characters.", max)
	case hasControl(v):
		return "Remove line breaks and control characters."
	case !utf8.ValidString(v):
		return "This contains characters that cannot be saved."
	}
	return ""
}

// checkEmail accepts a plain address (no display name), with a dot in the
// domain.
func checkEmail(v string) string {
	if len(v) > MaxEmailLen {
		return fmt.Sprintf("Use at most %d characters.", MaxEmailLen)
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return "Enter an email address such as name@example.com."
	}
	_, domain, _ := strings.Cut(v, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "Enter an email address such as name@example.com."
	}
	return ""
}

// final returns a field's value after the save: the normalised input when
// it changed, else the base.
func final(fv fieldValue) []string {
	if fv.changed {
		return fv.norm
	}
	return fv.base
}

func fieldByName(vals []fieldValue, name string) *fieldValue {
	for i := range vals {
		if vals[i].spec.name == name {
			return &vals[i]
		}
	}
	return nil
}

// crossCheck finds a primary phone or email repeated among the additional
// ones (Dixa refuses a phone number twice on one customer). The message
// goes on the field the person changed.
func crossCheck(vals []fieldValue) {
	pair := func(primary, list string, fold bool) {
		p, l := fieldByName(vals, primary), fieldByName(vals, list)
		if p == nil || l == nil || (!p.changed && !l.changed) || p.err != "" || l.err != "" {
			return
		}
		pv := final(*p)
		if len(pv) == 0 || pv[0] == "" {
			return
		}
		for _, x := range final(*l) {
			if x == pv[0] || (fold && strings.EqualFold(x, pv[0])) {
				if l.changed {
					l.err = quoteItem(x) + " is already the main " + map[bool]string{true: "email", false: "phone number"}[fold] + "."
				} else {
					p.err = "This is already listed among the additional " + map[bool]string{true: "emails", false: "phone numbers"}[fold] + "."
				}
				return
			}
		}
	}
	pair("phoneNumber", "additionalPhoneNumbers", false)
	pair("email", "additionalEmails", true)
}

// fieldErrors lists the field errors for the summary.
func fieldErrors(vals []fieldValue) []views.FieldError {
	var out []views.FieldError
	for _, fv := range vals {
		if fv.err != "" {
			out = append(out, views.FieldError{Field: "f-" + fv.spec.name, Label: fv.spec.label, Message: fv.err})
		}
	}
	return out
}

// formFields builds the controls; withBase adds the hidden base values.
func formFields(vals []fieldValue, withBase bool) []views.FormField {
	out := make([]views.FormField, 0, len(vals))
	for _, fv := range vals {
		f := views.FormField{
			Name: fv.spec.name, Label: fv.spec.label, Type: fv.spec.typ, Value: fv.raw,
			Autocomplete: fv.spec.autocomplete, Hint: fv.spec.hint, Error: fv.err, MaxLen: fv.spec.max,
		}
		if fv.spec.list() {
			f.MaxLen = 0
		}
		if withBase {
			f.Base = fv.base
			if f.Base == nil {
				f.Base = []string{}
			}
		}
		if fv.conflict {
			c := &views.Conflict{Theirs: shown(fv.spec, fv.theirs), Yours: shown(fv.spec, fv.norm), Choice: fv.choice}
			if fv.oldBase != nil {
				c.Base = emptyOr(shown(fv.spec, fv.oldBase))
			}
			if c.Yours == "" && fv.norm == nil {
				c.Yours = shown(fv.spec, fv.yours)
			}
			f.Conflict = c
		}
		out = append(out, f)
	}
	return out
}

// upstreamFailure classifies an upstream error for a form that is shown
// again with the person's input: it logs like the error funnel and sets
// Retry-After, and returns the safe status and message.
func upstreamFailure(w http.ResponseWriter, r *http.Request, err error) *respond.Err {
	e := respond.Classify(err)
	log := reqctx.Logger(r.Context())
	if e.Status >= 500 {
		log.Error("save failed", "status", e.Status, "err", err)
	} else {
		log.Info("save refused", "status", e.Status, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	return e
}

// dixaReason maps Dixa's validation codes (as in "[errors=PhoneNumberExists]")
// to the form field they concern and a message of our own; Dixa's text is
// never shown as such.
type dixaReason struct {
	code, field, other, msg string
}

func dixaReasons() []dixaReason {
	return []dixaReason{
		{"PhoneNumberExists", "phoneNumber", "additionalPhoneNumbers", "Dixa says another customer already has this phone number (PhoneNumberExists)."},
		{"EmailExists", "email", "", "Dixa says another customer already has this email address (EmailExists)."},
		{"Duplicate email address", "email", "", "Dixa says another customer already has this email address."},
		{"InvalidPhoneNumber", "phoneNumber", "additionalPhoneNumbers", "Dixa did not accept this phone number (InvalidPhoneNumber)."},
		{"InvalidEmail", "email", "additionalEmails", "Dixa did not accept this email address (InvalidEmail)."},
		{"DuplicatePhoneNumber", "additionalPhoneNumbers", "phoneNumber", "Dixa says a phone number is listed twice (DuplicatePhoneNumber)."},
		{"DuplicateEmail", "additionalEmails", "email", "Dixa says an email address is listed twice (DuplicateEmail)."},
		{"DisplayNameRequired", "displayName", "", "Dixa needs a display name (DisplayNameRequired)."},
	}
}

// dixaRefusal puts a Dixa 400 next to the fields it concerns. It reports
// false when the reason is not one it knows (then the summary says so).
func dixaRefusal(err error, vals []fieldValue) bool {
	var ae *apiclient.Error
	if !errors.As(err, &ae) {
		return false
	}
	found := false
	for _, reason := range dixaReasons() {
		if !strings.Contains(ae.Message, reason.code) {
			continue
		}
		target := fieldByName(vals, reason.field)
		if o := fieldByName(vals, reason.other); reason.other != "" && o != nil && o.changed && (target == nil || !target.changed) {
			target = o
		}
		if target != nil && target.err == "" {
			target.err = reason.msg
			found = true
		}
	}
	return found
}
