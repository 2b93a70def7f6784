package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/writeguard"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
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
	specs := profileSpecs(h.PhoneRegion)
	vals := make([]fieldValue, len(specs))
	for i, s := range specs {
		raw := q.Get(s.name())
		if len(raw) > maxPrefill || customer.HasControl(strings.ReplaceAll(raw, "\n", "")) {
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

// set records the identifier given in field f.
func (i *createIdentifiers) set(f customer.Field, v string) {
	switch f {
	case customer.Email:
		i.email = v
	case customer.PhoneNumber:
		i.phone = v
	case customer.ExternalID:
		i.externalID = v
	}
}

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

// createPost is one POST of the create form on its way through Create.
type createPost struct {
	h    *Create
	w    http.ResponseWriter
	r    *http.Request
	form url.Values
	vals []fieldValue
	ids  createIdentifiers
	v    views.ProfileForm
}

// render shows the form again with the person's input and a new token.
func (c *createPost) render(status int) {
	c.v.Fields = formFields(c.vals, false)
	c.v.Token = c.h.Guard.Issue()
	c.h.page(c.w, c.r, status, c.v)
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
	form, ok := readProfileForm(w, r, "The form could not be read. Open the new customer page again.")
	if !ok {
		return
	}
	c := &createPost{h: h, w: w, r: r, form: form, vals: readFields(form, false, h.PhoneRegion)}
	for i := range c.vals {
		if !c.vals[i].spec.list() {
			c.vals[i].base = []string{""}
		}
	}
	checkFields(c.vals, customer.New(h.PhoneRegion))
	if !slices.ContainsFunc(c.vals, func(fv fieldValue) bool { return fv.changed }) {
		fieldByName(c.vals, customer.DisplayName).err = "Enter at least a name, an email, a phone number or an external ID."
	}
	if errs := fieldErrors(c.vals); len(errs) > 0 {
		c.v.Errors = errs
		c.render(http.StatusUnprocessableEntity)
		return
	}
	for _, f := range []customer.Field{customer.Email, customer.PhoneNumber, customer.ExternalID} {
		if fv := fieldByName(c.vals, f); fv.changed {
			c.ids.set(f, fv.norm[0])
		}
	}
	recheck := form.Get("recheck") == "1"
	if (recheck || form.Get("confirm") != c.ids.confirmKey()) && !h.noDuplicates(c, recheck) {
		return
	}
	h.create(c)
}

// noDuplicates looks for customers that already hold an identifier given
// and reports whether creating may go ahead; else the request has been
// answered (the duplicates, or the outcome of a re-check).
func (h *Create) noDuplicates(c *createPost, recheck bool) bool {
	dups, err := h.lookup(c.r.Context(), c.ids)
	if err != nil {
		h.failed(c.w, c.r, err, &c.v)
		c.render(respond.Classify(err).Status)
		return false
	}
	switch {
	case len(dups) > 0:
		c.v.Duplicates, c.v.ConfirmKey = dups, c.ids.confirmKey()
		if recheck {
			c.v.Status, c.v.StatusKind = "A customer with these details exists now, so the earlier attempt probably went through. Open them below rather than creating another.", "warn"
		}
		c.render(http.StatusConflict)
		return false
	case recheck && c.ids.none():
		c.v.Status, c.v.StatusKind = "Without an email, phone number or external ID the console cannot tell whether the customer was created. Search for them by name in Dixa before creating again.", "warn"
		c.render(http.StatusOK)
		return false
	case recheck:
		c.v.Status, c.v.StatusKind = "No customer has these details, so the customer was not created. You can create them now.", "ok"
		c.render(http.StatusOK)
		return false
	}
	return true
}

// create claims the form token, creates the customer and answers with the
// outcome.
func (h *Create) create(c *createPost) {
	w, r := c.w, c.r
	token := c.form.Get("formToken")
	finish := func(writeguard.State, string) {}
	switch outcome, result := h.Guard.Claim(r.Context(), token); outcome {
	case writeguard.ClaimDone:
		respond.Redirect(w, r, result) // a double click: created once
		return
	case writeguard.ClaimUnknown:
		c.v.Unknown = true
		c.v.Errors = []views.FieldError{{Message: "This form was already sent, and Dixa did not confirm whether the customer was created. Re-check before creating again."}}
		c.render(http.StatusConflict)
		return
	case writeguard.ClaimFirst:
		finish = func(state writeguard.State, result string) { h.Guard.Finish(token, state, result) }
	}

	// What the entry says: the fields given and the identifiers among
	// them, by name, and whether a duplicate warning was overridden.
	details := map[string]string{"fields": changedFields(c.vals), "identifiers": c.ids.names()}
	if c.form.Get("confirm") == c.ids.confirmKey() {
		details["duplicateConfirmed"] = "true"
	}
	u, err := h.API.CreateEndUser(r.Context(), customer.CreatePatch(changes(c.vals)))
	if err == nil {
		recordWrite(r, h.Audit, ActEndUserCreated, u.ID, audit.OutcomeOK, details)
		to := "/endusers/" + u.ID + "?saved=created"
		finish(writeguard.TokenDone, to)
		respond.Redirect(w, r, to)
		return
	}
	details["error"] = auditErrorClass(err)
	recordWrite(r, h.Audit, ActEndUserCreated, "", audit.OutcomeFailed, details)
	switch {
	case errors.Is(err, apiclient.ErrBadRequest):
		finish(writeguard.TokenFresh, "")
		if !dixaRefusal(err, c.vals) {
			c.v.Errors = []views.FieldError{{Message: "Dixa did not accept these values. Check them and try again."}}
		}
		c.v.Errors = append(fieldErrors(c.vals), c.v.Errors...)
		reqctx.Logger(r.Context()).Info("dixa refused a new customer", "err", err)
		c.render(http.StatusUnprocessableEntity)
	case errors.Is(err, apiclient.ErrOutcomeUnknown):
		finish(writeguard.TokenUnknown, "")
		c.v.Unknown = true
		h.failed(w, r, err, &c.v)
		c.render(respond.Classify(err).Status)
	default:
		finish(writeguard.TokenFresh, "")
		h.failed(w, r, err, &c.v)
		c.render(respond.Classify(err).Status)
	}
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
		rows = append(rows, views.EndUserRow{ID: u.ID, Name: customer.Name(u), Email: u.Email, Phone: u.PhoneNumber, ExternalID: u.ExternalID, Created: u.CreatedAt.Time})
	}
	return rows, nil
}
