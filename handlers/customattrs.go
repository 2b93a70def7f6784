package handlers

import (
	"errors"
	"github.com/example/dixa-console/web/role"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/writeguard"
)

// keepCurrent is the option value that stands for a Select value matching
// none of the definition's options (an option since removed): sending it
// back means "leave it as it is".
const keepCurrent = "__current"

// MaxAttrTextLen bounds a Text attribute value.
const MaxAttrTextLen = 1000

// flatOption is a Select option with its place in the tree.
type flatOption struct {
	id, label string
	path      []string // option values from the top level down
	active    bool     // neither it nor a parent is deactivated
}

// flattenOptions lists a Select's options depth first, siblings in Dixa's
// order, nested ones labelled "Parent › Child".
func flattenOptions(opts []apiclient.SelectOption) []flatOption {
	var out []flatOption
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
			out = append(out, flatOption{id: o.ID, label: l, path: p, active: act})
			walk(o.NestedOptions, l, p, act)
		}
	}
	walk(opts, "", nil, true)
	return out
}

// attrState is how a custom attribute's current value appears in the form:
// the control value (text, or option id) and the display.
type attrState struct {
	input, display string
	editable       bool
}

// currentAttr encodes the value a customer holds for def.
func currentAttr(def apiclient.CustomAttributeDefinition, opts []flatOption, cav *apiclient.CustomAttribute) attrState {
	editable := !def.IsArchived && !def.IsDeactivated
	switch def.InputDefinition.Type {
	case apiclient.InputText:
		if cav == nil || !cav.Value.IsSet {
			return attrState{editable: editable}
		}
		if cav.Value.IsSelect {
			return attrState{display: cav.Value.String()}
		}
		return attrState{input: cav.Value.Text, display: cav.Value.Text, editable: editable}
	case apiclient.InputSelect:
		if cav == nil || !cav.Value.IsSet || (cav.Value.IsSelect && len(cav.Value.Select) == 0) {
			return attrState{editable: editable}
		}
		if !cav.Value.IsSelect {
			return attrState{display: cav.Value.String()}
		}
		for _, o := range opts {
			if slices.Equal(o.path, cav.Value.Select) {
				return attrState{input: o.id, display: o.label, editable: editable}
			}
		}
		return attrState{input: keepCurrent, display: cav.Value.String(), editable: editable}
	}
	display := ""
	if cav != nil {
		display = cav.Value.String()
	}
	return attrState{display: display}
}

// valueFor finds the value of def among a customer's attributes.
func valueFor(u apiclient.EndUser, def apiclient.CustomAttributeDefinition) *apiclient.CustomAttribute {
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

// contactDefs are the definitions that apply to end users (Dixa's
// "Contact"); Conversation-scoped ones are never shown on a profile.
func contactDefs(defs []apiclient.CustomAttributeDefinition) []apiclient.CustomAttributeDefinition {
	var out []apiclient.CustomAttributeDefinition
	for _, d := range defs {
		if d.EntityType == apiclient.EntityContact {
			out = append(out, d)
		}
	}
	return out
}

// attrSection builds the custom attributes region from what the customer
// holds. Without definitions (defsOK false) the values are listed with the
// names Dixa gives them, read-only.
func attrSection(u apiclient.EndUser, defs []apiclient.CustomAttributeDefinition, defsOK bool) views.AttrSection {
	a := views.AttrSection{UserID: u.ID}
	if !defsOK {
		a.Unavailable = true
		for _, ca := range u.CustomAttributes {
			a.Rows = append(a.Rows, views.AttrRow{DefID: ca.ID, Label: ca.Name, Identifier: ca.Identifier, Display: ca.Value.String()})
		}
		return a
	}
	seen := map[string]bool{}
	for _, d := range contactDefs(defs) {
		opts := flattenOptions(d.InputDefinition.Options)
		cav := valueFor(u, d)
		if cav != nil {
			seen[cav.ID] = true
		}
		st := currentAttr(d, opts, cav)
		row := views.AttrRow{
			DefID: d.ID, Label: d.Label, Identifier: d.Identifier, Description: d.Description,
			Display: st.display, Archived: d.IsArchived, Deactivated: d.IsDeactivated,
			Editable: st.editable, Select: d.InputDefinition.Type == apiclient.InputSelect,
			Placeholder: d.InputDefinition.Placeholder, Input: st.input, Base: st.input,
		}
		if row.Select {
			row.Options = selectOptions(opts, st)
		}
		a.Rows = append(a.Rows, row)
	}
	for _, ca := range u.CustomAttributes {
		if !seen[ca.ID] {
			a.Rows = append(a.Rows, views.AttrRow{DefID: ca.ID, Label: ca.Name, Identifier: ca.Identifier, Display: ca.Value.String(), Unknown: true})
		}
	}
	return a
}

// selectOptions are the choices offered: the active options, plus the
// current value when it is no longer an active option (so that saving
// other attributes never clears it silently).
func selectOptions(opts []flatOption, cur attrState) []views.AttrOption {
	var out []views.AttrOption
	for _, o := range opts {
		switch {
		case o.active:
			out = append(out, views.AttrOption{Value: o.id, Label: o.label})
		case o.id == cur.input:
			out = append(out, views.AttrOption{Value: o.id, Label: o.label + " (deactivated)"})
		}
	}
	if cur.input == keepCurrent {
		out = append(out, views.AttrOption{Value: keepCurrent, Label: cur.display + " (no longer an option)"})
	}
	return out
}

func anyEditable(rows []views.AttrRow) bool {
	for _, r := range rows {
		if r.Editable {
			return true
		}
	}
	return false
}

// attrChange is one attribute the person changed.
type attrChange struct {
	def   apiclient.CustomAttributeDefinition
	opts  []flatOption
	base  string // control value the form was rendered from
	yours string // control value submitted
}

// value is what Dixa is sent for the change: the text, the path of option
// values, or a clear (null) for an empty control.
func (c attrChange) value() apiclient.AttributeValue {
	if c.yours == "" {
		return apiclient.ClearValue()
	}
	if c.def.InputDefinition.Type == apiclient.InputSelect {
		for _, o := range c.opts {
			if o.id == c.yours {
				return apiclient.SelectValue(o.path...)
			}
		}
	}
	return apiclient.TextValue(c.yours)
}

func (c attrChange) display(input string) string {
	if c.def.InputDefinition.Type == apiclient.InputSelect {
		for _, o := range c.opts {
			if o.id == input {
				return o.label
			}
		}
	}
	return input
}

// SaveAttributes serves POST /endusers/{id}/custom-attributes: it sends
// Dixa only the attributes the person changed, after checking that nobody
// else changed them since the page was shown. htmx gets the region back
// with inline feedback; a plain form is redirected to the profile.
func (h *Profile) SaveAttributes(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Agent) {
		return
	}
	id, ok := pathID(r)
	if !ok {
		respond.Error(w, r, noSuchCustomer())
		return
	}
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, "The form could not be read."))
		return
	}
	defs, err := h.Defs.Get(r.Context())
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	form := r.PostForm
	token := form.Get("formToken")

	// What changed, and is it valid? Only active Contact attributes are
	// accepted (an allow-list: anything else in the form is ignored).
	var changes []attrChange
	errs := map[string]string{}
	inputs := map[string]string{}
	for _, d := range contactDefs(defs) {
		if d.IsArchived || d.IsDeactivated {
			continue
		}
		key := "attr." + d.ID
		if _, posted := form[key]; !posted {
			continue
		}
		yours := form.Get(key)
		base := form.Get("base." + key)
		inputs[d.ID] = yours
		if d.InputDefinition.Type == apiclient.InputText {
			yours = strings.TrimSpace(yours)
			inputs[d.ID] = yours
		}
		if yours == base {
			continue
		}
		c := attrChange{def: d, opts: flattenOptions(d.InputDefinition.Options), base: base, yours: yours}
		if msg := validateAttr(c); msg != "" {
			errs[d.ID] = msg
		}
		changes = append(changes, c)
	}

	unlock, err := h.Guard.Lock(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	defer unlock()

	u, err := h.API.GetEndUser(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	render := func(status int, a views.AttrSection) {
		if anyEditable(a.Rows) {
			a.Token = h.Guard.Issue()
		}
		respond.Page(w, r, status, "Custom attributes", views.AttributesSection(a), respond.Section("endusers"))
	}
	// section re-renders the form with the person's input kept.
	section := func(conflicts map[string]string) views.AttrSection {
		a := attrSection(u, defs, true)
		for i := range a.Rows {
			row := &a.Rows[i]
			if !row.Editable {
				continue
			}
			if in, ok := inputs[row.DefID]; ok {
				row.Input = in
				if row.Select && !slices.ContainsFunc(row.Options, func(o views.AttrOption) bool { return o.Value == in }) {
					row.Input = ""
				}
			}
			if msg, ok := errs[row.DefID]; ok {
				row.Error = msg
				a.Errors = append(a.Errors, views.FieldError{Field: "a-" + row.DefID, Label: row.Label, Message: msg})
			}
			if theirs, ok := conflicts[row.DefID]; ok {
				row.Conflict = &views.Conflict{Theirs: theirs, Yours: displayOf(changes, row.DefID, inputs[row.DefID])}
			}
		}
		return a
	}

	if len(errs) > 0 {
		render(http.StatusUnprocessableEntity, section(nil))
		return
	}
	if len(changes) == 0 {
		if !respond.IsFragment(r) {
			respond.Redirect(w, r, "/endusers/"+id+"?saved=none")
			return
		}
		a := section(nil)
		a.Status, a.StatusKind = "Nothing was changed, so nothing was sent to Dixa.", "ok"
		render(http.StatusOK, a)
		return
	}

	switch outcome, result := h.Guard.Claim(r.Context(), token); outcome {
	case writeguard.ClaimDone:
		// A double click or a replay: the first submission wrote.
		if !respond.IsFragment(r) {
			respond.Redirect(w, r, result)
			return
		}
		a := attrSection(u, defs, true)
		a.Status, a.StatusKind = "Custom attributes saved.", "ok"
		render(http.StatusOK, a)
		return
	case writeguard.ClaimUnknown:
		a := section(nil)
		a.Status, a.StatusKind = "This form was already sent and Dixa did not confirm whether it was saved. The values above are what Dixa holds now; check them before saving again.", "warn"
		render(http.StatusConflict, a)
		return
	case writeguard.ClaimFirst:
	default:
		token = ""
	}
	finish := func(state writeguard.State, result string) {
		if token != "" {
			h.Guard.Finish(token, state, result)
		}
	}

	// Compare what Dixa holds now with what the form was rendered from.
	conflicts := map[string]string{}
	patch := map[string]apiclient.AttributeValue{}
	for _, c := range changes {
		cur := currentAttr(c.def, c.opts, valueFor(u, c.def))
		switch {
		case cur.input == c.yours:
			// Already so (someone made the same change, or a replay).
		case cur.input != c.base:
			conflicts[c.def.ID] = emptyOr(cur.display)
		default:
			patch[c.def.ID] = c.value()
		}
	}
	if len(conflicts) > 0 {
		recordWrite(r, h.Audit, ActCustomAttributesUpdated, id, store.OutcomeBlocked,
			attrAuditDetails(changes, func(c attrChange) bool { _, ok := conflicts[c.def.ID]; return ok }, map[string]string{"reason": "conflict"}))
		finish(writeguard.TokenFresh, "")
		a := section(conflicts)
		a.Conflict = true
		a.Errors = append(a.Errors, views.FieldError{Message: "Someone else changed the marked attributes after you opened the page. Nothing was saved: check their values, then save again."})
		render(http.StatusConflict, a)
		return
	}
	if len(patch) > 0 {
		inPatch := func(c attrChange) bool { _, ok := patch[c.def.ID]; return ok }
		saved, err := h.API.PatchEndUserCustomAttributes(r.Context(), id, patch)
		if err != nil {
			recordWrite(r, h.Audit, ActCustomAttributesUpdated, id, store.OutcomeFailed,
				attrAuditDetails(changes, inPatch, map[string]string{"error": auditErrorClass(err)}))
			a := section(nil)
			status := h.attrFailure(w, r, err, &a)
			if errors.Is(err, apiclient.ErrOutcomeUnknown) {
				finish(writeguard.TokenUnknown, "")
			} else {
				finish(writeguard.TokenFresh, "")
			}
			render(status, a)
			return
		}
		recordWrite(r, h.Audit, ActCustomAttributesUpdated, id, store.OutcomeOK, attrAuditDetails(changes, inPatch, nil))
		u.CustomAttributes = mergeAttrs(u.CustomAttributes, saved, patch)
	}
	finish(writeguard.TokenDone, "/endusers/"+id+"?saved=attrs")
	if !respond.IsFragment(r) {
		respond.Redirect(w, r, "/endusers/"+id+"?saved=attrs")
		return
	}
	a := attrSection(u, defs, true)
	a.Status, a.StatusKind = "Custom attributes saved.", "ok"
	render(http.StatusOK, a)
}

// attrAuditDetails names the attributes of changes that match for the
// audit log, by definition id and identifier (never their values), in the
// order of the definitions, with extra facts added.
func attrAuditDetails(changes []attrChange, match func(attrChange) bool, extra map[string]string) map[string]string {
	var ids, identifiers []string
	for _, c := range changes {
		if !match(c) {
			continue
		}
		ids = append(ids, c.def.ID)
		if c.def.Identifier != "" {
			identifiers = append(identifiers, c.def.Identifier)
		}
	}
	d := map[string]string{"attributes": strings.Join(ids, ","), "identifiers": strings.Join(identifiers, ",")}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// attrFailure puts an upstream failure into the region and returns the
// status to answer with.
func (h *Profile) attrFailure(w http.ResponseWriter, r *http.Request, err error, a *views.AttrSection) int {
	if errors.Is(err, apiclient.ErrBadRequest) {
		reqctx.Logger(r.Context()).Info("dixa refused custom attributes", "err", err)
		a.Errors = append(a.Errors, views.FieldError{Message: "Dixa did not accept these values. Check them against the options and try again."})
		return http.StatusUnprocessableEntity
	}
	e := upstreamFailure(w, r, err)
	a.Reference = reqctx.RequestID(r.Context())
	msg := e.Message
	if errors.Is(err, apiclient.ErrOutcomeUnknown) {
		msg = "Dixa did not confirm the change in time, so it may or may not have been saved. Reload the page to see what Dixa holds; saving again is safe, as the console first checks what Dixa holds."
	}
	a.Errors = append(a.Errors, views.FieldError{Message: msg + " Your input is kept below."})
	return e.Status
}

// mergeAttrs applies a successful patch to the attributes held, so the
// region can be shown without reading the customer again.
func mergeAttrs(held, saved []apiclient.CustomAttribute, patch map[string]apiclient.AttributeValue) []apiclient.CustomAttribute {
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
	for _, s := range saved {
		if !slices.ContainsFunc(out, func(c apiclient.CustomAttribute) bool { return c.ID == s.ID }) && s.Value.IsSet {
			out = append(out, s)
		}
	}
	for id, v := range patch {
		if v.IsSet && !slices.ContainsFunc(out, func(c apiclient.CustomAttribute) bool { return c.ID == id }) {
			out = append(out, apiclient.CustomAttribute{ID: id, Value: v})
		}
	}
	return out
}

func validateAttr(c attrChange) string {
	switch c.def.InputDefinition.Type {
	case apiclient.InputText:
		if utf8.RuneCountInString(c.yours) > MaxAttrTextLen {
			return "Use at most 1000 characters."
		}
		if hasControl(c.yours) {
			return "Remove line breaks and control characters."
		}
	case apiclient.InputSelect:
		if c.yours == "" {
			return ""
		}
		for _, o := range c.opts {
			if o.id == c.yours && o.active {
				return ""
			}
		}
		return "Choose one of the listed options."
	}
	return ""
}

func displayOf(changes []attrChange, defID, input string) string {
	for _, c := range changes {
		if c.def.ID == defID {
			return emptyOr(c.display(input))
		}
	}
	return emptyOr(input)
}

func emptyOr(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}
