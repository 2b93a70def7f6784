package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"github.com/example/dixa-console/web/role"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/writeguard"
)

// EndUserCreator is what the create form needs from Dixa.
type EndUserCreator interface {
	ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error)
	CreateEndUser(ctx context.Context, in apiclient.CreateEndUserInput) (apiclient.EndUser, error)
}

// Create serves the create form and creates customers, with a duplicate
// guard first.
type Create struct {
	API   EndUserCreator
	Guard *writeguard.Guard
	// Audit receives an enduser.created entry per create that reaches
	// Dixa (created, refused or failed); nil: no log.
	Audit AuditLogger
	// PhoneRegion normalises phone numbers typed without a country code.
	PhoneRegion string
}

// maxPrefill bounds a value taken from the query string.
const maxPrefill = 2048

// Form serves GET /endusers/new, prefilled from the query (the search's
// empty state links /endusers/new?email=…).
func (h *Create) Form(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Agent) {
		return
	}
	q := r.URL.Query()
	specs := profileSpecs()
	vals := make([]fieldValue, len(specs))
	for i, s := range specs {
		raw := q.Get(s.name)
		if len(raw) > maxPrefill || hasControl(strings.ReplaceAll(raw, "\n", "")) {
			raw = ""
		}
		vals[i] = fieldValue{spec: s, raw: raw, yours: canonical(s, raw)}
	}
	v := views.ProfileForm{Token: h.Guard.Issue(), Fields: formFields(vals, false)}
	h.page(w, r, http.StatusOK, v)
}

func (h *Create) page(w http.ResponseWriter, r *http.Request, status int, v views.ProfileForm) {
	if respond.IsFragment(r) {
		respond.Page(w, r, status, "New customer", views.CreateForm(v))
		return
	}
	respond.Page(w, r, status, "New customer", views.CreatePage(v), respond.Section("new"))
}

// createIdentifiers are what a duplicate is recognised by.
type createIdentifiers struct{ email, phone, externalID string }

func (i createIdentifiers) none() bool { return i.email == "" && i.phone == "" && i.externalID == "" }

// names lists the identifiers given, by field name.
func (i createIdentifiers) names() string {
	var n []string
	if i.email != "" {
		n = append(n, "email")
	}
	if i.phone != "" {
		n = append(n, "phoneNumber")
	}
	if i.externalID != "" {
		n = append(n, "externalId")
	}
	return strings.Join(n, ",")
}

// confirmKey ties "create anyway" to the createIdentifiers that were checked:
// change one and the check runs again.
func (i createIdentifiers) confirmKey() string {
	sum := sha256.Sum256([]byte(strings.ToLower(i.email) + "\x00" + i.phone + "\x00" + i.externalID))
	return hex.EncodeToString(sum[:8])
}

// Create serves POST /endusers. It validates the input, looks up the email,
// phone number and external ID given and, when a customer already has one
// of them, shows them and asks before creating (409, "create anyway"
// carries a confirmation bound to those createIdentifiers). The one-time form
// token makes a double click create one customer.
func (h *Create) Create(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Agent) {
		return
	}
	const unreadable = "The form could not be read. Open the new customer page again."
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, unreadable))
		return
	}
	if r.PostForm.Get("formVersion") != "1" {
		respond.Error(w, r, respond.BadRequest(unreadable))
		return
	}
	form := r.PostForm
	vals := readFields(form, false)
	empty := true
	for i := range vals {
		fv := &vals[i]
		if !fv.spec.list() {
			fv.base = []string{""}
		}
		fv.changed = !same(fv.yours, fv.base)
		if fv.changed {
			fv.validate(h.PhoneRegion)
			empty = false
		}
	}
	crossCheck(vals)
	if empty {
		fieldByName(vals, "displayName").err = "Enter at least a name, an email, a phone number or an external ID."
	}
	v := views.ProfileForm{}
	render := func(status int) {
		v.Fields = formFields(vals, false)
		v.Token = h.Guard.Issue()
		h.page(w, r, status, v)
	}
	if errs := fieldErrors(vals); len(errs) > 0 {
		v.Errors = errs
		render(http.StatusUnprocessableEntity)
		return
	}

	ids := createIdentifiers{}
	if fv := fieldByName(vals, "email"); fv.changed {
		ids.email = fv.norm[0]
	}
	if fv := fieldByName(vals, "phoneNumber"); fv.changed {
		ids.phone = fv.norm[0]
	}
	if fv := fieldByName(vals, "externalId"); fv.changed {
		ids.externalID = fv.norm[0]
	}
	recheck := form.Get("recheck") == "1"
	if recheck || form.Get("confirm") != ids.confirmKey() {
		dups, err := h.lookup(r.Context(), ids)
		if err != nil {
			h.failed(w, r, err, &v)
			render(respond.Classify(err).Status)
			return
		}
		if len(dups) > 0 {
			v.Duplicates, v.ConfirmKey = dups, ids.confirmKey()
			if recheck {
				v.Status, v.StatusKind = "A customer with these details exists now, so the earlier attempt probably went through. Open them below rather than creating another.", "warn"
			}
			render(http.StatusConflict)
			return
		}
		if recheck {
			if ids.none() {
				v.Status, v.StatusKind = "Without an email, phone number or external ID the console cannot tell whether the customer was created. Search for them by name in Dixa before creating again.", "warn"
			} else {
				v.Status, v.StatusKind = "No customer has these details, so the customer was not created. You can create them now.", "ok"
			}
			render(http.StatusOK)
			return
		}
	}

	token := form.Get("formToken")
	finish := func(writeguard.State, string) {}
	switch outcome, result := h.Guard.Claim(r.Context(), token); outcome {
	case writeguard.ClaimDone:
		respond.Redirect(w, r, result) // a double click: created once
		return
	case writeguard.ClaimUnknown:
		v.Unknown = true
		v.Errors = []views.FieldError{{Message: "This form was already sent, and Dixa did not confirm whether the customer was created. Re-check before creating again."}}
		render(http.StatusConflict)
		return
	case writeguard.ClaimFirst:
		finish = func(state writeguard.State, result string) { h.Guard.Finish(token, state, result) }
	}

	// What the entry says: the fields given and the identifiers among
	// them, by name, and whether a duplicate warning was overridden.
	details := map[string]string{"fields": changedFields(vals), "identifiers": ids.names()}
	if form.Get("confirm") == ids.confirmKey() {
		details["duplicateConfirmed"] = "true"
	}
	u, err := h.API.CreateEndUser(r.Context(), createInput(vals))
	if err != nil {
		details["error"] = auditErrorClass(err)
		recordWrite(r, h.Audit, ActEndUserCreated, "", store.OutcomeFailed, details)
		switch {
		case errors.Is(err, apiclient.ErrBadRequest):
			finish(writeguard.TokenFresh, "")
			if !dixaRefusal(err, vals) {
				v.Errors = []views.FieldError{{Message: "Dixa did not accept these values. Check them and try again."}}
			}
			v.Errors = append(fieldErrors(vals), v.Errors...)
			reqctx.Logger(r.Context()).Info("dixa refused a new customer", "err", err)
			render(http.StatusUnprocessableEntity)
		case errors.Is(err, apiclient.ErrOutcomeUnknown):
			finish(writeguard.TokenUnknown, "")
			v.Unknown = true
			h.failed(w, r, err, &v)
			render(respond.Classify(err).Status)
		default:
			finish(writeguard.TokenFresh, "")
			h.failed(w, r, err, &v)
			render(respond.Classify(err).Status)
		}
		return
	}
	recordWrite(r, h.Audit, ActEndUserCreated, u.ID, store.OutcomeOK, details)
	to := "/endusers/" + u.ID + "?saved=created"
	finish(writeguard.TokenDone, to)
	respond.Redirect(w, r, to)
}

func (h *Create) failed(w http.ResponseWriter, r *http.Request, err error, v *views.ProfileForm) {
	e := upstreamFailure(w, r, err)
	msg := e.Message
	if errors.Is(err, apiclient.ErrOutcomeUnknown) {
		msg = "Dixa did not confirm in time whether the customer was created."
	}
	v.Errors = append(v.Errors, views.FieldError{Message: msg + " Your input is kept below."})
	v.Reference = reqctx.RequestID(r.Context())
}

// lookup finds the customers that already hold one of the createIdentifiers,
// with one filtered list call per identifier, in parallel.
func (h *Create) lookup(ctx context.Context, ids createIdentifiers) ([]views.EndUserRow, error) {
	var (
		mu    sync.Mutex
		found []apiclient.EndUser
	)
	g, ctx := errgroup.WithContext(ctx)
	for _, o := range []apiclient.ListOptions{
		{Email: ids.email, PageLimit: 5},
		{Phone: ids.phone, PageLimit: 5},
		{ExternalID: ids.externalID, PageLimit: 5},
	} {
		if o.Email == "" && o.Phone == "" && o.ExternalID == "" {
			continue
		}
		g.Go(func() error {
			page, err := h.API.ListEndUsers(ctx, o)
			if err != nil {
				return err
			}
			mu.Lock()
			found = append(found, page.Items...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var rows []views.EndUserRow
	seen := map[string]bool{}
	for _, u := range found {
		if seen[u.ID] {
			continue
		}
		seen[u.ID] = true
		rows = append(rows, views.EndUserRow{ID: u.ID, Name: DisplayName(u), Email: u.Email, Phone: u.PhoneNumber, ExternalID: u.ExternalID, Created: u.CreatedAt.Time})
	}
	return rows, nil
}

// createInput is the body of POST /endusers from the validated form.
func createInput(vals []fieldValue) apiclient.CreateEndUserInput {
	var p apiclient.PatchEndUserInput
	for _, fv := range vals {
		if fv.changed {
			setPatch(&p, fv.spec.name, fv.norm)
		}
	}
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
