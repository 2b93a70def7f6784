package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/example/dixa-console/web/audit"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// Erasures serves the GDPR erasure pages (leads only): preview and request,
// four-eyes approval, status, receipts. The workflow itself is the
// erasure.Service.
type Erasures struct {
	Svc *erasure.Service
	// Audit writes the erasure.denied entries of refused requests.
	Audit AuditLogger
	// Trail reads a request's history for its status page.
	Trail audit.Lister
	// SignInAgain is true when the console's own sign-in page can renew the
	// sign-in (dev, oidc); the step-up refusal then links to it.
	SignInAgain bool
}

// ActErasureDenied is the audit action of a refused erasure route.
const ActErasureDenied = erasure.ActDenied

// ErasureTarget names the target of an erasure route for the audit log:
// the erasure when the path has one, else the end user (at most 64
// characters of the path value).
func ErasureTarget(r *http.Request) (string, string) {
	tt, tid := "enduser", r.PathValue("id")
	if rid := r.PathValue("rid"); rid != "" {
		tt, tid = "erasure", rid
	}
	if len(tid) > 64 {
		tid = tid[:64]
	}
	return tt, tid
}

// deny refuses (403) and writes one erasure.denied entry.
func (h *Erasures) deny(w http.ResponseWriter, r *http.Request, why, msg string) {
	tt, tid := ErasureTarget(r)
	Record(r.Context(), h.Audit, ActErasureDenied, tt, tid, audit.OutcomeDenied, map[string]string{
		"reason": why, "route": r.Method + " " + routePattern(r)})
	respond.Error(w, r, respond.Forbidden(msg))
}

// lead returns the signed-in lead as the workflow's actor, or refuses the
// request.
func (h *Erasures) lead(w http.ResponseWriter, r *http.Request) (reqctx.Identity, erasure.Actor, bool) {
	id, ok := reqctx.IdentityFrom(r.Context())
	if !ok || !id.Allows(role.Lead) {
		h.deny(w, r, "role "+string(id.Role)+" is not lead", "Erasure needs the lead role.")
		return id, erasure.Actor{}, false
	}
	return id, erasure.Actor{ID: id.ID, Name: id.Name}, true
}

// stepUpOK reports whether me signed in recently enough to request or
// approve an erasure. If not, it answers 403 with a way to sign in again,
// writes one erasure.denied entry (reason stale_authentication) and
// returns false; nothing reaches Dixa.
func (h *Erasures) stepUpOK(w http.ResponseWriter, r *http.Request, me reqctx.Identity) bool {
	ok, age, window := h.Svc.StepUpFresh(me.AuthTime)
	if ok {
		return true
	}
	ctx := r.Context()
	tt, tid := ErasureTarget(r)
	Record(ctx, h.Audit, ActErasureDenied, tt, tid, audit.OutcomeDenied, map[string]string{
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
		page = templ.Join(page, views.SignInAgainLink(views.WithQuery(views.Path(ctx, "/login"), "next", next)))
	}
	w.Header().Set("Cache-Control", "no-store")
	respond.Page(w, r, http.StatusForbidden, v.Title, page, respond.Section("erasures"))
	return false
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

// erasureSubject is the end user id of the path, lower-cased; anything but
// a UUID is not found.
func erasureSubject(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if u, err := uuid.Parse(id); err != nil || u.String() != strings.ToLower(id) {
		return "", respond.NotFound("There is no customer with that ID.")
	}
	return strings.ToLower(id), nil
}

// erasureID is the request id of the path; anything but a UUID is not
// found.
func erasureID(r *http.Request) (string, error) {
	rid := r.PathValue("rid")
	if _, err := uuid.Parse(rid); err != nil {
		return "", respond.NotFound("There is no erasure request with that ID.")
	}
	return rid, nil
}

// erasureError gives the workflow's conflicts the titles people know.
func erasureError(err error) error {
	for sentinel, title := range map[error]string{
		erasure.ErrDecided: "Already decided", erasure.ErrExtended: "Already extended", erasure.ErrStateChanged: "Changed meanwhile",
	} {
		if errors.Is(err, sentinel) {
			msg := apperr.Message(err, "The request changed meanwhile. Open it again to see its current state.")
			return &respond.Err{Status: http.StatusConflict, Title: title, Message: msg, Cause: err}
		}
	}
	return err
}

// Preview serves GET /endusers/{id}/erasure.
func (h *Erasures) Preview(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := h.lead(w, r); !ok {
		return
	}
	id, err := erasureSubject(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	p, err := h.Svc.Preview(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	v := h.previewView(p)
	v.Form.ReceivedAt = v.Today
	respond.Page(w, r, http.StatusOK, "Erase customer data", views.ErasurePreviewPage(v), respond.Section("erasures"))
}

// previewView is the page of a preview: profile, conversations (open ones
// flagged), duplicates, earlier requests.
func (h *Erasures) previewView(p erasure.Preview) views.ErasurePreview {
	u := p.User
	v := views.ErasurePreview{SubjectID: u.ID, Name: u.DisplayName, Email: u.Email, Phone: u.PhoneNumber, ExternalID: u.ExternalID,
		AdditionalEmails: u.AdditionalEmails, AdditionalPhones: u.AdditionalPhoneNumbers, OpenCount: p.OpenCount(),
		Approval: string(h.Svc.Approval), Today: h.Svc.Clock().Format("2006-01-02"), ConfirmWith: "email", ActiveID: p.ActiveID}
	if u.Email == "" {
		v.ConfirmWith = "id"
	}
	if p.ConversationsIncomplete {
		v.ConversationsProblem = "Not every conversation could be read; the list below is incomplete."
	}
	for _, c := range p.Conversations {
		row := views.ErasureConversation{ID: c.ID, Channel: c.Channel, State: c.State, Kind: c.Type, Created: c.CreatedAt.Time, Open: c.IsOpen()}
		if c.Type == apiclient.ConvAnonymized {
			row.State = "Anonymized"
		}
		v.Conversations = append(v.Conversations, row)
	}
	for _, d := range p.Duplicates {
		v.Duplicates = append(v.Duplicates, views.ErasureDuplicate{ID: d.User.ID, Name: d.User.DisplayName, Email: d.User.Email,
			Phone: d.User.PhoneNumber, ExternalID: d.User.ExternalID, Shared: d.Shared})
	}
	switch {
	case p.DuplicatesErr != nil:
		v.DuplicatesProblem = "The duplicate check could not be completed (" + respond.Classify(p.DuplicatesErr).Title + "). Check for duplicates by hand before requesting."
	case p.DuplicatesLimited:
		v.DuplicatesProblem = erasure.LimitedText()
	}
	for _, e := range p.Earlier {
		v.Earlier = append(v.Earlier, h.erasureView(e))
	}
	return v
}

func readErasureForm(r *http.Request) erasure.Form {
	return erasure.Form{
		Reference:   strings.TrimSpace(r.PostFormValue("reference")),
		Reason:      strings.TrimSpace(r.PostFormValue("reason")),
		ReceivedAt:  strings.TrimSpace(r.PostFormValue("receivedAt")),
		Force:       r.PostFormValue("force") != "",
		ForceReason: strings.TrimSpace(r.PostFormValue("forceReason")),
		Confirm:     strings.TrimSpace(r.PostFormValue("confirm")),
	}
}

// Request serves POST /endusers/{id}/erasure: the request is recorded (and
// with single approval submitted at once); a form with mistakes is shown
// again with them (422).
func (h *Erasures) Request(w http.ResponseWriter, r *http.Request) {
	id, me, ok := h.lead(w, r)
	if !ok || !h.stepUpOK(w, r, id) {
		return
	}
	subject, err := erasureSubject(r)
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
	e, err := h.Svc.Request(ctx, me, subject, f)
	var mistakes erasure.FormErrors
	if errors.As(err, &mistakes) {
		p, perr := h.Svc.Preview(ctx, subject)
		if perr != nil {
			respond.Error(w, r, perr)
			return
		}
		v := h.previewView(p)
		v.Form, v.Errors = views.ErasureForm(f), mistakes
		respond.Page(w, r, http.StatusUnprocessableEntity, "Erase customer data", views.ErasurePreviewPage(v), respond.Section("erasures"))
		return
	}
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	respond.Redirect(w, r, "/erasures/"+e.ID)
}

// Approve serves POST /erasures/{rid}/approve: a lead other than the
// requester approves; the console then calls Dixa exactly once.
func (h *Erasures) Approve(w http.ResponseWriter, r *http.Request) { h.decide(w, r, true) }

// Reject serves POST /erasures/{rid}/reject.
func (h *Erasures) Reject(w http.ResponseWriter, r *http.Request) { h.decide(w, r, false) }

func (h *Erasures) decide(w http.ResponseWriter, r *http.Request, approve bool) {
	id, me, ok := h.lead(w, r)
	if !ok || (approve && !h.stepUpOK(w, r, id)) {
		return
	}
	rid, err := erasureID(r)
	if err == nil {
		_, err = h.Svc.Get(r.Context(), rid)
	}
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, "The decision form could not be read."))
		return
	}
	comment := r.PostFormValue("comment")
	if approve {
		_, err = h.Svc.Approve(r.Context(), rid, me, comment)
	} else {
		err = h.Svc.Reject(r.Context(), rid, me, comment)
	}
	if errors.Is(err, erasure.ErrOwnRequest) {
		h.deny(w, r, "requester may not decide their own request", apperr.Message(err, ""))
		return
	}
	if err != nil {
		respond.Error(w, r, erasureError(err))
		return
	}
	respond.Redirect(w, r, "/erasures/"+rid)
}

// List serves GET /erasures: every request with state, age and deadline.
func (h *Erasures) List(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := h.lead(w, r); !ok {
		return
	}
	all, err := h.Svc.List(r.Context())
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
func (h *Erasures) erasureView(e erasure.Erasure) views.Erasure {
	now := h.Svc.Clock()
	return views.Erasure{ID: e.ID, SubjectID: e.SubjectID, State: e.State, Final: e.State.Final(),
		Reference: e.Reference, Reason: e.Reason, ReceivedAt: e.ReceivedAt, Deadline: e.Deadline,
		Overdue: e.Overdue(now), DaysLeft: int(e.Deadline.Sub(now.Truncate(24*time.Hour)).Hours() / 24),
		AgeDays: int(now.Sub(e.RequestedAt).Hours() / 24), Force: e.Force, ForceReason: e.ForceReason,
		ConversationCount: e.ConversationCount,
		RequestedBy:       auditActorLabel(e.RequestedByID, e.RequestedByName), RequestedByID: e.RequestedByID, RequestedAt: e.RequestedAt,
		DecidedBy: auditActorLabel(e.DecidedByID, e.DecidedByName), DecidedAt: e.DecidedAt, DecisionComment: e.DecisionComment,
		SubmittedAt: e.SubmittedAt, DixaRequestID: e.DixaRequestID, ProcessedAt: e.ProcessedAt, VerifiedAt: e.VerifiedAt,
		Blocked: e.BlockedConversations, Failure: e.Failure, MaybeSent: e.MaybeSent, Extended: !e.ExtendedAt.IsZero(),
		ExtensionReason: e.ExtensionReason, LastCheckedAt: e.LastCheckedAt}
}

// Show serves GET /erasures/{rid}: the status page. With ?panel=status and
// HX-Request it answers only the status panel, which htmx polls every few
// seconds while the state is not final; each such look may advance the
// tracking (at most one Dixa call per few seconds per request).
func (h *Erasures) Show(w http.ResponseWriter, r *http.Request) {
	_, me, ok := h.lead(w, r)
	if !ok {
		return
	}
	rid, err := erasureID(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	e, err := h.Svc.Status(r.Context(), rid)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	v := views.ErasureDetail{E: h.erasureView(e), CanDecide: erasure.CanDecide(e, me), IsRequester: erasure.IsRequester(e, me)}
	v.CanExtend = e.ExtendedAt.IsZero() && e.State != erasure.Verified && e.State != erasure.Rejected
	if r.URL.Query().Get("panel") == "status" && respond.IsFragment(r) {
		respond.Fragment(w, r, http.StatusOK, views.ErasureStatusPanel(v))
		return
	}
	trail, err := h.Trail.ListAudit(r.Context(), audit.Filter{TargetType: "erasure", TargetID: e.ID, Ascending: true, Limit: 200})
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
	_, me, ok := h.lead(w, r)
	if !ok {
		return
	}
	rid, err := erasureID(r)
	if err == nil {
		_, err = h.Svc.Get(r.Context(), rid)
	}
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, "The form could not be read."))
		return
	}
	if _, err := h.Svc.Extend(r.Context(), rid, me, r.PostFormValue("reason")); err != nil {
		respond.Error(w, r, erasureError(err))
		return
	}
	respond.Redirect(w, r, "/erasures/"+rid)
}

// loadReceipt reads the erasure of the request and its receipt for a lead;
// on failure it has answered and returns false.
func (h *Erasures) loadReceipt(w http.ResponseWriter, r *http.Request) (erasure.Erasure, erasure.Receipt, bool) {
	if _, _, ok := h.lead(w, r); !ok {
		return erasure.Erasure{}, erasure.Receipt{}, false
	}
	rid, err := erasureID(r)
	if err != nil {
		respond.Error(w, r, err)
		return erasure.Erasure{}, erasure.Receipt{}, false
	}
	e, rc, err := h.Svc.Receipt(r.Context(), rid)
	if err != nil {
		respond.Error(w, r, err)
		return e, rc, false
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
	v := views.ErasureReceipt{E: h.erasureView(e), AuditHash: rc.AuditHash, Printed: h.Svc.Clock()}
	respond.Page(w, r, http.StatusOK, "Erasure receipt", views.ErasureReceiptPage(v), respond.Section("erasures"))
}

// routePattern is the route a request matched, else its path.
func routePattern(r *http.Request) string { return reqctx.RoutePattern(r) }

// DenialAudited reports whether a middleware before the role check has
// already written the audit entry for refusing this request.
func DenialAudited(ctx context.Context) bool { return reqctx.DenialAudited(ctx) }

// plural writes a count with its noun: "1 row", "2 rows".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
