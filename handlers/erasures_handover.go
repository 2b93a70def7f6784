package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// HandoverForm serves GET /endusers/{id}/erasure/handover: the short form
// an agent who received a GDPR request fills in to hand it to the leads.
func (h *Erasures) HandoverForm(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Agent) {
		return
	}
	id, err := erasureSubject(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if refuseErased(w, r, h.Svc, id) {
		return
	}
	u, err := h.Svc.Dixa.GetEndUser(r.Context(), id)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	v := h.handoverView(id)
	v.Name = customer.Name(u)
	respond.Page(w, r, http.StatusOK, "Hand a GDPR request to the leads", views.HandoverPage(v), respond.Section("endusers"))
}

// handoverView is an empty hand-over form for customer id, received today.
func (h *Erasures) handoverView(id string) views.Handover {
	today := h.Svc.Clock().Format("2006-01-02")
	return views.Handover{SubjectID: id, Today: today, Form: views.HandoverFields{ReceivedAt: today}}
}

// Handover serves POST /endusers/{id}/erasure/handover: the request is
// stored as a draft for the leads (audited), and the agent goes back to
// the profile. Agents cannot approve or send anything; a form with
// mistakes comes back with them (422).
func (h *Erasures) Handover(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Agent) {
		return
	}
	id, err := erasureSubject(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		respond.Error(w, r, respond.FormError(err, "The form could not be read."))
		return
	}
	if refuseErased(w, r, h.Svc, id) {
		return
	}
	f := erasure.HandoverForm{Reference: strings.TrimSpace(r.PostFormValue("reference")),
		ReceivedAt: strings.TrimSpace(r.PostFormValue("receivedAt")), Note: strings.TrimSpace(r.PostFormValue("note"))}
	who, _ := reqctx.IdentityFrom(r.Context())
	_, err = h.Svc.Handover(r.Context(), erasure.Actor{ID: who.ID, Name: who.Name}, id, f)
	var mistakes erasure.FormErrors
	if errors.As(err, &mistakes) {
		v := h.handoverView(id)
		v.Form, v.Errors = views.HandoverFields(f), mistakes
		respond.Page(w, r, http.StatusUnprocessableEntity, "Hand a GDPR request to the leads", views.HandoverPage(v), respond.Section("endusers"))
		return
	}
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	respond.Redirect(w, r, "/endusers/"+id+"?saved=handover")
}

// HandoverInstead answers an agent who opens a customer's erasure page:
// 403, as the page is the leads', with the hand-over form in its place.
// It makes no call to Dixa.
func (h *Erasures) HandoverInstead(w http.ResponseWriter, r *http.Request) {
	id, err := erasureSubject(r)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	v := h.handoverView(id)
	v.Refused = true
	respond.Page(w, r, http.StatusForbidden, "Erasure needs the lead role", views.HandoverPage(v), respond.Section("endusers"))
}
