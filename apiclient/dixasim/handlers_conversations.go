package dixasim

import (
	"net/http"
	"strconv"
)

// listConversations serves GET /{v}/endusers/{userId}/conversations: the
// conversations the user requested, oldest first (createdAt, then id), one
// page at a time, without custom attributes (as in Dixa). 404 for an
// unknown user. A pageLimit above Options.MaxPageSize (100 by default) is
// refused with 400: Dixa's maximum is UNCONFIRMED, and a client must be
// able to fall back to a smaller page.
func (s *Sim) listConversations(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "userId")
	if !ok {
		return
	}
	scope := "conversations/" + id
	cur, _, msg := s.listCursor(r, scope, true)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	s.mu.RLock()
	u, ok := s.st.users[id]
	var (
		page       []wireConversation
		prev, next *position
	)
	if ok {
		all := func(wireConversation) bool { return true }
		page, prev, next = pageOf(u.convs, wireConversation.pos, all, cur)
	}
	s.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	if page == nil {
		page = []wireConversation{}
	}
	writeJSON(w, http.StatusOK, envelope{Data: page, Meta: s.links("/"+version(r)+"/endusers/"+id+"/conversations", cur, prev, next)})
}

// conversationFor reads the conversationId path parameter and finds the
// conversation: 400 "Invalid value for: path parameter conversationId" when
// it is not an int64, 404 when there is no such conversation.
func (s *Sim) conversationFor(w http.ResponseWriter, r *http.Request) (wireConversation, bool) {
	id, err := strconv.ParseInt(r.PathValue("conversationId"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid value for: path parameter conversationId")
		return wireConversation{}, false
	}
	s.mu.RLock()
	c, ok := s.st.conversation(id)
	s.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
	}
	return c, ok
}

// getConversation serves GET /{v}/conversations/{conversationId}: the
// conversation as listed, plus its custom attributes ([] when none).
func (s *Sim) getConversation(w http.ResponseWriter, r *http.Request) {
	c, ok := s.conversationFor(w, r)
	if !ok {
		return
	}
	attrs := s.st.conversationAttributes(c)
	c.CustomAttributes = &attrs
	writeData(w, http.StatusOK, c)
}

// listMessages serves GET /{v}/conversations/{conversationId}/messages: all
// messages, oldest first, not paginated (as in Dixa). An anonymized
// conversation's messages keep their ids, authors, times and kinds, with
// every text, address and file blanked (UNCONFIRMED).
func (s *Sim) listMessages(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.conversationFor(w, r); ok {
		writeData(w, http.StatusOK, s.st.messages(c))
	}
}

// listNotes serves GET /{v}/conversations/{conversationId}/notes: the
// internal notes, oldest first, not paginated. An anonymized
// conversation's notes are blanked (UNCONFIRMED).
func (s *Sim) listNotes(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.conversationFor(w, r); ok {
		writeData(w, http.StatusOK, s.st.notes(c))
	}
}

// listTags serves GET /{v}/conversations/{conversationId}/tags.
func (s *Sim) listTags(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.conversationFor(w, r); ok {
		writeData(w, http.StatusOK, s.st.conversationTags(c))
	}
}

// DemoConversationID returns the id of a well-known demo conversation;
// false when the organisation is too small to hold it.
func (s *Sim) DemoConversationID(d DemoConversation) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range []string{DemoBusyUserID, DemoScriptUserID, DemoQuotesRTLUserID} {
		u, ok := s.st.users[id]
		if !ok {
			continue
		}
		for _, c := range u.convs {
			if c.src != nil && c.src.demo == d {
				return c.ID, true
			}
		}
	}
	return 0, false
}
