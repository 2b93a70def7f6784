package handlers

import (
	"errors"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/writeguard"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

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
	for _, d := range customer.ContactDefs(defs) {
		opts := customer.Options(d.InputDefinition.Options)
		cav := customer.AttrOf(u, d)
		if cav != nil {
			seen[cav.ID] = true
		}
		st := customer.HeldAttr(d, opts, cav)
		row := views.AttrRow{
			DefID: d.ID, Label: d.Label, Identifier: d.Identifier, Description: d.Description,
			Display: st.Display, Archived: d.IsArchived, Deactivated: d.IsDeactivated,
			Editable: st.Editable, Select: d.InputDefinition.Type == apiclient.InputSelect,
			Placeholder: d.InputDefinition.Placeholder, Input: st.Input, Base: st.Input,
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
func selectOptions(opts []customer.Option, cur customer.AttrHeld) []views.AttrOption {
	var out []views.AttrOption
	for _, o := range opts {
		switch {
		case o.Active:
			out = append(out, views.AttrOption{Value: o.ID, Label: o.Label})
		case o.ID == cur.Input:
			out = append(out, views.AttrOption{Value: o.ID, Label: o.Label + " (deactivated)"})
		}
	}
	if cur.Input == customer.KeepCurrent {
		out = append(out, views.AttrOption{Value: customer.KeepCurrent, Label: cur.Display + " (no longer an option)"})
	}
	return out
}

func anyEditable(rows []views.AttrRow) bool {
	return slices.ContainsFunc(rows, func(r views.AttrRow) bool { return r.Editable })
}

// attrPost is one POST of the custom attributes form on its way through
// SaveAttributes.
type attrPost struct {
	h    *Profile
	w    http.ResponseWriter
	r    *http.Request
	id   string
	defs []apiclient.CustomAttributeDefinition
	u    apiclient.EndUser // what Dixa holds, read under the lock
	// changes are the attributes the person changed; inputs what was
	// submitted per definition id; errs the refusals per definition id.
	changes []customer.AttrChange
	inputs  map[string]string
	errs    map[string]string
	// token is the claimed one-time form token ("" when none was claimed).
	token string
}

// readAttrChanges reads what changed and checks it. Only active Contact
// attributes are accepted (an allow-list: anything else in the form is
// ignored).
func (p *attrPost) readAttrChanges(form url.Values) {
	p.inputs, p.errs = map[string]string{}, map[string]string{}
	for _, d := range customer.ContactDefs(p.defs) {
		key := "attr." + d.ID
		if _, posted := form[key]; !posted || !customer.Writable(d) {
			continue
		}
		yours, base := form.Get(key), form.Get("base."+key)
		if d.InputDefinition.Type == apiclient.InputText {
			yours = customer.NormalizeAttrText(yours)
		}
		p.inputs[d.ID] = yours
		if yours == base {
			continue
		}
		c := customer.NewAttrChange(d, base, yours)
		if err := c.Check(); err != nil {
			p.errs[d.ID] = apperr.Message(err, "This value cannot be saved.")
		}
		p.changes = append(p.changes, c)
	}
}

// render answers with the region (htmx) or the page around it.
func (p *attrPost) render(status int, a views.AttrSection) {
	if anyEditable(a.Rows) {
		a.Token = p.h.Guard.Issue()
	}
	respond.Page(p.w, p.r, status, "Custom attributes", views.AttributesSection(a), respond.Section("endusers"))
}

// section re-renders the form with the person's input kept, the refusals
// and the conflicts (definition id → Dixa's value) marked.
func (p *attrPost) section(conflicts map[string]string) views.AttrSection {
	a := attrSection(p.u, p.defs, true)
	for i := range a.Rows {
		row := &a.Rows[i]
		if !row.Editable {
			continue
		}
		if in, ok := p.inputs[row.DefID]; ok {
			row.Input = in
			if row.Select && !slices.ContainsFunc(row.Options, func(o views.AttrOption) bool { return o.Value == in }) {
				row.Input = ""
			}
		}
		if msg, ok := p.errs[row.DefID]; ok {
			row.Error = msg
			a.Errors = append(a.Errors, views.FieldError{Field: "a-" + row.DefID, Label: row.Label, Message: msg})
		}
		if theirs, ok := conflicts[row.DefID]; ok {
			row.Conflict = &views.Conflict{Theirs: emptyOr(theirs), Yours: displayOf(p.changes, row.DefID, p.inputs[row.DefID])}
		}
	}
	return a
}

// saved answers a save that went through (or had gone through before).
func (p *attrPost) saved(to string) {
	if !respond.IsFragment(p.r) {
		respond.Redirect(p.w, p.r, to)
		return
	}
	a := attrSection(p.u, p.defs, true)
	a.Status, a.StatusKind = "Custom attributes saved.", "ok"
	p.render(http.StatusOK, a)
}

// finish records the outcome of the claimed token.
func (p *attrPost) finish(state writeguard.State, result string) {
	if p.token != "" {
		p.h.Guard.Finish(p.token, state, result)
	}
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
	p := &attrPost{h: h, w: w, r: r, id: id, defs: defs}
	p.readAttrChanges(r.PostForm)
	unlock, err := h.Guard.Lock(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	defer unlock()
	if p.u, err = h.API.GetEndUser(r.Context(), id); err != nil {
		respond.Error(w, r, err)
		return
	}
	switch {
	case len(p.errs) > 0:
		p.render(http.StatusUnprocessableEntity, p.section(nil))
	case len(p.changes) == 0 && !respond.IsFragment(r):
		respond.Redirect(w, r, "/endusers/"+id+"?saved=none")
	case len(p.changes) == 0:
		a := p.section(nil)
		a.Status, a.StatusKind = "Nothing was changed, so nothing was sent to Dixa.", "ok"
		p.render(http.StatusOK, a)
	case p.claim(r.PostForm.Get("formToken")):
		h.writeAttrs(p)
	}
}

// claim claims the one-time form token; false when the request has been
// answered (a replay of a finished save, or one whose outcome is unknown).
func (p *attrPost) claim(token string) bool {
	switch outcome, result := p.h.Guard.Claim(p.r.Context(), token); outcome {
	case writeguard.ClaimDone:
		p.saved(result) // a double click or a replay: the first submission wrote
		return false
	case writeguard.ClaimUnknown:
		a := p.section(nil)
		a.Status, a.StatusKind = "This form was already sent and Dixa did not confirm whether it was saved. The values above are what Dixa holds now; check them before saving again.", "warn"
		p.render(http.StatusConflict, a)
		return false
	case writeguard.ClaimFirst:
		p.token = token
	}
	return true
}

// writeAttrs compares the changes with what Dixa holds now and, when
// nobody else changed the same attributes, sends them.
func (h *Profile) writeAttrs(p *attrPost) {
	r := p.r
	plan := customer.PlanAttrs(p.changes, p.u)
	if len(plan.Conflicts) > 0 {
		recordWrite(r, h.Audit, ActCustomAttributesUpdated, p.id, audit.OutcomeBlocked,
			attrAuditDetails(p.changes, func(c customer.AttrChange) bool { _, ok := plan.Conflicts[c.Def.ID]; return ok }, map[string]string{"reason": "conflict"}))
		p.finish(writeguard.TokenFresh, "")
		a := p.section(plan.Conflicts)
		a.Conflict = true
		a.Errors = append(a.Errors, views.FieldError{Message: "Someone else changed the marked attributes after you opened the page. Nothing was saved: check their values, then save again."})
		p.render(http.StatusConflict, a)
		return
	}
	if len(plan.Patch) > 0 {
		inPatch := func(c customer.AttrChange) bool { _, ok := plan.Patch[c.Def.ID]; return ok }
		saved, err := h.API.PatchEndUserCustomAttributes(r.Context(), p.id, plan.Patch)
		if err != nil {
			recordWrite(r, h.Audit, ActCustomAttributesUpdated, p.id, audit.OutcomeFailed,
				attrAuditDetails(p.changes, inPatch, map[string]string{"error": auditErrorClass(err)}))
			a := p.section(nil)
			status := h.attrFailure(p.w, r, err, &a)
			if errors.Is(err, apiclient.ErrOutcomeUnknown) {
				p.finish(writeguard.TokenUnknown, "")
			} else {
				p.finish(writeguard.TokenFresh, "")
			}
			p.render(status, a)
			return
		}
		recordWrite(r, h.Audit, ActCustomAttributesUpdated, p.id, audit.OutcomeOK, attrAuditDetails(p.changes, inPatch, nil))
		p.u.CustomAttributes = customer.MergeAttrs(p.u.CustomAttributes, saved, plan.Patch)
	}
	to := "/endusers/" + p.id + "?saved=attrs"
	p.finish(writeguard.TokenDone, to)
	p.saved(to)
}

// attrAuditDetails names the attributes of changes that match for the
// audit log, by definition id and identifier (never their values), in the
// order of the definitions, with extra facts added.
func attrAuditDetails(changes []customer.AttrChange, match func(customer.AttrChange) bool, extra map[string]string) map[string]string {
	var ids, identifiers []string
	for _, c := range changes {
		if !match(c) {
			continue
		}
		ids = append(ids, c.Def.ID)
		if c.Def.Identifier != "" {
			identifiers = append(identifiers, c.Def.Identifier)
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

func displayOf(changes []customer.AttrChange, defID, input string) string {
	for _, c := range changes {
		if c.Def.ID == defID {
			return emptyOr(c.Display(input))
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
