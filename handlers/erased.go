package handlers

import (
	"context"
	"net/http"

	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
)

// ErasureMarks answers whether the console erased a customer, by their
// Dixa id or by one of their identifiers (through the keyed hashes kept
// with the requests); *erasure.Service implements it. It reads only the
// console's database.
type ErasureMarks interface {
	SubjectErased(ctx context.Context, subjectID string) (erasure.Mark, bool, error)
	IdentifierErased(ctx context.Context, kind, value string) (erasure.Mark, bool, error)
}

// erasedNote is the view of a mark; what names the identifier ("with this
// email") or is "" for the customer themselves.
func erasedNote(m erasure.Mark, what string) *views.ErasedNote {
	n := &views.ErasedNote{ErasureID: m.ErasureID, Reference: m.Reference, At: m.At, Done: m.Done()}
	subject := "This customer"
	if what != "" {
		subject = "A customer " + what
	}
	day := m.At.UTC().Format("2 Jan 2006")
	switch {
	case m.Done():
		n.Text = subject + " was erased on " + day + " (request " + m.Reference + ")."
	case m.State == erasure.Submitted:
		n.Text = subject + " is being erased: the request " + m.Reference + " was sent to Dixa on " + day + "."
	default:
		n.Text = subject + " is being erased: the request " + m.Reference + " was approved on " + day + "."
	}
	return n
}

// subjectErased is the note about the customer with Dixa id id when the
// console erased them or is erasing them; nil otherwise, and nil when the
// database cannot say (logged: the page is still shown).
func subjectErased(r *http.Request, marks ErasureMarks, id string) *views.ErasedNote {
	if marks == nil {
		return nil
	}
	m, ok, err := marks.SubjectErased(r.Context(), id)
	if err != nil {
		reqctx.Logger(r.Context()).Warn("erasure marks unavailable", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return erasedNote(m, "")
}

// identifierErased is the note about an identifier of an erased person
// (kind erasure.IdentEmail, IdentPhone or IdentExternalID); nil otherwise.
func identifierErased(r *http.Request, marks ErasureMarks, kind, value string) *views.ErasedNote {
	if marks == nil || value == "" {
		return nil
	}
	m, ok, err := marks.IdentifierErased(r.Context(), kind, value)
	if err != nil {
		reqctx.Logger(r.Context()).Warn("erasure marks unavailable", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return erasedNote(m, "with this "+erasure.IdentLabel(kind))
}

// refuseErased answers 409 for a change to an erased customer (or one
// being erased) and returns true; false when the customer may be changed.
func refuseErased(w http.ResponseWriter, r *http.Request, marks ErasureMarks, id string) bool {
	n := subjectErased(r, marks, id)
	if n == nil {
		return false
	}
	respond.Error(w, r, &respond.Err{Status: http.StatusConflict, Title: "Customer erased",
		Message: n.Text + " Their profile can no longer be changed in the console."})
	return true
}
