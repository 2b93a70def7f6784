package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
)

// The profile form: fields carry the API's names; the additional emails
// and phone numbers, and the middle names, are one per line. The rules of
// the values are package customer's; this file reads and renders the form.

// fieldSpec is how a profile field appears in the form.
type fieldSpec struct {
	field                          customer.Field
	label, typ, autocomplete, hint string
}

func (s fieldSpec) name() string { return string(s.field) }
func (s fieldSpec) list() bool   { return s.field.List() }

// profileSpecs lists the writable profile fields in form order; region
// names how a phone number without a country code is read.
func profileSpecs(region string) []fieldSpec {
	phoneHint := "Any common form; a number without a country code is " + customer.PhoneHint(region) + "."
	specs := map[customer.Field]fieldSpec{
		customer.DisplayName: {label: "Display name", typ: "text", autocomplete: "off"},
		customer.FirstName:   {label: "First name", typ: "text", autocomplete: "off"},
		customer.LastName:    {label: "Last name", typ: "text", autocomplete: "off"},
		customer.Email:       {label: "Email", typ: "email", autocomplete: "off"},
		customer.PhoneNumber: {label: "Phone number", typ: "tel", autocomplete: "off", hint: phoneHint},
		customer.ExternalID:  {label: "External ID", typ: "text", autocomplete: "off"},
		customer.AvatarURL: {label: "Avatar URL", typ: "url", autocomplete: "off",
			hint: "An https:// or http:// address of an image."},
		customer.MiddleNames:      {label: "Middle names", typ: "lines", hint: "One per line."},
		customer.AdditionalEmails: {label: "Additional emails", typ: "lines", hint: "One per line."},
		customer.AdditionalPhoneNumbers: {label: "Additional phone numbers", typ: "lines",
			hint: "One per line; a number without a country code is " + customer.PhoneHint(region) + "."},
	}
	var out []fieldSpec
	for _, f := range customer.Fields() {
		s := specs[f]
		s.field = f
		out = append(out, s)
	}
	return out
}

// fieldValue is one field of a submitted (or rendered) form.
type fieldValue struct {
	spec fieldSpec
	// raw is the text as typed, kept for re-rendering.
	raw string
	// yours is the typed value, trimmed (lists: one item per non-empty line).
	yours []string
	// norm is yours checked and normalised (phones in E.164).
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

// change is the field as package customer sees it.
func (fv fieldValue) change() customer.Change {
	return customer.Change{Field: fv.spec.field, Base: fv.base, Yours: fv.norm, Changed: fv.changed}
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

// shown renders a value for the form (lists one per line).
func shown(v []string) string { return strings.Join(v, "\n") }

// readFields reads the profile fields from a form; with base, also the
// values the form was rendered from.
func readFields(form url.Values, withBase bool, region string) []fieldValue {
	specs := profileSpecs(region)
	out := make([]fieldValue, len(specs))
	for i, s := range specs {
		raw := form.Get(s.name())
		if len(raw) > 64<<10 {
			raw = raw[:64<<10]
		}
		fv := fieldValue{spec: s, raw: raw, yours: canonical(s, raw)}
		if withBase {
			b := form["base."+s.name()]
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

// checkFields applies the field rules to every field against its base,
// then the rules between fields. A message already on a field (an
// unanswered conflict choice) is kept unless the value itself is refused.
func checkFields(vals []fieldValue, rules customer.Rules) {
	for i := range vals {
		fv := &vals[i]
		c, err := rules.Change(fv.spec.field, fv.base, fv.yours)
		fv.norm, fv.changed = c.Yours, c.Changed
		if err != nil {
			fv.err = apperr.Message(err, "This value cannot be saved.")
		}
	}
	var changes []customer.Change
	for _, fv := range vals {
		if fv.err == "" {
			changes = append(changes, fv.change())
		}
	}
	for _, e := range customer.CrossCheck(changes) {
		if fv := fieldByName(vals, customer.Field(e.Field)); fv != nil && fv.err == "" {
			fv.err = e.Msg
		}
	}
}

// changes are the fields as package customer sees them.
func changes(vals []fieldValue) []customer.Change {
	out := make([]customer.Change, len(vals))
	for i, fv := range vals {
		out[i] = fv.change()
	}
	return out
}

func fieldByName(vals []fieldValue, f customer.Field) *fieldValue {
	for i := range vals {
		if vals[i].spec.field == f {
			return &vals[i]
		}
	}
	return nil
}

// fieldErrors lists the field errors for the summary.
func fieldErrors(vals []fieldValue) []views.FieldError {
	var out []views.FieldError
	for _, fv := range vals {
		if fv.err != "" {
			out = append(out, views.FieldError{Field: "f-" + fv.spec.name(), Label: fv.spec.label, Message: fv.err})
		}
	}
	return out
}

// formFields builds the controls; withBase adds the hidden base values.
func formFields(vals []fieldValue, withBase bool) []views.FormField {
	out := make([]views.FormField, 0, len(vals))
	for _, fv := range vals {
		f := views.FormField{
			Name: fv.spec.name(), Label: fv.spec.label, Type: fv.spec.typ, Value: fv.raw,
			Autocomplete: fv.spec.autocomplete, Hint: fv.spec.hint, Error: fv.err, MaxLen: fv.spec.field.MaxLen(),
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
			c := &views.Conflict{Theirs: shown(fv.theirs), Yours: shown(fv.norm), Choice: fv.choice}
			if fv.oldBase != nil {
				c.Base = emptyOr(shown(fv.oldBase))
			}
			if c.Yours == "" && fv.norm == nil {
				c.Yours = shown(fv.yours)
			}
			f.Conflict = c
		}
		out = append(out, f)
	}
	return out
}

// readProfileForm parses a profile form POST; a form that cannot be read
// is answered here (unreadable is the message) and ok is false.
func readProfileForm(w http.ResponseWriter, r *http.Request, unreadable string) (url.Values, bool) {
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, unreadable))
		return nil, false
	}
	if r.PostForm.Get("formVersion") != "1" {
		respond.Error(w, r, respond.BadRequest(unreadable))
		return nil, false
	}
	return r.PostForm, true
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

// dixaRefusal puts a Dixa 400 next to the fields it concerns. It reports
// false when the reason is not one it knows (then the summary says so).
func dixaRefusal(err error, vals []fieldValue) bool {
	var ae *apiclient.Error
	if !errors.As(err, &ae) {
		return false
	}
	found := false
	for _, reason := range customer.Refusals(ae.Message) {
		target := fieldByName(vals, reason.Field)
		if o := fieldByName(vals, reason.Other); reason.Other != "" && o != nil && o.changed && (target == nil || !target.changed) {
			target = o
		}
		if target != nil && target.err == "" {
			target.err = reason.Msg
			found = true
		}
	}
	return found
}
