package dixasim

import (
	"net/http"
	"strconv"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// anonymizeEndUser serves PATCH /{v}/endusers/{userId}/anonymize[?force=true].
//
// It refuses with 409 while the user has a conversation that is not Closed,
// unless force=true, which closes them first (the spec's wording; the GDPR
// guide says force skips the check — the effect on the data is the same).
// Otherwise it answers 202 with a new request; the anonymization is
// processed AnonymizeDelay later (lazily: by the first request after that),
// when processedAt appears and the user and its conversations are blanked.
//
// Anonymizing a user again — processed or still pending — is accepted with
// a new request (202) that is processed like the first; whether Dixa
// answers 202, 409 or 404 then is UNCONFIRMED, and 202 is what a client
// retrying an erasure most needs to survive.
func (s *Sim) anonymizeEndUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "userId")
	if !ok {
		return
	}
	force := false
	if q := r.URL.Query(); q.Has("force") {
		var err error
		if force, err = strconv.ParseBool(q.Get("force")); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid value for: query parameter force")
			return
		}
	}
	now := s.now()
	s.mu.Lock()
	u, ok := s.st.users[id]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	open := 0
	for _, c := range u.convs {
		if c.Type != apiclient.ConvAnonymized && c.State != apiclient.StateClosed {
			open++
		}
	}
	if open > 0 && !force {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "EndUser [id="+id+"] has "+strconv.Itoa(open)+
			" conversation(s) that are not closed; close them or retry with force=true")
		return
	}
	if open > 0 {
		s.st.closeConversations(u, now)
	}
	req := &anonRequest{
		wireAnonRequest: wireAnonRequest{
			ID:             s.st.newID(),
			EntityType:     "UserAnonymizationType",
			Type:           "User",
			InitiatedAt:    apiclient.ZonedTime{Time: now.UTC().Truncate(time.Millisecond)},
			TargetEntityID: id,
			RequestedBy:    TokenOwnerID,
		},
	}
	req.due = req.InitiatedAt.Add(s.opts.AnonymizeDelay)
	s.st.requests[req.ID] = req
	s.st.pending = append(s.st.pending, req)
	out := req.wireAnonRequest
	s.mu.Unlock()
	writeData(w, http.StatusAccepted, out)
}

// closeConversations force-closes u's conversations that are not closed.
func (st *store) closeConversations(u *user, now time.Time) {
	convs := make([]wireConversation, len(u.convs))
	for i, c := range u.convs {
		if c.Type != apiclient.ConvAnonymized && c.State != apiclient.StateClosed {
			c.State = apiclient.StateClosed
			c.StateUpdatedAt = timePtr(now)
		}
		convs[i] = c
	}
	u.convs = convs
}

// getAnonymizationRequest serves GET /{v}/anonymization/request/{requestId}:
// the request as it stands (processedAt once processed); 404 if unknown.
func (s *Sim) getAnonymizationRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "requestId")
	if !ok {
		return
	}
	s.mu.RLock()
	req, ok := s.st.requests[id]
	var out wireAnonRequest
	if ok {
		out = req.wireAnonRequest
	}
	s.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	writeData(w, http.StatusOK, out)
}
