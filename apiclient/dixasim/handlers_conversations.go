package dixasim

import "net/http"

// listConversations serves GET /{v}/endusers/{userId}/conversations: the
// conversations the user requested, oldest first (createdAt, then id), one
// page at a time, without custom attributes (as in Dixa). 404 for an
// unknown user.
func (s *Sim) listConversations(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "userId")
	if !ok {
		return
	}
	scope := "conversations/" + id
	cur, _, msg := s.listCursor(r, scope)
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
