package dixasim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/google/uuid"
)

// userInput is the body of create, update and patch, one-user or bulk.
// Pointers tell an absent field from an empty one. JSON null reads as
// absent: whether null clears a field in Dixa is UNCONFIRMED, and no field
// is nullable in the spec; send "" or [] to clear one.
type userInput struct {
	ID                     *string   `json:"id"`
	DisplayName            *string   `json:"displayName"`
	Email                  *string   `json:"email"`
	PhoneNumber            *string   `json:"phoneNumber"`
	AdditionalEmails       *[]string `json:"additionalEmails"`
	AdditionalPhoneNumbers *[]string `json:"additionalPhoneNumbers"`
	FirstName              *string   `json:"firstName"`
	LastName               *string   `json:"lastName"`
	MiddleNames            *[]string `json:"middleNames"`
	AvatarURL              *string   `json:"avatarUrl"`
	ExternalID             *string   `json:"externalId"`
}

// isEmpty reports whether no field but id is set: an empty patch.
func (in *userInput) isEmpty() bool {
	c := *in
	c.ID = nil
	return c == userInput{}
}

// apply sets f's fields from in. PUT and create replace (replace=true):
// absent fields end up empty — Dixa's PUT is a full update, though whether
// it clears omitted fields is UNCONFIRMED. PATCH merges (replace=false):
// absent fields are kept.
func (in *userInput) apply(f *wireEndUser, replace bool) {
	if replace {
		*f = wireEndUser{ID: f.ID, CreatedAt: f.CreatedAt}
	}
	setS := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setL := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = cloneStrings(*src)
		}
	}
	setS(&f.DisplayName, in.DisplayName)
	setS(&f.Email, in.Email)
	setS(&f.PhoneNumber, in.PhoneNumber)
	setL(&f.AdditionalEmails, in.AdditionalEmails)
	setL(&f.AdditionalPhoneNumbers, in.AdditionalPhoneNumbers)
	setS(&f.FirstName, in.FirstName)
	setS(&f.LastName, in.LastName)
	setL(&f.MiddleNames, in.MiddleNames)
	setS(&f.AvatarURL, in.AvatarURL)
	setS(&f.ExternalID, in.ExternalID)
}

// bulkInput is the body of the bulk endpoints.
type bulkInput struct {
	Data *[]userInput `json:"data"`
}

var errDecoding = errors.New(msgDecoding)

// decodeBody reads the JSON body into v. An empty body, `null`, malformed
// JSON or a wrongly typed field all give "Decoding failure in request".
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return errDecoding
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return errDecoding
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errDecoding
	}
	return nil
}

// isUUID accepts the canonical 36-character form only.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// pathID reads a uuid path parameter, answering 400 "Invalid value for:
// path parameter <name>" when it is not one.
func pathID(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	id := r.PathValue(name)
	if !isUUID(id) {
		writeError(w, http.StatusBadRequest, "Invalid value for: path parameter "+name)
		return "", false
	}
	return strings.ToLower(id), true
}

// version is the request's version prefix ("v1" or "beta"), for links.
func version(r *http.Request) string {
	v, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return v
}

// listCursor reads pageKey and pageLimit. A pageKey must come from the same
// list (scope). pageLimit may change the page size between pages, as the
// spec allows; values above MaxPageSize are lowered to it, or refused with
// 400 when refuseAboveMax is set (Dixa's maximum and its behaviour are
// UNCONFIRMED: the simulator shows both).
func (s *Sim) listCursor(r *http.Request, scope string, refuseAboveMax bool) (cur cursor, fromKey bool, msg string) {
	q := r.URL.Query()
	limit := 0
	if q.Has("pageLimit") {
		n, err := strconv.ParseInt(q.Get("pageLimit"), 10, 32)
		if err != nil || n <= 0 || refuseAboveMax && n > int64(s.opts.MaxPageSize) {
			return cursor{}, false, "Invalid value for: query parameter pageLimit"
		}
		limit = min(int(n), s.opts.MaxPageSize)
	}
	if q.Has("pageKey") {
		c, err := s.pages.decode(q.Get("pageKey"))
		if err != nil || c.Scope != scope {
			return cursor{}, false, "Invalid value for: query parameter pageKey"
		}
		if limit > 0 {
			c.Limit = limit
		}
		return c, true, ""
	}
	if limit == 0 {
		limit = s.opts.DefaultPageSize
	}
	return cursor{Scope: scope, Limit: limit}, false, ""
}

// links builds meta for a page; meta is always present, `{}` on a lone page.
func (s *Sim) links(path string, cur cursor, prev, next *position) *meta {
	m := &meta{}
	if prev != nil {
		c := cur
		c.After, c.Before = nil, prev
		m.Previous = s.pages.link(path, c)
	}
	if next != nil {
		c := cur
		c.After, c.Before = next, nil
		m.Next = s.pages.link(path, c)
	}
	return m
}

// match reports whether u passes the filter (an empty filter passes all).
// Email matches the primary and the additional emails, without case; phone
// matches the primary and additional numbers exactly ("+" must arrive as
// %2B); externalId matches exactly. Whether Dixa's filters look at the
// additional contact points, and whether they ignore case, is UNCONFIRMED:
// matching more is what a console searching for a customer wants, and a
// client must cope with a list of more than one anyway.
func (f filter) match(u *user) bool {
	switch {
	case f.Email != "":
		return strings.EqualFold(u.Email, f.Email) ||
			slices.ContainsFunc(u.AdditionalEmails, func(e string) bool { return strings.EqualFold(e, f.Email) })
	case f.Phone != "":
		return u.PhoneNumber == f.Phone || slices.Contains(u.AdditionalPhoneNumbers, f.Phone)
	case f.ExternalID != "":
		return u.ExternalID == f.ExternalID
	}
	return true
}

// listEndUsers serves GET /{v}/endusers: the end users in createdAt order,
// one page at a time, optionally filtered by exactly one of email, phone or
// externalId. A filter that matches nothing gives 200 with an empty list
// (404 is UNCONFIRMED). Custom attributes are not included, as in Dixa.
func (s *Sim) listEndUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := filter{Email: q.Get("email"), Phone: q.Get("phone"), ExternalID: q.Get("externalId")}
	n := 0
	for _, v := range []string{f.Email, f.Phone, f.ExternalID} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		writeError(w, http.StatusBadRequest, msgTwoFilters)
		return
	}
	cur, fromKey, msg := s.listCursor(r, "endusers", false)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	switch {
	case !fromKey:
		cur.Filter = f
	case n > 0 && f != cur.Filter:
		// The key carries the filter; repeating it is fine, changing it
		// is not.
		writeError(w, http.StatusBadRequest, "Invalid value for: query parameter pageKey")
		return
	}
	s.mu.RLock()
	page, prev, next := pageOf(s.st.order, (*user).pos, cur.Filter.match, cur)
	data := make([]wireEndUser, len(page))
	for i, u := range page {
		data[i] = u.wireEndUser.clone()
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, envelope{Data: data, Meta: s.links("/"+version(r)+"/endusers", cur, prev, next)})
}

// joinCodes renders validation codes for a message.
func joinCodes(codes []string) string { return strings.Join(codes, ",") }

// create stores a new user with fields f and the given id.
func (st *store) create(id string, f wireEndUser, now time.Time) *user {
	f.ID = id
	f.CreatedAt = apiclient.Time{Time: now.UTC().Truncate(time.Second)}
	f.CustomAttributes = nil
	f.AdditionalEmails = cloneStrings(f.AdditionalEmails)
	f.AdditionalPhoneNumbers = cloneStrings(f.AdditionalPhoneNumbers)
	f.MiddleNames = cloneStrings(f.MiddleNames)
	u := &user{wireEndUser: f}
	st.insert(u)
	return u
}

// createEndUser serves POST /{v}/endusers: 201 with the new user. No field
// is required (as in the spec); see store.check for the validation, whose
// failures are 400 "Validation failure during enduser creation [errors=…]".
func (s *Sim) createEndUser(w http.ResponseWriter, r *http.Request) {
	var in userInput
	if err := decodeBody(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, msgDecoding)
		return
	}
	var f wireEndUser
	in.apply(&f, true)
	s.mu.Lock()
	if codes := s.st.check(&f, ""); len(codes) > 0 {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Validation failure during enduser creation [errors="+joinCodes(codes)+"]")
		return
	}
	out := s.st.single(s.st.create(s.st.newID(), f, s.now()))
	s.mu.Unlock()
	writeData(w, http.StatusCreated, out)
}

// bulkCreateEndUsers serves POST /{v}/endusers/bulk: 201 with one outcome
// per input item, in input order (UNCONFIRMED), even when items failed.
// Items are created one after another, so a phone number used twice in the
// same request fails the second item. There is no item limit (Dixa's is
// UNCONFIRMED).
func (s *Sim) bulkCreateEndUsers(w http.ResponseWriter, r *http.Request) {
	var in bulkInput
	if err := decodeBody(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, msgDecoding)
		return
	}
	if in.Data == nil {
		writeError(w, http.StatusBadRequest, msgInvalidBody)
		return
	}
	out := make([]bulkOutcome, 0, len(*in.Data))
	s.mu.Lock()
	for _, item := range *in.Data {
		var f wireEndUser
		item.apply(&f, true)
		id := s.st.newID()
		if codes := s.st.check(&f, ""); len(codes) > 0 {
			out = append(out, failure(apiclient.BulkErrValidation, id,
				fmt.Sprintf("Create EndUser [userId=%s] in [orgId=%s] failed with [errors=%s]", id, OrgID, joinCodes(codes))))
			continue
		}
		u := s.st.single(s.st.create(id, f, s.now()))
		out = append(out, bulkOutcome{Type: apiclient.BulkSuccess, Data: &u})
	}
	s.mu.Unlock()
	writeData(w, http.StatusCreated, out)
}

func failure(kind, id, msg string) bulkOutcome {
	return bulkOutcome{Type: apiclient.BulkFailure, Error: &bulkError{Type: kind, ID: id, Message: msg}}
}

// bulkItems decodes a bulk update or patch body. Every item needs a uuid id
// and, for PUT, a displayName, as the spec's schema requires; a body that
// breaks the schema is refused as a whole (400 "Invalid value for: body"),
// as a schema-driven server would.
func bulkItems(w http.ResponseWriter, r *http.Request, needDisplayName bool) ([]userInput, bool) {
	var in bulkInput
	if err := decodeBody(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, msgDecoding)
		return nil, false
	}
	if in.Data == nil {
		writeError(w, http.StatusBadRequest, msgInvalidBody)
		return nil, false
	}
	for i, item := range *in.Data {
		if item.ID == nil || !isUUID(*item.ID) || (needDisplayName && item.DisplayName == nil) {
			writeError(w, http.StatusBadRequest, msgInvalidBody)
			return nil, false
		}
		(*in.Data)[i].ID = new(strings.ToLower(*item.ID))
	}
	return *in.Data, true
}

// bulkUpdateEndUsers serves PUT /{v}/endusers (bulk full update; note the
// collection path, not /endusers/bulk): 200 with one outcome per item —
// NotFound for an unknown id, Validation for a failed check.
func (s *Sim) bulkUpdateEndUsers(w http.ResponseWriter, r *http.Request) {
	items, ok := bulkItems(w, r, true)
	if !ok {
		return
	}
	out := make([]bulkOutcome, 0, len(items))
	s.mu.Lock()
	for _, item := range items {
		id := *item.ID
		u, ok := s.st.users[id]
		if !ok {
			out = append(out, failure(apiclient.BulkErrNotFound, id, "EndUser [id="+id+"] not found"))
			continue
		}
		f := u.wireEndUser
		item.apply(&f, true)
		if codes := s.st.checkUpdate(&f, id); len(codes) > 0 {
			out = append(out, failure(apiclient.BulkErrValidation, id,
				fmt.Sprintf("Updating EndUser [id:%s] failed with [errors:%s]", id, joinCodes(codes))))
			continue
		}
		s.st.update(u, f)
		single := s.st.single(u)
		out = append(out, bulkOutcome{Type: apiclient.BulkSuccess, Data: &single})
	}
	s.mu.Unlock()
	writeData(w, http.StatusOK, out)
}

// bulkPatchEndUsers serves PATCH /{v}/endusers (bulk partial update): 200
// with one outcome per item — EmptyPatchSet for an item that sets nothing,
// NotFound, Validation.
func (s *Sim) bulkPatchEndUsers(w http.ResponseWriter, r *http.Request) {
	items, ok := bulkItems(w, r, false)
	if !ok {
		return
	}
	out := make([]bulkOutcome, 0, len(items))
	s.mu.Lock()
	for _, item := range items {
		id := *item.ID
		if item.isEmpty() {
			out = append(out, failure(apiclient.BulkErrEmptyPatchSet, id, "Empty patch set for EndUser [id="+id+"]"))
			continue
		}
		u, ok := s.st.users[id]
		if !ok {
			out = append(out, failure(apiclient.BulkErrNotFound, id, "EndUser [id="+id+"] not found"))
			continue
		}
		f := u.wireEndUser
		item.apply(&f, false)
		if codes := s.st.check(&f, id); len(codes) > 0 {
			out = append(out, failure(apiclient.BulkErrValidation, id,
				fmt.Sprintf("Updating EndUser [id=%s] in [org=%s] failed with [errors=%s]", id, OrgID, joinCodes(codes))))
			continue
		}
		s.st.update(u, f)
		single := s.st.single(u)
		out = append(out, bulkOutcome{Type: apiclient.BulkSuccess, Data: &single})
	}
	s.mu.Unlock()
	writeData(w, http.StatusOK, out)
}

// checkUpdate is check plus PUT's rule that the display name is not blank.
func (st *store) checkUpdate(f *wireEndUser, self string) []string {
	codes := st.check(f, self)
	if strings.TrimSpace(f.DisplayName) == "" {
		codes = append(codes, codeNoDisplayName)
	}
	return codes
}

// getEndUser serves GET /{v}/endusers/{userId}: the user with its custom
// attributes. Anonymized users are still found (blanked).
func (s *Sim) getEndUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "userId")
	if !ok {
		return
	}
	s.mu.RLock()
	u, ok := s.st.users[id]
	var out wireEndUser
	if ok {
		out = s.st.single(u)
	}
	s.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	writeData(w, http.StatusOK, out)
}

// updateEndUser serves PUT /{v}/endusers/{userId}: a full update;
// displayName is required (absent: 400 "Invalid value for: body"; blank:
// a validation failure), omitted fields are cleared.
func (s *Sim) updateEndUser(w http.ResponseWriter, r *http.Request) {
	s.updateOne(w, r, true)
}

// patchEndUser serves PATCH /{v}/endusers/{userId}: a partial update; an
// empty body is a decoding failure and `{}` is refused (400, EmptyPatchSet)
// — Dixa's status for an empty single patch is UNCONFIRMED.
func (s *Sim) patchEndUser(w http.ResponseWriter, r *http.Request) {
	s.updateOne(w, r, false)
}

func (s *Sim) updateOne(w http.ResponseWriter, r *http.Request, replace bool) {
	id, ok := pathID(w, r, "userId")
	if !ok {
		return
	}
	var in userInput
	if err := decodeBody(r, &in); err != nil {
		writeError(w, http.StatusBadRequest, msgDecoding)
		return
	}
	in.ID = nil // not part of the one-user body; ignored if sent
	switch {
	case replace && in.DisplayName == nil:
		writeError(w, http.StatusBadRequest, msgInvalidBody)
		return
	case !replace && in.isEmpty():
		writeError(w, http.StatusBadRequest, "Validation failure during update [errors="+apiclient.BulkErrEmptyPatchSet+"]")
		return
	}
	s.mu.Lock()
	u, ok := s.st.users[id]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	f := u.wireEndUser
	in.apply(&f, replace)
	check := s.st.check
	if replace {
		check = s.st.checkUpdate
	}
	if codes := check(&f, id); len(codes) > 0 {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Validation failure during update [errors="+joinCodes(codes)+"]")
		return
	}
	s.st.update(u, f)
	out := s.st.single(u)
	s.mu.Unlock()
	writeData(w, http.StatusOK, out)
}
