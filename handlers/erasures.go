package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/example/dixa-console/web/role"
	"html"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/store"
)

// ErasureAPI is what the erasure flow needs from Dixa.
type ErasureAPI interface {
	GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error)
	ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error)
	ListEndUserConversations(ctx context.Context, id string, o apiclient.PageOptions) (apiclient.Page[apiclient.Conversation], error)
	AnonymizeEndUser(ctx context.Context, id string, force bool) (apiclient.AnonymizationRequest, error)
	GetAnonymizationRequest(ctx context.Context, requestID string) (apiclient.AnonymizationRequest, error)
}

// ErasureStore is what the erasure flow needs from the database
// (*store.Store).
type ErasureStore interface {
	AuditLogger
	CreateErasure(ctx context.Context, e store.Erasure, digests []string) error
	GetErasure(ctx context.Context, id string) (store.Erasure, error)
	ListErasures(ctx context.Context) ([]store.Erasure, error)
	ErasuresOf(ctx context.Context, subjectID string) ([]store.Erasure, error)
	ErasureDigests(ctx context.Context, id string) ([]string, error)
	Transition(ctx context.Context, id, from string, change func(*store.Erasure) error) (store.Erasure, error)
	DueForPoll(ctx context.Context, now time.Time, limit int) ([]store.Erasure, error)
	IdentifierDigest(kind, value string) string
	LatestAudit(ctx context.Context, targetType, targetID string) (store.AuditEntry, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Erasures serves the GDPR erasure flow (leads only): preview and request,
// four-eyes approval, submission to Dixa, status, receipts.
type Erasures struct {
	API   ErasureAPI
	Store ErasureStore
	// Approval is "required" (a second lead approves) or "single".
	Approval string
	// Tracker follows submitted requests to completion; the status page
	// uses it too.
	Tracker *ErasureTracker
	Now     func() time.Time
	// StepUp is how recent the person's last sign-in must be to request or
	// approve an erasure (security checklist 7); zero: DefaultStepUp. An
	// identity without an authentication time (header mode with plain
	// headers: the proxy re-authenticates on its own schedule) passes.
	StepUp time.Duration
	// SignInAgain is true when the console's own sign-in page can renew the
	// sign-in (dev, oidc); the step-up refusal then links to it.
	SignInAgain bool
}

// DefaultStepUp is the step-up window when Erasures.StepUp is zero.
const DefaultStepUp = 15 * time.Minute

func (h *Erasures) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Audit actions of the flow.
const (
	ActErasureRequested = "erasure.requested"
	ActErasureDenied    = "erasure.denied"
	ActErasureApproved  = "erasure.approved"
	ActErasureRejected  = "erasure.rejected"
	ActErasureSubmitted = "erasure.submitted"
	ActErasureBlocked   = "erasure.blocked"
	ActErasureProcessed = "erasure.processed"
	ActErasureVerified  = "erasure.verified"
	ActErasureFailed    = "erasure.failed"
	ActErasureExtended  = "erasure.extended"
)

// erasureTarget names the target of an erasure route for the audit log:
// the erasure when the path has one, else the end user.
func erasureTarget(r *http.Request) (string, string) {
	if rid := r.PathValue("rid"); rid != "" {
		return "erasure", rid
	}
	return "enduser", r.PathValue("id")
}

// deny refuses (403) and writes one erasure.denied entry.
func (h *Erasures) deny(w http.ResponseWriter, r *http.Request, why, msg string) {
	tt, tid := erasureTarget(r)
	if len(tid) > 64 {
		tid = tid[:64]
	}
	Record(r.Context(), h.Store, ActErasureDenied, tt, tid, store.OutcomeDenied, map[string]string{
		"reason": why, "route": r.Method + " " + routePattern(r)})
	respond.Error(w, r, respond.Forbidden(msg))
}

func routePattern(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.URL.Path
}

// AuditDenied is middleware for the erasure routes, placed before the
// role check: it writes the erasure.denied entry for anyone who is not a
// lead and lets the role check answer 403. (Handlers check again.) It
// marks the request (DenialAudited) so that the role check does not write
// a second, generic access.denied entry for the same refusal.
func (h *Erasures) AuditDenied(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, _ := reqctx.IdentityFrom(r.Context()); !id.Allows(role.Lead) {
			tt, tid := erasureTarget(r)
			if len(tid) > 64 {
				tid = tid[:64]
			}
			Record(r.Context(), h.Store, ActErasureDenied, tt, tid, store.OutcomeDenied, map[string]string{
				"reason": "role " + string(id.Role) + " is not lead", "route": r.Method + " " + r.URL.Path})
			r = r.WithContext(context.WithValue(r.Context(), denialAuditedKey{}, true))
		}
		next.ServeHTTP(w, r)
	})
}

type denialAuditedKey struct{}

// DenialAudited reports whether a middleware before the role check has
// already written the audit entry for refusing this request.
func DenialAudited(ctx context.Context) bool {
	v, _ := ctx.Value(denialAuditedKey{}).(bool)
	return v
}

// stepUpOK reports whether me signed in recently enough to request or
// approve an erasure (security checklist 7). If not, it answers 403 with a
// way to sign in again, writes one erasure.denied entry (reason
// stale_authentication) and returns false; nothing reaches Dixa.
func (h *Erasures) stepUpOK(w http.ResponseWriter, r *http.Request, me reqctx.Identity) bool {
	if me.AuthTime.IsZero() {
		return true // header mode without an authentication time: the proxy decides
	}
	window := h.StepUp
	if window <= 0 {
		window = DefaultStepUp
	}
	age := h.now().Sub(me.AuthTime)
	if age <= window {
		return true
	}
	ctx := r.Context()
	tt, tid := erasureTarget(r)
	if len(tid) > 64 {
		tid = tid[:64]
	}
	Record(ctx, h.Store, ActErasureDenied, tt, tid, store.OutcomeDenied, map[string]string{
		"reason": "stale_authentication", "route": r.Method + " " + routePattern(r),
		"maxAge": window.String(), "authAge": age.Truncate(time.Second).String()})
	reqctx.Logger(ctx).Warn("request denied: sign-in too old for an erasure", "status", http.StatusForbidden,
		"actor", me.ID, "age", age.Truncate(time.Second).String(), "max", window.String())
	v := views.ErrorView{Status: http.StatusForbidden, Title: "Please sign in again",
		Message:       "Please sign in again to confirm it is you; erasure needs a sign-in within the last " + spell(window) + ".",
		CorrelationID: reqctx.RequestID(ctx)}
	var page templ.Component = views.ErrorPage(v)
	if h.SignInAgain {
		// Back to the page the form came from: the preview
		// (/endusers/{id}/erasure) or the request (/erasures/{rid}).
		next := strings.TrimPrefix(r.URL.Path, views.ChromeFrom(ctx).BasePath)
		next = strings.TrimSuffix(next, "/approve")
		page = templ.Join(page, signInAgainLink(views.WithQuery(views.Path(ctx, "/login"), "next", next)))
	}
	w.Header().Set("Cache-Control", "no-store")
	respond.Page(w, r, http.StatusForbidden, v.Title, page, respond.Section("erasures"))
	return false
}

// signInAgainLink is the step-up refusal's way out: the console's sign-in
// page, returning to href's next afterwards. href is a console path built
// with views.WithQuery, escaped here for the attribute.
func signInAgainLink(href string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<p><a class="button" href="`+html.EscapeString(href)+`" data-testid="sign-in-link">Sign in again</a></p>`)
		return err
	})
}

// spell writes a window for people: "15 minutes", "1 minute", else Go's
// own notation ("90s").
func spell(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "1 minute"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}

// lead returns the signed-in lead, or refuses the request.
func (h *Erasures) lead(w http.ResponseWriter, r *http.Request) (reqctx.Identity, bool) {
	id, ok := reqctx.IdentityFrom(r.Context())
	if !ok || !id.Allows(role.Lead) {
		h.deny(w, r, "role "+string(id.Role)+" is not lead", "Erasure needs the lead role.")
		return id, false
	}
	return id, true
}

func erasureSubject(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if u, err := uuid.Parse(id); err != nil || u.String() != strings.ToLower(id) {
		return "", respond.NotFound("There is no customer with that ID.")
	}
	return strings.ToLower(id), nil
}

func (h *Erasures) erasure(r *http.Request) (store.Erasure, error) {
	rid := r.PathValue("rid")
	if _, err := uuid.Parse(rid); err != nil {
		return store.Erasure{}, respond.NotFound("There is no erasure request with that ID.")
	}
	e, err := h.Store.GetErasure(r.Context(), rid)
	if errors.Is(err, store.ErrNotFound) {
		return e, respond.NotFound("There is no erasure request with that ID.")
	}
	return e, err
}

// maxConversationPages bounds how far the preview and the verification
// read a customer's conversations (100 a page).
const maxConversationPages = 50

// conversations reads every conversation of a customer.
func conversations(ctx context.Context, api ErasureAPI, id string) ([]apiclient.Conversation, error) {
	var out []apiclient.Conversation
	key := ""
	for range maxConversationPages {
		p, err := api.ListEndUserConversations(ctx, id, apiclient.PageOptions{PageLimit: 100, PageKey: key})
		if err != nil {
			return out, err
		}
		out = append(out, p.Items...)
		if p.NextKey == "" || p.NextKey == key {
			return out, nil
		}
		key = p.NextKey
	}
	return out, errors.New("too many conversation pages")
}

// identifiers lists a customer's identifiers by kind, deduplicated.
func identifiers(u apiclient.EndUser) [][2]string {
	var out [][2]string
	seen := map[string]bool{}
	add := func(kind, v string) {
		v = strings.TrimSpace(v)
		k := kind + ":" + strings.ToLower(v)
		if v == "" || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, [2]string{kind, v})
	}
	add("email", u.Email)
	for _, e := range u.AdditionalEmails {
		add("email", e)
	}
	add("phone", u.PhoneNumber)
	for _, p := range u.AdditionalPhoneNumbers {
		add("phone", p)
	}
	add("externalId", u.ExternalID)
	return out
}

// maxDuplicateLookups bounds the list calls of a preview (one filter per
// call, Dixa allows no more), so a customer with many identifiers cannot
// eat the company's request budget.
const maxDuplicateLookups = 12

// duplicates finds other customers sharing any of u's emails, phone
// numbers or external id, with one filtered list call per identifier.
func duplicates(ctx context.Context, api ErasureAPI, u apiclient.EndUser) ([]views.ErasureDuplicate, string) {
	byID := map[string]*views.ErasureDuplicate{}
	var order []string
	ids := identifiers(u)
	problem := ""
	if len(ids) > maxDuplicateLookups {
		ids = ids[:maxDuplicateLookups]
		problem = "This customer has many identifiers; only the first " + strconv.Itoa(maxDuplicateLookups) + " were checked for duplicates."
	}
	for _, id := range ids {
		o := apiclient.ListOptions{PageLimit: 50}
		switch id[0] {
		case "email":
			o.Email = id[1]
		case "phone":
			o.Phone = id[1]
		case "externalId":
			o.ExternalID = id[1]
		}
		p, err := api.ListEndUsers(ctx, o)
		if err != nil {
			if errors.Is(err, apiclient.ErrNotFound) {
				continue // some APIs answer an empty filter with 404
			}
			problem = "The duplicate check could not be completed (" + respond.Classify(err).Title + "). Check for duplicates by hand before requesting."
			break
		}
		for _, d := range p.Items {
			if d.ID == u.ID {
				continue
			}
			dup, ok := byID[d.ID]
			if !ok {
				dup = &views.ErasureDuplicate{ID: d.ID, Name: d.DisplayName, Email: d.Email, Phone: d.PhoneNumber, ExternalID: d.ExternalID}
				byID[d.ID] = dup
				order = append(order, d.ID)
			}
			label := map[string]string{"email": "email", "phone": "phone number", "externalId": "external ID"}[id[0]]
			if !slices.Contains(dup.Shared, label) {
				dup.Shared = append(dup.Shared, label)
			}
		}
	}
	out := make([]views.ErasureDuplicate, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return out, problem
}

// preview builds the preview of erasing a customer: profile, conversations
// (open ones flagged), duplicates, earlier requests.
func (h *Erasures) preview(ctx context.Context, id string) (views.ErasurePreview, apiclient.EndUser, error) {
	u, err := h.API.GetEndUser(ctx, id)
	if err != nil {
		return views.ErasurePreview{}, u, err
	}
	v := views.ErasurePreview{SubjectID: u.ID, Name: u.DisplayName, Email: u.Email, Phone: u.PhoneNumber, ExternalID: u.ExternalID,
		AdditionalEmails: u.AdditionalEmails, AdditionalPhones: u.AdditionalPhoneNumbers,
		Approval: h.Approval, Today: h.now().Format("2006-01-02"), ConfirmWith: "email"}
	if u.Email == "" {
		v.ConfirmWith = "id"
	}
	convs, err := conversations(ctx, h.API, id)
	if err != nil {
		if len(convs) == 0 {
			return v, u, err
		}
		v.ConversationsProblem = "Not every conversation could be read; the list below is incomplete."
	}
	for _, c := range convs {
		row := views.ErasureConversation{ID: c.ID, Channel: c.Channel, State: c.State, Kind: c.Type, Created: c.CreatedAt.Time, Open: c.IsOpen()}
		if c.Type == apiclient.ConvAnonymized {
			row.State = "Anonymized"
		}
		if row.Open {
			v.OpenCount++
		}
		v.Conversations = append(v.Conversations, row)
	}
	v.Duplicates, v.DuplicatesProblem = duplicates(ctx, h.API, u)
	earlier, err := h.Store.ErasuresOf(ctx, id)
	if err != nil {
		return v, u, err
	}
	for _, e := range earlier {
		v.Earlier = append(v.Earlier, h.erasureView(e))
		if !store.FinalState(e.State) {
			v.ActiveID = e.ID
		}
	}
	return v, u, nil
}

// Preview serves GET /endusers/{id}/erasure.
func (h *Erasures) Preview(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.lead(w, r); !ok {
		return
	}
	id, err := erasureSubject(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	v, _, err := h.preview(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	v.Form.ReceivedAt = v.Today
	respond.Page(w, r, http.StatusOK, "Erase customer data", views.ErasurePreviewPage(v), respond.Section("erasures"))
}

func readErasureForm(r *http.Request) views.ErasureForm {
	return views.ErasureForm{
		Reference:   strings.TrimSpace(r.PostFormValue("reference")),
		Reason:      strings.TrimSpace(r.PostFormValue("reason")),
		ReceivedAt:  strings.TrimSpace(r.PostFormValue("receivedAt")),
		Force:       r.PostFormValue("force") != "",
		ForceReason: strings.TrimSpace(r.PostFormValue("forceReason")),
		Confirm:     strings.TrimSpace(r.PostFormValue("confirm")),
	}
}

// validate checks the form against today's date and the customer.
func validateErasure(f views.ErasureForm, u apiclient.EndUser, today time.Time) (map[string]string, time.Time) {
	errs := map[string]string{}
	switch {
	case f.Reference == "":
		errs["reference"] = "Enter the ticket or DSAR reference."
	case len(f.Reference) > 200:
		errs["reference"] = "Keep the reference under 200 characters."
	}
	switch {
	case f.Reason == "":
		errs["reason"] = "Enter the legal ground or reason."
	case len(f.Reason) > 1000:
		errs["reason"] = "Keep the reason under 1000 characters."
	}
	received, err := time.Parse("2006-01-02", f.ReceivedAt)
	switch {
	case f.ReceivedAt == "":
		errs["receivedAt"] = "Enter the date the request was received."
	case err != nil:
		errs["receivedAt"] = "Write the date as YYYY-MM-DD."
	case received.After(today):
		errs["receivedAt"] = "The date cannot be in the future."
	case received.Before(today.AddDate(-3, 0, 0)):
		errs["receivedAt"] = "That date is more than three years ago; check it."
	}
	if f.Force && f.ForceReason == "" {
		errs["forceReason"] = "Say why open conversations may be closed by force."
	}
	if len(f.ForceReason) > 1000 {
		errs["forceReason"] = "Keep the justification under 1000 characters."
	}
	want, what := u.Email, "the customer's email address"
	if want == "" {
		want, what = u.ID, "the customer's Dixa ID"
	}
	switch {
	case f.Confirm == "":
		errs["confirm"] = "Type " + what + " to confirm."
	case !strings.EqualFold(f.Confirm, strings.TrimSpace(want)):
		errs["confirm"] = "This does not match " + what + "."
	}
	return errs, received
}

// Request serves POST /endusers/{id}/erasure: validates the request and
// records it; with single approval it is submitted at once.
func (h *Erasures) Request(w http.ResponseWriter, r *http.Request) {
	me, ok := h.lead(w, r)
	if !ok || !h.stepUpOK(w, r, me) {
		return
	}
	id, err := erasureSubject(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, "The erasure form could not be read."))
		return
	}
	f := readErasureForm(r)
	ctx := r.Context()
	u, err := h.API.GetEndUser(ctx, id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	now := h.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	errs, received := validateErasure(f, u, today)
	earlier, err := h.Store.ErasuresOf(ctx, id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	for _, e := range earlier {
		if !store.FinalState(e.State) {
			errs["form"] = "There is already an erasure request for this customer in progress."
		}
	}
	if len(errs) > 0 {
		v, _, perr := h.preview(ctx, id)
		if perr != nil {
			respond.Error(w, r, perr)
			return
		}
		v.Form, v.Errors = f, errs
		respond.Page(w, r, http.StatusUnprocessableEntity, "Erase customer data", views.ErasurePreviewPage(v), respond.Section("erasures"))
		return
	}
	convs, _ := conversations(ctx, h.API, id)
	e := store.Erasure{ID: uuid.NewString(), SubjectID: id, State: store.StateRequested, Reference: f.Reference, Reason: f.Reason,
		ReceivedAt: received, Deadline: store.Deadline(received), Force: f.Force, ForceReason: f.ForceReason,
		ConversationCount: len(convs), RequestedByID: me.ID, RequestedByName: me.Name, RequestedAt: now}
	if !f.Force {
		e.ForceReason = ""
	}
	// Keyed hashes only: enough to answer "was this person erased?" and to
	// verify the erasure later, without keeping who they were.
	var digests []string
	for _, kv := range identifiers(u) {
		digests = append(digests, h.Store.IdentifierDigest(kv[0], kv[1]))
	}
	digests = append(digests, h.Store.IdentifierDigest("id", u.ID))
	if u.DisplayName != "" {
		digests = append(digests, h.Store.IdentifierDigest("name", u.DisplayName))
	}
	if err := h.Store.CreateErasure(ctx, e, digests); err != nil {
		respond.Error(w, r, err)
		return
	}
	Record(ctx, h.Store, ActErasureRequested, "erasure", e.ID, store.OutcomeOK, map[string]string{
		"subjectId": id, "reference": e.Reference, "reason": e.Reason, "receivedAt": store.FmtDate(e.ReceivedAt),
		"deadline": store.FmtDate(e.Deadline), "force": strconv.FormatBool(e.Force), "forceReason": e.ForceReason,
		"approval": h.Approval})
	if h.Approval == "single" {
		if err := h.approveAndSubmit(ctx, e, me, "single approval mode"); err != nil {
			respond.Error(w, r, err)
			return
		}
	}
	respond.Redirect(w, r, "/erasures/"+e.ID)
}

// Approve serves POST /erasures/{rid}/approve: a lead other than the
// requester approves; the console then calls Dixa exactly once.
func (h *Erasures) Approve(w http.ResponseWriter, r *http.Request) { h.decide(w, r, true) }

// Reject serves POST /erasures/{rid}/reject.
func (h *Erasures) Reject(w http.ResponseWriter, r *http.Request) { h.decide(w, r, false) }

func (h *Erasures) decide(w http.ResponseWriter, r *http.Request, approve bool) {
	me, ok := h.lead(w, r)
	if !ok || (approve && !h.stepUpOK(w, r, me)) {
		return
	}
	e, err := h.erasure(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if e.RequestedByID == me.ID {
		h.deny(w, r, "requester may not decide their own request",
			"You requested this erasure, so another lead has to approve or reject it.")
		return
	}
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, "The decision form could not be read."))
		return
	}
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	if len(comment) > 1000 {
		// Refused rather than cut: a decision must not record half a comment.
		respond.Error(w, r, respond.Unprocessable("Keep the comment under 1000 characters; nothing was decided."))
		return
	}
	ctx := r.Context()
	if !approve {
		_, err := h.Store.Transition(ctx, e.ID, store.StateRequested, func(x *store.Erasure) error {
			x.State, x.DecidedByID, x.DecidedByName, x.DecidedAt, x.DecisionComment = store.StateRejected, me.ID, me.Name, h.now(), comment
			return nil
		})
		if err != nil {
			h.decisionConflict(w, r, e.ID, me, err)
			return
		}
		Record(ctx, h.Store, ActErasureRejected, "erasure", e.ID, store.OutcomeOK, map[string]string{"subjectId": e.SubjectID, "comment": comment})
		respond.Redirect(w, r, "/erasures/"+e.ID)
		return
	}
	if err := h.approveAndSubmit(ctx, e, me, comment); err != nil {
		if errors.Is(err, store.ErrStateChanged) {
			h.decisionConflict(w, r, e.ID, me, err)
			return
		}
		respond.Error(w, r, err)
		return
	}
	respond.Redirect(w, r, "/erasures/"+e.ID)
}

// decisionConflict answers a decision that lost the race: a repeat by the
// same lead (double click) just shows the status; anyone else learns that
// someone decided first.
func (h *Erasures) decisionConflict(w http.ResponseWriter, r *http.Request, rid string, me reqctx.Identity, err error) {
	if !errors.Is(err, store.ErrStateChanged) {
		respond.Error(w, r, err)
		return
	}
	if cur, gerr := h.Store.GetErasure(r.Context(), rid); gerr == nil && cur.DecidedByID == me.ID {
		respond.Redirect(w, r, "/erasures/"+rid)
		return
	}
	respond.Error(w, r, &respond.Err{Status: http.StatusConflict, Title: "Already decided",
		Message: "Another lead decided on this request first. Open the request to see its current state."})
}

// approveAndSubmit records the approval — the conditional update from
// "requested" that exactly one caller wins — and then, as the winner,
// sends the one anonymize call.
func (h *Erasures) approveAndSubmit(ctx context.Context, e store.Erasure, me reqctx.Identity, comment string) error {
	now := h.now()
	e, err := h.Store.Transition(ctx, e.ID, store.StateRequested, func(x *store.Erasure) error {
		x.State, x.DecidedByID, x.DecidedByName, x.DecidedAt, x.DecisionComment = store.StateApproved, me.ID, me.Name, now, comment
		return nil
	})
	if err != nil {
		return err
	}
	Record(ctx, h.Store, ActErasureApproved, "erasure", e.ID, store.OutcomeOK, map[string]string{
		"subjectId": e.SubjectID, "requestedBy": e.RequestedByID, "comment": comment, "approval": h.Approval})

	// From here the outcome must be recorded even if the person closes the
	// tab: Dixa may act on the call.
	ctx = context.WithoutCancel(ctx)
	req, err := h.API.AnonymizeEndUser(ctx, e.SubjectID, e.Force)
	switch {
	case err == nil:
		_, terr := h.Store.Transition(ctx, e.ID, store.StateApproved, func(x *store.Erasure) error {
			x.State, x.DixaRequestID, x.SubmittedAt = store.StateSubmitted, req.ID, h.now()
			if !req.InitiatedAt.IsZero() {
				x.SubmittedAt = req.InitiatedAt.Time
			}
			x.NextPollAt = h.now().Add(time.Second)
			return nil
		})
		Record(ctx, h.Store, ActErasureSubmitted, "erasure", e.ID, store.OutcomeOK, map[string]string{
			"subjectId": e.SubjectID, "dixaRequestId": req.ID, "force": strconv.FormatBool(e.Force), "status": "202"})
		return terr
	case errors.Is(err, apiclient.ErrConflict):
		// Open conversations: list them; never retry with force on our own.
		convs, _ := conversations(ctx, h.API, e.SubjectID)
		var open []int64
		for _, c := range convs {
			if c.IsOpen() {
				open = append(open, c.ID)
			}
		}
		_, terr := h.Store.Transition(ctx, e.ID, store.StateApproved, func(x *store.Erasure) error {
			x.State, x.BlockedConversations = store.StateBlocked, open
			x.Failure = "Dixa refused (409) because the customer has conversations that are not closed."
			return nil
		})
		Record(ctx, h.Store, ActErasureBlocked, "erasure", e.ID, store.OutcomeBlocked, map[string]string{
			"subjectId": e.SubjectID, "status": "409", "openConversations": joinInts(open), "force": strconv.FormatBool(e.Force)})
		return terr
	case errors.Is(err, apiclient.ErrRateLimited), errors.Is(err, apiclient.ErrBreakerOpen):
		// Not sent: back to "requested" so that it can be approved again.
		h.Store.Transition(ctx, e.ID, store.StateApproved, func(x *store.Erasure) error {
			x.State, x.DecidedByID, x.DecidedByName, x.DecidedAt, x.DecisionComment = store.StateRequested, "", "", time.Time{}, ""
			return nil
		})
		Record(ctx, h.Store, ActErasureFailed, "erasure", e.ID, "not_sent", map[string]string{
			"subjectId": e.SubjectID, "error": respond.Classify(err).Title, "next": "approve again"})
		return err
	default:
		c := respond.Classify(err)
		msg := "Dixa did not accept the request (" + c.Title + ")."
		outcome := store.OutcomeFailed
		if errors.Is(err, apiclient.ErrOutcomeUnknown) {
			msg = "Dixa did not confirm the request in time: it may or may not have been queued. Check the customer in Dixa before requesting again."
			outcome = "unknown"
		}
		_, terr := h.Store.Transition(ctx, e.ID, store.StateApproved, func(x *store.Erasure) error {
			x.State, x.Failure = store.StateFailed, msg
			return nil
		})
		Record(ctx, h.Store, ActErasureFailed, "erasure", e.ID, outcome, map[string]string{
			"subjectId": e.SubjectID, "status": strconv.Itoa(c.Status), "error": c.Title})
		return terr
	}
}

func joinInts(ns []int64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ",")
}

// List serves GET /erasures: every request with state, age and deadline.
func (h *Erasures) List(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.lead(w, r); !ok {
		return
	}
	all, err := h.Store.ListErasures(r.Context())
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	v := views.ErasureList{}
	for _, e := range all {
		ev := h.erasureView(e)
		if ev.Overdue {
			v.Overdue++
		}
		v.Rows = append(v.Rows, ev)
	}
	respond.Page(w, r, http.StatusOK, "Erasures", views.ErasureListPage(v), respond.Section("erasures"))
}

// erasureView is the view of one erasure.
func (h *Erasures) erasureView(e store.Erasure) views.Erasure {
	now := h.now()
	return views.Erasure{ID: e.ID, SubjectID: e.SubjectID, State: e.State, Final: store.FinalState(e.State),
		Reference: e.Reference, Reason: e.Reason, ReceivedAt: e.ReceivedAt, Deadline: e.Deadline,
		Overdue: e.Overdue(now), DaysLeft: int(e.Deadline.Sub(now.Truncate(24*time.Hour)).Hours() / 24),
		AgeDays: int(now.Sub(e.RequestedAt).Hours() / 24), Force: e.Force, ForceReason: e.ForceReason,
		ConversationCount: e.ConversationCount,
		RequestedBy:       auditActorLabel(e.RequestedByID, e.RequestedByName), RequestedByID: e.RequestedByID, RequestedAt: e.RequestedAt,
		DecidedBy: auditActorLabel(e.DecidedByID, e.DecidedByName), DecidedAt: e.DecidedAt, DecisionComment: e.DecisionComment,
		SubmittedAt: e.SubmittedAt, DixaRequestID: e.DixaRequestID, ProcessedAt: e.ProcessedAt, VerifiedAt: e.VerifiedAt,
		Blocked: e.BlockedConversations, Failure: e.Failure, Extended: !e.ExtendedAt.IsZero(), ExtensionReason: e.ExtensionReason,
		LastCheckedAt: e.LastCheckedAt}
}

// Show serves GET /erasures/{rid}: the status page. With ?panel=status and
// HX-Request it answers only the status panel, which htmx polls every few
// seconds while the state is not final; each such look may advance the
// tracking (at most one Dixa call per few seconds per request).
func (h *Erasures) Show(w http.ResponseWriter, r *http.Request) {
	me, ok := h.lead(w, r)
	if !ok {
		return
	}
	e, err := h.erasure(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if h.Tracker != nil && (e.State == store.StateSubmitted || e.State == store.StateProcessed) {
		if ne, err := h.Tracker.CheckIfStale(r.Context(), e); err == nil {
			e = ne
		}
	}
	v := views.ErasureDetail{E: h.erasureView(e)}
	v.CanDecide = e.State == store.StateRequested && e.RequestedByID != me.ID
	v.IsRequester = e.RequestedByID == me.ID
	v.CanExtend = e.ExtendedAt.IsZero() && e.State != store.StateVerified && e.State != store.StateRejected
	if r.URL.Query().Get("panel") == "status" && respond.IsFragment(r) {
		respond.Fragment(w, r, http.StatusOK, views.ErasureStatusPanel(v))
		return
	}
	trail, err := h.Store.ListAudit(r.Context(), store.AuditFilter{TargetType: "erasure", TargetID: e.ID, Ascending: true, Limit: 200})
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	for _, a := range trail {
		v.Trail = append(v.Trail, auditRow(a))
	}
	respond.Page(w, r, http.StatusOK, "Erasure request", views.ErasureDetailPage(v), respond.Section("erasures"))
}

// Extend serves POST /erasures/{rid}/extend: the one allowed extension of
// the deadline (GDPR Art. 12(3): by two further months), with a reason.
func (h *Erasures) Extend(w http.ResponseWriter, r *http.Request) {
	me, ok := h.lead(w, r)
	if !ok {
		return
	}
	e, err := h.erasure(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, "The form could not be read."))
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" || len(reason) > 1000 {
		respond.Error(w, r, respond.Unprocessable("Give the reason for extending the deadline (at most 1000 characters)."))
		return
	}
	if !e.ExtendedAt.IsZero() {
		respond.Error(w, r, &respond.Err{Status: http.StatusConflict, Title: "Already extended", Message: "The deadline of this request has already been extended once."})
		return
	}
	old := e.Deadline
	ne, err := h.Store.Transition(r.Context(), e.ID, e.State, func(x *store.Erasure) error {
		if !x.ExtendedAt.IsZero() {
			return store.ErrStateChanged
		}
		x.Deadline = x.Deadline.AddDate(0, 2, 0)
		x.ExtendedAt, x.ExtendedByID, x.ExtensionReason = h.now(), me.ID, reason
		return nil
	})
	if err != nil {
		if errors.Is(err, store.ErrStateChanged) {
			err = &respond.Err{Status: http.StatusConflict, Title: "Changed meanwhile", Message: "The request changed while you were extending it. Open it again."}
		}
		respond.Error(w, r, err)
		return
	}
	Record(r.Context(), h.Store, ActErasureExtended, "erasure", e.ID, store.OutcomeOK, map[string]string{
		"from": store.FmtDate(old), "to": store.FmtDate(ne.Deadline), "reason": reason})
	respond.Redirect(w, r, "/erasures/"+e.ID)
}

// Receipt is the erasure receipt (interface.md §6): who asked, who
// approved, why, and when each step happened — no personal data of the
// erased customer.
type Receipt struct {
	ErasureID     string        `json:"erasureId"`
	DixaRequestID string        `json:"dixaRequestId"`
	SubjectID     string        `json:"subjectId"`
	RequestedBy   ReceiptActor  `json:"requestedBy"`
	ApprovedBy    *ReceiptActor `json:"approvedBy"`
	Reference     string        `json:"reference"`
	Reason        string        `json:"reason"`
	ReceivedAt    string        `json:"receivedAt"`
	Deadline      string        `json:"deadline"`
	SubmittedAt   *time.Time    `json:"submittedAt"`
	ProcessedAt   *time.Time    `json:"processedAt"`
	VerifiedAt    *time.Time    `json:"verifiedAt"`
	Force         bool          `json:"force"`
	State         string        `json:"state"`
	AuditHash     string        `json:"auditHash"`
}

// ReceiptActor is a person on a receipt.
type ReceiptActor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *Erasures) receipt(ctx context.Context, e store.Erasure) (Receipt, error) {
	rc := Receipt{ErasureID: e.ID, DixaRequestID: e.DixaRequestID, SubjectID: e.SubjectID,
		RequestedBy: ReceiptActor{ID: e.RequestedByID, Name: e.RequestedByName},
		Reference:   e.Reference, Reason: e.Reason, ReceivedAt: store.FmtDate(e.ReceivedAt), Deadline: store.FmtDate(e.Deadline),
		SubmittedAt: timePtr(e.SubmittedAt), ProcessedAt: timePtr(e.ProcessedAt), VerifiedAt: timePtr(e.VerifiedAt),
		Force: e.Force, State: e.State}
	if e.State != store.StateRequested && e.State != store.StateRejected && e.DecidedByID != "" {
		rc.ApprovedBy = &ReceiptActor{ID: e.DecidedByID, Name: e.DecidedByName}
	}
	last, err := h.Store.LatestAudit(ctx, "erasure", e.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return rc, err
	}
	rc.AuditHash = last.Hash
	return rc, nil
}

// loadReceipt reads the erasure of the request and its receipt for a lead;
// on failure it has answered and returns false.
func (h *Erasures) loadReceipt(w http.ResponseWriter, r *http.Request) (store.Erasure, Receipt, bool) {
	if _, ok := h.lead(w, r); !ok {
		return store.Erasure{}, Receipt{}, false
	}
	e, err := h.erasure(r)
	if err != nil {
		respond.Error(w, r, err)
		return store.Erasure{}, Receipt{}, false
	}
	rc, err := h.receipt(r.Context(), e)
	if err != nil {
		respond.Error(w, r, err)
		return store.Erasure{}, Receipt{}, false
	}
	return e, rc, true
}

// ReceiptJSON serves GET /erasures/{rid}/receipt.json.
func (h *Erasures) ReceiptJSON(w http.ResponseWriter, r *http.Request) {
	e, rc, ok := h.loadReceipt(w, r)
	if !ok {
		return
	}
	b, err := json.MarshalIndent(rc, "", "  ")
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="erasure-`+e.ID+`.json"`)
	w.Write(append(b, '\n'))
}

// ReceiptPage serves GET /erasures/{rid}/receipt: the printable receipt.
func (h *Erasures) ReceiptPage(w http.ResponseWriter, r *http.Request) {
	e, rc, ok := h.loadReceipt(w, r)
	if !ok {
		return
	}
	v := views.ErasureReceipt{E: h.erasureView(e), AuditHash: rc.AuditHash, Printed: h.now()}
	respond.Page(w, r, http.StatusOK, "Erasure receipt", views.ErasureReceiptPage(v), respond.Section("erasures"))
}
