package handlers

import (
	"context"
	"errors"
	"github.com/example/dixa-console/web/role"
	"net/http"
	"strings"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/writeguard"
)

// EndUserEditor is what the edit form needs from Dixa.
type EndUserEditor interface {
	GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error)
	PatchEndUser(ctx context.Context, id string, in apiclient.PatchEndUserInput) (apiclient.EndUser, error)
}

// Edit serves the profile edit form and its save.
type Edit struct {
	API   EndUserEditor
	Guard *writeguard.Guard
	// Audit receives an enduser.updated entry per save attempt that
	// writes, is blocked by a conflict or fails upstream; nil: no log.
	Audit AuditLogger
	// PhoneRegion normalises phone numbers typed without a country code.
	PhoneRegion string
}

// Form serves GET /endusers/{id}/edit: the writable fields with the API's
// names, filled with what Dixa holds, which the form also carries back
// (hidden) as the base of the save's comparison.
func (h *Edit) Form(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Agent) {
		return
	}
	id, ok := pathID(r)
	if !ok {
		respond.Error(w, r, noSuchCustomer())
		return
	}
	u, err := h.API.GetEndUser(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	vals := valuesOf(u)
	v := views.ProfileForm{ID: id, Name: DisplayName(u), Token: h.Guard.Issue(), Fields: formFields(vals, true)}
	h.page(w, r, http.StatusOK, v)
}

// valuesOf fills the form from a customer record.
func valuesOf(u apiclient.EndUser) []fieldValue {
	specs := profileSpecs()
	vals := make([]fieldValue, len(specs))
	for i, s := range specs {
		cur := held(s, u)
		vals[i] = fieldValue{spec: s, raw: shown(s, cur), yours: cur, base: cur}
	}
	return vals
}

func (h *Edit) page(w http.ResponseWriter, r *http.Request, status int, v views.ProfileForm) {
	if respond.IsFragment(r) {
		respond.Page(w, r, status, "Edit "+v.Name, views.EditForm(v))
		return
	}
	respond.Page(w, r, status, "Edit "+v.Name, views.EditPage(v), respond.Section("endusers"))
}

// Save serves POST /endusers/{id}. It sends Dixa a PATCH with only the
// fields the person changed, after re-reading the customer and checking
// that nobody changed those fields since the form was shown (else 409 with
// both values and a choice). Saves of one customer are serialised inside
// the process, and the one-time form token makes a double click or a
// replayed POST write once. A failed save shows the form again with the
// input kept: 422 for invalid input (ours or Dixa's), 502/503/504 for
// upstream trouble, with an offer to re-check when the outcome is unknown.
func (h *Edit) Save(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Agent) {
		return
	}
	id, ok := pathID(r)
	if !ok {
		respond.Error(w, r, noSuchCustomer())
		return
	}
	const unreadable = "The form could not be read. Open the edit page again."
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, unreadable))
		return
	}
	if r.PostForm.Get("formVersion") != "1" {
		respond.Error(w, r, respond.BadRequest(unreadable))
		return
	}
	form := r.PostForm
	vals := readFields(form, true)
	v := views.ProfileForm{ID: id, Name: nameFrom(vals)}
	token := form.Get("formToken")
	recheck := form.Get("recheck") == "1"

	// The choices made on a conflict: theirs means "leave it as Dixa has it".
	for _, name := range form["conflicted"] {
		fv := fieldByName(vals, name)
		if fv == nil {
			continue
		}
		switch form.Get("resolve." + name) {
		case "theirs":
			fv.yours, fv.raw, fv.choice = fv.base, shown(fv.spec, fv.base), "theirs"
		case "mine":
			fv.choice = "mine"
		default:
			fv.err = "Choose whether to keep your value or take theirs."
			fv.conflict, fv.theirs, fv.norm = true, fv.base, fv.yours
		}
	}
	for i := range vals {
		fv := &vals[i]
		fv.changed = !same(fv.yours, fv.base)
		if !fv.changed {
			continue
		}
		errBefore := fv.err
		fv.validate(h.PhoneRegion)
		if errBefore != "" && fv.err == "" {
			fv.err = errBefore
		}
		if fv.err == "" && same(fv.norm, fv.base) {
			fv.changed = false // only reformatted
		}
	}
	crossCheck(vals)
	render := func(status int) {
		v.Fields = formFields(vals, true)
		v.Token = h.Guard.Issue()
		h.page(w, r, status, v)
	}
	if errs := fieldErrors(vals); len(errs) > 0 {
		v.Errors = errs
		render(http.StatusUnprocessableEntity)
		return
	}
	changed := 0
	for _, fv := range vals {
		if fv.changed {
			changed++
		}
	}
	if changed == 0 {
		if recheck {
			v.Status, v.StatusKind = "The form holds no changes, so there is nothing to re-check.", "ok"
			render(http.StatusOK)
			return
		}
		respond.Redirect(w, r, "/endusers/"+id+"?saved=none")
		return
	}

	finish := func(writeguard.State, string) {}
	if !recheck {
		switch outcome, result := h.Guard.Claim(r.Context(), token); outcome {
		case writeguard.ClaimDone:
			respond.Redirect(w, r, result) // a double click or a replay: written once
			return
		case writeguard.ClaimUnknown:
			v.Unknown = true
			v.Errors = []views.FieldError{{Message: "This form was already sent, and Dixa did not confirm whether that save went through. Re-check before saving again."}}
			render(http.StatusConflict)
			return
		case writeguard.ClaimFirst:
			finish = func(state writeguard.State, result string) { h.Guard.Finish(token, state, result) }
		}
	}
	saved := false
	defer func() {
		if !saved {
			finish(writeguard.TokenFresh, "")
		}
	}()

	unlock, err := h.Guard.Lock(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	defer unlock()

	cur, err := h.API.GetEndUser(r.Context(), id)
	if err != nil {
		if errors.Is(err, apiclient.ErrNotFound) {
			respond.Error(w, r, err)
			return
		}
		recordWrite(r, h.Audit, ActEndUserUpdated, id, store.OutcomeFailed, map[string]string{
			"fields": changedFields(vals), "error": auditErrorClass(err), "stage": "reread"})
		h.failed(w, r, err, &v)
		render(respond.Classify(err).Status)
		return
	}
	v.Name = DisplayName(cur)

	// Three-way compare of each changed field: base (what the form showed),
	// theirs (what Dixa holds now), yours.
	var patch apiclient.PatchEndUserInput
	conflicts, pending := 0, []string{}
	var patched, conflicted []string // field names, for the audit log
	for i := range vals {
		fv := &vals[i]
		theirs := held(fv.spec, cur)
		switch {
		case !fv.changed:
			if !same(theirs, fv.base) {
				// Someone else changed a field this person did not touch:
				// show theirs, so a later save keeps it.
				fv.raw, fv.yours = shown(fv.spec, theirs), theirs
			}
		case same(theirs, fv.norm):
			// Already so: the same change made elsewhere, or an earlier
			// attempt that did go through.
		case !same(theirs, fv.base):
			fv.conflict, fv.theirs, fv.oldBase = true, theirs, fv.base
			fv.choice = ""
			conflicts++
			conflicted = append(conflicted, fv.spec.name)
		default:
			setPatch(&patch, fv.spec.name, fv.norm)
			pending = append(pending, fv.spec.label)
			patched = append(patched, fv.spec.name)
		}
		fv.base = theirs
	}
	if conflicts > 0 {
		if !recheck {
			recordWrite(r, h.Audit, ActEndUserUpdated, id, store.OutcomeBlocked, map[string]string{
				"fields": strings.Join(conflicted, ","), "reason": "conflict"})
		}
		v.Conflict = true
		render(http.StatusConflict)
		return
	}
	if recheck {
		if len(pending) == 0 {
			saved = true
			respond.Redirect(w, r, "/endusers/"+id+"?saved=profile")
			return
		}
		v.Status, v.StatusKind = "Dixa does not have your change to "+strings.Join(pending, ", ")+": it was not saved. Save again to send it.", "warn"
		render(http.StatusOK)
		return
	}
	if patch.IsEmpty() {
		saved = true
		finish(writeguard.TokenDone, "/endusers/"+id+"?saved=profile")
		respond.Redirect(w, r, "/endusers/"+id+"?saved=profile")
		return
	}
	after, err := h.API.PatchEndUser(r.Context(), id, patch)
	if err != nil {
		// The form comes back with the base set to what Dixa held just
		// before this attempt, so a re-check or a second save compares
		// against that.
		recordWrite(r, h.Audit, ActEndUserUpdated, id, store.OutcomeFailed, map[string]string{
			"fields": strings.Join(patched, ","), "error": auditErrorClass(err)})
		if errors.Is(err, apiclient.ErrBadRequest) {
			if !dixaRefusal(err, vals) {
				v.Errors = []views.FieldError{{Message: "Dixa did not accept these values. Check them and try again."}}
			}
			v.Errors = append(fieldErrors(vals), v.Errors...)
			reqctx.Logger(r.Context()).Info("dixa refused profile change", "err", err)
			render(http.StatusUnprocessableEntity)
			return
		}
		if errors.Is(err, apiclient.ErrOutcomeUnknown) {
			saved = true // not fresh: a replay must not write again
			finish(writeguard.TokenUnknown, "")
			v.Unknown = true
		}
		h.failed(w, r, err, &v)
		render(respond.Classify(err).Status)
		return
	}
	recordWrite(r, h.Audit, ActEndUserUpdated, id, store.OutcomeOK, map[string]string{"fields": strings.Join(patched, ",")})
	verifyWrite(r, vals, after)
	saved = true
	finish(writeguard.TokenDone, "/endusers/"+id+"?saved=profile")
	respond.Redirect(w, r, "/endusers/"+id+"?saved=profile")
}

// Audit actions of the agent workflows.
const (
	ActEndUserUpdated          = "enduser.updated"
	ActEndUserCreated          = "enduser.created"
	ActCustomAttributesUpdated = "customattributes.updated"
)

// recordWrite appends an audit entry about a customer for the person of
// r. The entry is written even when the person has gone away meanwhile:
// the write it records may well have happened. details hold field names
// and error classes, never values.
func recordWrite(r *http.Request, a AuditLogger, action, id, outcome string, details map[string]string) {
	Record(context.WithoutCancel(r.Context()), a, action, "enduser", id, outcome, details)
}

// changedFields names the fields the person changed, comma-separated, in
// the form's order.
func changedFields(vals []fieldValue) string {
	var names []string
	for _, fv := range vals {
		if fv.changed {
			names = append(names, fv.spec.name)
		}
	}
	return strings.Join(names, ",")
}

// auditErrorClass names an upstream failure for the audit log: a fixed
// word per kind of error, never a message or an upstream body.
func auditErrorClass(err error) string {
	switch {
	case errors.Is(err, apiclient.ErrOutcomeUnknown):
		return "outcome_unknown"
	case errors.Is(err, apiclient.ErrBadRequest):
		return "refused"
	case errors.Is(err, apiclient.ErrNotFound):
		return "not_found"
	case errors.Is(err, apiclient.ErrConflict):
		return "conflict"
	case errors.Is(err, apiclient.ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, apiclient.ErrBreakerOpen):
		return "breaker_open"
	case errors.Is(err, apiclient.ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	case errors.Is(err, apiclient.ErrUpstream):
		return "upstream"
	}
	return "internal"
}

// failed puts an upstream failure at the top of the form.
func (h *Edit) failed(w http.ResponseWriter, r *http.Request, err error, v *views.ProfileForm) {
	e := upstreamFailure(w, r, err)
	msg := e.Message
	if errors.Is(err, apiclient.ErrOutcomeUnknown) {
		msg = "Dixa did not confirm the change in time, so it may or may not have been saved."
	}
	v.Errors = append(v.Errors, views.FieldError{Message: msg + " Your input is kept below."})
	v.Reference = reqctx.RequestID(r.Context())
}

// verifyWrite compares the written fields with Dixa's answer and logs a
// surprise (security.md §6.4). Avatars are re-hosted by Dixa, so they are
// not compared.
func verifyWrite(r *http.Request, vals []fieldValue, after apiclient.EndUser) {
	if after.ID == "" {
		return
	}
	for _, fv := range vals {
		if !fv.changed || fv.spec.kind == kindURL {
			continue
		}
		if got := held(fv.spec, after); !same(got, fv.norm) {
			reqctx.Logger(r.Context()).Warn("dixa answered a patch with a different value", "field", fv.spec.name)
		}
	}
}

// nameFrom names the customer from the form (its base display name).
func nameFrom(vals []fieldValue) string {
	if fv := fieldByName(vals, "displayName"); fv != nil && len(fv.base) > 0 && strings.TrimSpace(fv.base[0]) != "" {
		return strings.TrimSpace(fv.base[0])
	}
	return "customer"
}

// setPatch sets one field of a PATCH body.
func setPatch(p *apiclient.PatchEndUserInput, name string, v []string) {
	s := func() *string {
		x := ""
		if len(v) > 0 {
			x = v[0]
		}
		return &x
	}
	l := func() *[]string { x := append([]string{}, v...); return &x }
	switch name {
	case "displayName":
		p.DisplayName = s()
	case "firstName":
		p.FirstName = s()
	case "lastName":
		p.LastName = s()
	case "middleNames":
		p.MiddleNames = l()
	case "email":
		p.Email = s()
	case "phoneNumber":
		p.PhoneNumber = s()
	case "additionalEmails":
		p.AdditionalEmails = l()
	case "additionalPhoneNumbers":
		p.AdditionalPhoneNumbers = l()
	case "avatarUrl":
		p.AvatarURL = s()
	case "externalId":
		p.ExternalID = s()
	}
}
