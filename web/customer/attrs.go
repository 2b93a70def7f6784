package customer

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/example/dixa-console/apiclient"
)

// KeepCurrent is the control value that stands for a Select value matching
// none of the definition's options (an option since removed): sending it
// back means "leave it as it is".
const KeepCurrent = "__current"

// Option is a Select option with its place in the tree.
type Option struct {
	ID, Label string
	Path      []string // option values from the top level down
	Active    bool     // neither it nor a parent is deactivated
}

// Options lists a Select's options depth first, siblings in Dixa's order,
// nested ones labelled "Parent › Child".
func Options(opts []apiclient.SelectOption) []Option {
	var out []Option
	var walk func(opts []apiclient.SelectOption, label string, path []string, active bool)
	walk = func(opts []apiclient.SelectOption, label string, path []string, active bool) {
		sorted := slices.Clone(opts)
		slices.SortStableFunc(sorted, func(a, b apiclient.SelectOption) int { return int(a.OrderIndex) - int(b.OrderIndex) })
		for _, o := range sorted {
			l := o.Label
			if label != "" {
				l = label + " › " + o.Label
			}
			p := append(slices.Clone(path), o.Value)
			act := active && !o.IsDeactivated
			out = append(out, Option{ID: o.ID, Label: l, Path: p, Active: act})
			walk(o.NestedOptions, l, p, act)
		}
	}
	walk(opts, "", nil, true)
	return out
}

// ContactDefs are the definitions that apply to end users (Dixa's
// "Contact"); Conversation-scoped ones never belong on a customer.
func ContactDefs(defs []apiclient.CustomAttributeDefinition) []apiclient.CustomAttributeDefinition {
	var out []apiclient.CustomAttributeDefinition
	for _, d := range defs {
		if d.EntityType == apiclient.EntityContact {
			out = append(out, d)
		}
	}
	return out
}

// Writable reports whether values of def may be set: a Contact attribute
// neither archived nor deactivated.
func Writable(def apiclient.CustomAttributeDefinition) bool {
	return def.EntityType == apiclient.EntityContact && !def.IsArchived && !def.IsDeactivated
}

// AttrOf finds the value of def among a customer's attributes, by id and
// else by identifier.
func AttrOf(u apiclient.EndUser, def apiclient.CustomAttributeDefinition) *apiclient.CustomAttribute {
	for i := range u.CustomAttributes {
		if u.CustomAttributes[i].ID == def.ID {
			return &u.CustomAttributes[i]
		}
	}
	for i := range u.CustomAttributes {
		if def.Identifier != "" && u.CustomAttributes[i].Identifier == def.Identifier {
			return &u.CustomAttributes[i]
		}
	}
	return nil
}

// AttrHeld is a customer's value of an attribute as a form control holds
// it: Input is the text, or the option id of a Select (KeepCurrent for a
// value matching no option); Display is for people.
type AttrHeld struct {
	Input, Display string
	Editable       bool
}

// HeldAttr encodes the value cav (nil: none) of def, whose options are opts.
func HeldAttr(def apiclient.CustomAttributeDefinition, opts []Option, cav *apiclient.CustomAttribute) AttrHeld {
	editable := !def.IsArchived && !def.IsDeactivated
	switch def.InputDefinition.Type {
	case apiclient.InputText:
		if cav == nil || !cav.Value.IsSet {
			return AttrHeld{Editable: editable}
		}
		if cav.Value.IsSelect {
			return AttrHeld{Display: cav.Value.String()}
		}
		return AttrHeld{Input: cav.Value.Text, Display: cav.Value.Text, Editable: editable}
	case apiclient.InputSelect:
		if cav == nil || !cav.Value.IsSet || (cav.Value.IsSelect && len(cav.Value.Select) == 0) {
			return AttrHeld{Editable: editable}
		}
		if !cav.Value.IsSelect {
			return AttrHeld{Display: cav.Value.String()}
		}
		for _, o := range opts {
			if slices.Equal(o.Path, cav.Value.Select) {
				return AttrHeld{Input: o.ID, Display: o.Label, Editable: editable}
			}
		}
		return AttrHeld{Input: KeepCurrent, Display: cav.Value.String(), Editable: editable}
	}
	display := ""
	if cav != nil {
		display = cav.Value.String()
	}
	return AttrHeld{Display: display}
}

// NormalizeAttrText trims a Text attribute value and writes its line
// breaks as LF.
func NormalizeAttrText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.TrimSpace(s)
}

// AttrText checks a Text attribute value (free text): at most
// MaxAttrTextLen characters, line breaks allowed, no other control
// characters. It returns the value normalised.
func AttrText(def apiclient.CustomAttributeDefinition, s string) (string, error) {
	s = NormalizeAttrText(s)
	f := Field("attr." + def.Identifier)
	switch {
	case !utf8.ValidString(s):
		return "", refuse(f, ErrControl, "This contains characters that cannot be saved.")
	case utf8.RuneCountInString(s) > MaxAttrTextLen:
		return "", refuse(f, ErrTooLong, "Use at most %d characters (this has %d).", MaxAttrTextLen, utf8.RuneCountInString(s))
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0:
		return "", refuse(f, ErrControl, "Remove control characters such as tabs.")
	}
	return s, nil
}

// AttrChange is one attribute a person changed in the form: the control
// values the form was rendered from (Base) and submitted (Yours).
type AttrChange struct {
	Def         apiclient.CustomAttributeDefinition
	Opts        []Option
	Base, Yours string
}

// NewAttrChange is a change of def from base to yours (control values).
func NewAttrChange(def apiclient.CustomAttributeDefinition, base, yours string) AttrChange {
	return AttrChange{Def: def, Opts: Options(def.InputDefinition.Options), Base: base, Yours: yours}
}

// Check applies the attribute rules to the submitted value: free text for
// a Text attribute, an active option for a Select; an empty value clears.
func (c AttrChange) Check() error {
	switch c.Def.InputDefinition.Type {
	case apiclient.InputText:
		_, err := AttrText(c.Def, c.Yours)
		return err
	case apiclient.InputSelect:
		if c.Yours == "" || slices.ContainsFunc(c.Opts, func(o Option) bool { return o.ID == c.Yours && o.Active }) {
			return nil
		}
		return refuse(Field("attr."+c.Def.Identifier), ErrOption, "Choose one of the listed options.")
	}
	return nil
}

// Value is what Dixa is sent for the change: the text, the path of option
// values, or a clear (null) for an empty control.
func (c AttrChange) Value() apiclient.AttributeValue {
	if c.Yours == "" {
		return apiclient.ClearValue()
	}
	if c.Def.InputDefinition.Type == apiclient.InputSelect {
		for _, o := range c.Opts {
			if o.ID == c.Yours {
				return apiclient.SelectValue(o.Path...)
			}
		}
	}
	return apiclient.TextValue(NormalizeAttrText(c.Yours))
}

// Display shows a control value of the change's attribute to people.
func (c AttrChange) Display(input string) string {
	if c.Def.InputDefinition.Type == apiclient.InputSelect {
		for _, o := range c.Opts {
			if o.ID == input {
				return o.Label
			}
		}
	}
	return input
}

// AttrPlan is an attribute save compared with what Dixa holds now:
// Conflicts maps a definition id to the display of Dixa's current value.
type AttrPlan struct {
	Patch     map[string]apiclient.AttributeValue
	Conflicts map[string]string
}

// PlanAttrs compares attribute changes with the customer as Dixa holds it
// now (the three-way rule of Decide, on control values).
func PlanAttrs(changes []AttrChange, cur apiclient.EndUser) AttrPlan {
	p := AttrPlan{Patch: map[string]apiclient.AttributeValue{}, Conflicts: map[string]string{}}
	for _, c := range changes {
		held := HeldAttr(c.Def, c.Opts, AttrOf(cur, c.Def))
		switch Decide(true, []string{c.Base}, []string{c.Yours}, []string{held.Input}) {
		case Conflict:
			p.Conflicts[c.Def.ID] = held.Display
		case Send:
			p.Patch[c.Def.ID] = c.Value()
		}
	}
	return p
}

// MergeAttrs applies a successful attribute patch to the attributes held,
// so the customer can be shown without reading it again.
func MergeAttrs(held, saved []apiclient.CustomAttribute, patch map[string]apiclient.AttributeValue) []apiclient.CustomAttribute {
	out := make([]apiclient.CustomAttribute, 0, len(held)+len(saved))
	for _, ca := range held {
		if v, ok := patch[ca.ID]; ok {
			if !v.IsSet {
				continue
			}
			ca.Value = v
		}
		out = append(out, ca)
	}
	has := func(id string) bool {
		return slices.ContainsFunc(out, func(c apiclient.CustomAttribute) bool { return c.ID == id })
	}
	for _, s := range saved {
		if !has(s.ID) && s.Value.IsSet {
			out = append(out, s)
		}
	}
	for id, v := range patch {
		if v.IsSet && !has(id) {
			out = append(out, apiclient.CustomAttribute{ID: id, Value: v})
		}
	}
	return out
}

// ParseAttr reads a value of def written as text (an import cell): free
// text for a Text attribute; for a Select, an active option's value or
// label (any case), nested options as a path joined by "/", ">" or "›".
func ParseAttr(def apiclient.CustomAttributeDefinition, text string) (apiclient.AttributeValue, error) {
	f := Field("attr." + def.Identifier)
	switch def.InputDefinition.Type {
	case apiclient.InputText:
		s, err := AttrText(def, text)
		if err != nil {
			return apiclient.AttributeValue{}, err
		}
		return apiclient.TextValue(s), nil
	case apiclient.InputSelect:
		return parseSelect(f, def.InputDefinition.Options, text)
	}
	return apiclient.AttributeValue{}, refuse(f, ErrOption, "The console cannot set attributes of kind %s.", strconv.Quote(def.InputDefinition.Type))
}

func parseSelect(f Field, opts []apiclient.SelectOption, text string) (apiclient.AttributeValue, error) {
	parts := strings.FieldsFunc(text, func(r rune) bool { return r == '/' || r == '>' || r == '›' })
	var path []string
	for i, part := range parts {
		part = strings.TrimSpace(part)
		j := slices.IndexFunc(opts, func(o apiclient.SelectOption) bool {
			return strings.EqualFold(o.Value, part) || strings.EqualFold(o.Label, part)
		})
		if j < 0 || opts[j].IsDeactivated {
			what := "option"
			if i > 0 {
				what = "option under " + strings.Join(path, "/")
			}
			return apiclient.AttributeValue{}, refuse(f, ErrOption, "%s is not an active %s (choose from %s).", Quote(part), what, activeValues(opts))
		}
		path = append(path, opts[j].Value)
		opts = opts[j].NestedOptions
	}
	if len(path) == 0 {
		return apiclient.AttributeValue{}, refuse(f, ErrOption, "No option given.")
	}
	return apiclient.SelectValue(path...), nil
}

// activeValues lists up to eight active option values of one level.
func activeValues(opts []apiclient.SelectOption) string {
	var names []string
	for _, o := range opts {
		if !o.IsDeactivated {
			names = append(names, o.Value)
		}
	}
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	return strings.Join(names, ", ")
}
