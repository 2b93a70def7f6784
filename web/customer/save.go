package customer

import (
	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/apperr"
)

// Change is one field of a save: the value the form was rendered from
// (Base) and the person's value, checked and normalised (Yours). Changed
// is false when the person left the field as it was, or retyped it in
// another form of the same value (a phone number with spaces).
type Change struct {
	Field   Field
	Base    []string
	Yours   []string
	Changed bool
}

// Final is the field's value after the save: Yours when changed, else Base.
func (c Change) Final() []string {
	if c.Changed {
		return c.Yours
	}
	return c.Base
}

// Change checks the typed value of f against the value the form was
// rendered from. A value equal to the base is not checked (a value Dixa
// already holds is never refused); a changed one is checked and
// normalised, and counts as unchanged when it normalises to the base.
func (r Rules) Change(f Field, base, typed []string) (Change, error) {
	c := Change{Field: f, Base: base, Yours: typed}
	if Same(typed, base) {
		return c, nil
	}
	norm, err := r.Values(f, typed)
	if err != nil {
		c.Yours, c.Changed = nil, true
		return c, err
	}
	c.Yours, c.Changed = norm, !Same(norm, base)
	return c, nil
}

// CrossCheck applies the rules between fields to the changes of one save
// (or one import row): the primary email or phone number must not be
// repeated among the additional ones. It looks only at pairs of which one
// field changed and both are present in changes (leave out a field that
// was refused). The refusal goes on the field the person changed, the
// list when both changed.
func CrossCheck(changes []Change) []*apperr.Error {
	find := func(f Field) *Change {
		for i := range changes {
			if changes[i].Field == f {
				return &changes[i]
			}
		}
		return nil
	}
	var errs []*apperr.Error
	for _, pair := range [][2]Field{{PhoneNumber, AdditionalPhoneNumbers}, {Email, AdditionalEmails}} {
		p, l := find(pair[0]), find(pair[1])
		if p == nil || l == nil || (!p.Changed && !l.Changed) {
			continue
		}
		primary := ""
		if pv := p.Final(); len(pv) > 0 {
			primary = pv[0]
		}
		if item, ok := Overlap(pair[0], primary, l.Final()); ok {
			errs = append(errs, OverlapError(pair[0], item, l.Changed))
		}
	}
	return errs
}

// Verdict is what a save does with one field once it is compared with
// what Dixa holds now.
type Verdict int

// The verdicts.
const (
	// Keep: the person did not change the field; Dixa's value stands
	// (it may differ from the base if someone else changed it).
	Keep Verdict = iota
	// AlreadySo: Dixa already holds the person's value (the same change
	// made elsewhere, or an earlier attempt that did go through).
	AlreadySo
	// Conflict: someone else changed the field since the form was shown;
	// nothing is sent until the person chooses.
	Conflict
	// Send: the field goes into the PATCH.
	Send
)

// Decide is the three-way rule for one value: base (what the form was
// rendered from), yours (the person's value) and theirs (what Dixa holds
// now).
func Decide(changed bool, base, yours, theirs []string) Verdict {
	switch {
	case !changed:
		return Keep
	case Same(theirs, yours):
		return AlreadySo
	case !Same(theirs, base):
		return Conflict
	}
	return Send
}

// Plan is a save compared with the customer as Dixa holds it now.
type Plan struct {
	// Verdict and Theirs (Dixa's value now) per field.
	Verdict map[Field]Verdict
	Theirs  map[Field][]string
	// Patch holds the fields to send; Sent and Conflicts name fields in
	// the order of the changes.
	Patch     apiclient.PatchEndUserInput
	Sent      []Field
	Conflicts []Field
}

// PlanSave compares the changes of a save with cur, what Dixa holds now.
// The save may go ahead (with Patch, which may be empty) only when
// Conflicts is empty.
func PlanSave(changes []Change, cur apiclient.EndUser) Plan {
	p := Plan{Verdict: map[Field]Verdict{}, Theirs: map[Field][]string{}}
	for _, c := range changes {
		theirs := Held(c.Field, cur)
		v := Decide(c.Changed, c.Base, c.Yours, theirs)
		p.Verdict[c.Field], p.Theirs[c.Field] = v, theirs
		switch v {
		case Conflict:
			p.Conflicts = append(p.Conflicts, c.Field)
		case Send:
			SetPatch(&p.Patch, c.Field, c.Yours)
			p.Sent = append(p.Sent, c.Field)
		}
	}
	return p
}

// CreatePatch is the body of a create from the changed fields.
func CreatePatch(changes []Change) apiclient.CreateEndUserInput {
	var p apiclient.PatchEndUserInput
	for _, c := range changes {
		if c.Changed {
			SetPatch(&p, c.Field, c.Yours)
		}
	}
	return CreateInput(p)
}

// Unexpected names the changed fields whose value in Dixa's answer to the
// PATCH (after) differs from what was sent. The avatar URL is left out:
// Dixa re-hosts avatars and answers with its own address.
func Unexpected(changes []Change, after apiclient.EndUser) []Field {
	var out []Field
	if after.ID == "" {
		return nil
	}
	for _, c := range changes {
		if c.Changed && c.Field != AvatarURL && !Same(Held(c.Field, after), c.Yours) {
			out = append(out, c.Field)
		}
	}
	return out
}
