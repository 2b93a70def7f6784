package handlers

import (
	"context"
	"errors"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/writeguard"
	"net/http"
	"slices"
	"strings"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
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
	vals := h.valuesOf(u)
	v := views.ProfileForm{ID: id, Name: customer.Name(u), Token: h.Guard.Issue(), Fields: formFields(vals, true)}
	h.page(w, r, http.StatusOK, v)
}

// valuesOf fills the form from a customer record.
func (h *Edit) valuesOf(u apiclient.EndUser) []fieldValue {
	specs := profileSpecs(h.PhoneRegion)
	vals := make([]fieldValue, len(specs))
	for i, s := range specs {
		cur := customer.Held(s.field, u)
		vals[i] = fieldValue{spec: s, raw: shown(cur), yours: cur, base: cur}
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

// editSave is one POST of the edit form on its way through Save.
type editSave struct {
	h       *Edit
	w       http.ResponseWriter
	r       *http.Request
	id      string
	vals    []fieldValue
	v       views.ProfileForm
	recheck bool
	// finish records the outcome of the claimed form token; done is set
	// once it has been recorded (else the token is released as fresh).
	finish func(state writeguard.State, result string)
	done   bool
}

// render shows the form again with the person's input and a new token.
func (s *editSave) render(status int) {
	s.v.Fields = formFields(s.vals, true)
	s.v.Token = s.h.Guard.Issue()
	s.h.page(s.w, s.r, status, s.v)
}

// end records the token's final state and redirects to the profile.
func (s *editSave) end(state writeguard.State, to string) {
	s.done = true
	s.finish(state, to)
	respond.Redirect(s.w, s.r, to)
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
	form, ok := readProfileForm(w, r, "The form could not be read. Open the edit page again.")
	if !ok {
		return
	}
	s := &editSave{h: h, w: w, r: r, id: id, vals: readFields(form, true, h.PhoneRegion), recheck: form.Get("recheck") == "1",
		finish: func(writeguard.State, string) {}}
	s.v = views.ProfileForm{ID: id, Name: nameFrom(s.vals)}
	applyChoices(form, s.vals)
	checkFields(s.vals, customer.New(h.PhoneRegion))
	if errs := fieldErrors(s.vals); len(errs) > 0 {
		s.v.Errors = errs
		s.render(http.StatusUnprocessableEntity)
		return
	}
	if !slices.ContainsFunc(s.vals, func(fv fieldValue) bool { return fv.changed }) {
		if s.recheck {
			s.v.Status, s.v.StatusKind = "The form holds no changes, so there is nothing to re-check.", "ok"
			s.render(http.StatusOK)
			return
		}
		respond.Redirect(w, r, "/endusers/"+id+"?saved=none")
		return
	}
	if !s.recheck && !s.claim(form.Get("formToken")) {
		return
	}
	defer func() {
		if !s.done {
			s.finish(writeguard.TokenFresh, "")
		}
	}()
	unlock, err := h.Guard.Lock(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	defer unlock()
	h.write(s)
}

// applyChoices reads the choices made on a conflict: "theirs" means leave
// the field as Dixa has it; a field without a choice gets a message.
func applyChoices(form map[string][]string, vals []fieldValue) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	for _, name := range form["conflicted"] {
		fv := fieldByName(vals, customer.Field(name))
		if fv == nil {
			continue
		}
		switch get("resolve." + name) {
		case "theirs":
			fv.yours, fv.raw, fv.choice = fv.base, shown(fv.base), "theirs"
		case "mine":
			fv.choice = "mine"
		default:
			fv.err = "Choose whether to keep your value or take theirs."
			fv.conflict, fv.theirs, fv.norm = true, fv.base, fv.yours
		}
	}
}

// claim claims the one-time form token; false when the request has been
// answered (a replay of a finished save, or one whose outcome is unknown).
func (s *editSave) claim(token string) bool {
	switch outcome, result := s.h.Guard.Claim(s.r.Context(), token); outcome {
	case writeguard.ClaimDone:
		respond.Redirect(s.w, s.r, result) // a double click or a replay: written once
		return false
	case writeguard.ClaimUnknown:
		s.v.Unknown = true
		s.v.Errors = []views.FieldError{{Message: "This form was already sent, and Dixa did not confirm whether that save went through. Re-check before saving again."}}
		s.render(http.StatusConflict)
		return false
	case writeguard.ClaimFirst:
		s.finish = func(state writeguard.State, result string) { s.h.Guard.Finish(token, state, result) }
	}
	return true
}

// write re-reads the customer, compares the save with what Dixa holds now
// and, when nobody else changed the same fields, sends the PATCH.
func (h *Edit) write(s *editSave) {
	r := s.r
	cur, err := h.API.GetEndUser(r.Context(), s.id)
	if err != nil {
		if errors.Is(err, apiclient.ErrNotFound) {
			respond.Error(s.w, r, err)
			return
		}
		recordWrite(r, h.Audit, ActEndUserUpdated, s.id, audit.OutcomeFailed, map[string]string{
			"fields": changedFields(s.vals), "error": auditErrorClass(err), "stage": "reread"})
		h.failed(s.w, r, err, &s.v)
		s.render(respond.Classify(err).Status)
		return
	}
	s.v.Name = customer.Name(cur)
	plan := customer.PlanSave(changes(s.vals), cur)
	showPlan(s.vals, plan)
	if len(plan.Conflicts) > 0 {
		if !s.recheck {
			recordWrite(r, h.Audit, ActEndUserUpdated, s.id, audit.OutcomeBlocked, map[string]string{
				"fields": fieldNames(plan.Conflicts), "reason": "conflict"})
		}
		s.v.Conflict = true
		s.render(http.StatusConflict)
		return
	}
	to := "/endusers/" + s.id + "?saved=profile"
	switch {
	case s.recheck && len(plan.Sent) == 0:
		s.done = true
		respond.Redirect(s.w, r, to)
	case s.recheck:
		s.v.Status, s.v.StatusKind = "Dixa does not have your change to "+strings.Join(labels(s.vals, plan.Sent), ", ")+": it was not saved. Save again to send it.", "warn"
		s.render(http.StatusOK)
	case plan.Patch.IsEmpty():
		s.end(writeguard.TokenDone, to)
	default:
		h.send(s, plan)
	}
}

// showPlan puts what Dixa holds now into the form: the new base of every
// field, the value of a field the person left alone, and both values of a
// field in conflict.
func showPlan(vals []fieldValue, plan customer.Plan) {
	for i := range vals {
		fv := &vals[i]
		theirs := plan.Theirs[fv.spec.field]
		switch plan.Verdict[fv.spec.field] {
		case customer.Keep:
			if !customer.Same(theirs, fv.base) {
				// Someone else changed a field this person did not touch:
				// show theirs, so a later save keeps it.
				fv.raw, fv.yours = shown(theirs), theirs
			}
		case customer.Conflict:
			fv.conflict, fv.theirs, fv.oldBase, fv.choice = true, theirs, fv.base, ""
		}
		fv.base = theirs
	}
}

// send writes the planned PATCH and answers with its outcome.
func (h *Edit) send(s *editSave, plan customer.Plan) {
	r := s.r
	patched := fieldNames(plan.Sent)
	after, err := h.API.PatchEndUser(r.Context(), s.id, plan.Patch)
	if err == nil {
		recordWrite(r, h.Audit, ActEndUserUpdated, s.id, audit.OutcomeOK, map[string]string{"fields": patched})
		for _, f := range customer.Unexpected(changes(s.vals), after) {
			reqctx.Logger(r.Context()).Warn("dixa answered a patch with a different value", "field", string(f))
		}
		s.end(writeguard.TokenDone, "/endusers/"+s.id+"?saved=profile")
		return
	}
	// The form comes back with the base set to what Dixa held just before
	// this attempt, so a re-check or a second save compares against that.
	recordWrite(r, h.Audit, ActEndUserUpdated, s.id, audit.OutcomeFailed, map[string]string{
		"fields": patched, "error": auditErrorClass(err)})
	if errors.Is(err, apiclient.ErrBadRequest) {
		if !dixaRefusal(err, s.vals) {
			s.v.Errors = []views.FieldError{{Message: "Dixa did not accept these values. Check them and try again."}}
		}
		s.v.Errors = append(fieldErrors(s.vals), s.v.Errors...)
		reqctx.Logger(r.Context()).Info("dixa refused profile change", "err", err)
		s.render(http.StatusUnprocessableEntity)
		return
	}
	if errors.Is(err, apiclient.ErrOutcomeUnknown) {
		s.done = true // not fresh: a replay must not write again
		s.finish(writeguard.TokenUnknown, "")
		s.v.Unknown = true
	}
	h.failed(s.w, r, err, &s.v)
	s.render(respond.Classify(err).Status)
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
func recordWrite(r *http.Request, a AuditLogger, action, id string, outcome audit.Outcome, details map[string]string) {
	Record(context.WithoutCancel(r.Context()), a, action, "enduser", id, outcome, details)
}

// changedFields names the fields the person changed, comma-separated, in
// the form's order.
func changedFields(vals []fieldValue) string {
	var names []customer.Field
	for _, fv := range vals {
		if fv.changed {
			names = append(names, fv.spec.field)
		}
	}
	return fieldNames(names)
}

// fieldNames joins field names with commas.
func fieldNames(fs []customer.Field) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ",")
}

// labels are the form labels of fields.
func labels(vals []fieldValue, fs []customer.Field) []string {
	var out []string
	for _, f := range fs {
		if fv := fieldByName(vals, f); fv != nil {
			out = append(out, fv.spec.label)
		}
	}
	return out
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

// nameFrom names the customer from the form (its base display name).
func nameFrom(vals []fieldValue) string {
	if fv := fieldByName(vals, customer.DisplayName); fv != nil && len(fv.base) > 0 && strings.TrimSpace(fv.base[0]) != "" {
		return strings.TrimSpace(fv.base[0])
	}
	return "customer"
}
