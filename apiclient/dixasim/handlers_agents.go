package dixasim

import (
	"net/http"
	"slices"
	"strings"
)

// msgAgentFilters is the spec's reason string for both agent filters.
const msgAgentFilters = "Invalid filters: Cannot provide both phone number and email address"

// listAgents serves GET /{v}/agents: the directory, oldest first, one page
// at a time, optionally filtered by email (primary or additional, without
// case) or phone (primary or additional). Both filters: 400. Deleted agents
// are not listed.
func (s *Sim) listAgents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := filter{Email: q.Get("email"), Phone: q.Get("phone")}
	if f.Email != "" && f.Phone != "" {
		writeError(w, http.StatusBadRequest, msgAgentFilters)
		return
	}
	cur, fromKey, msg := s.listCursor(r, "agents", false)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	switch {
	case !fromKey:
		cur.Filter = f
	case f != (filter{}) && f != cur.Filter:
		writeError(w, http.StatusBadRequest, "Invalid value for: query parameter pageKey")
		return
	}
	// The directory is fixed at seeding: no lock needed.
	page, prev, next := pageOf(s.st.agents, (*wireAgent).pos, cur.Filter.matchAgent, cur)
	data := make([]wireAgent, len(page))
	for i, a := range page {
		data[i] = *a
	}
	writeJSON(w, http.StatusOK, envelope{Data: data, Meta: s.links("/"+version(r)+"/agents", cur, prev, next)})
}

func (f filter) matchAgent(a *wireAgent) bool {
	switch {
	case f.Email != "":
		return strings.EqualFold(a.Email, f.Email) ||
			slices.ContainsFunc(a.AdditionalEmails, func(e string) bool { return strings.EqualFold(e, f.Email) })
	case f.Phone != "":
		return a.PhoneNumber == f.Phone || slices.Contains(a.AdditionalPhoneNumbers, f.Phone)
	}
	return true
}

// getAgent serves GET /{v}/agents/{agentId}; 404 for an unknown or deleted
// agent.
func (s *Sim) getAgent(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "agentId")
	if !ok {
		return
	}
	a, ok := s.st.agentBy[id]
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	writeData(w, http.StatusOK, *a)
}

// DeletedAgentIDs returns the ids of agents who have left the organisation:
// conversations and notes still name them, GET /agents/{id} answers 404.
func (s *Sim) DeletedAgentIDs() []string { return slices.Clone(s.st.deleted) }
