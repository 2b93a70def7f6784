package apiclient

import "time"

// InternalNote is an agent's note on a conversation, not seen by the end
// user (GET /conversations/{id}/notes). CSID is the conversation's id.
type InternalNote struct {
	ID        string `json:"id"`
	AuthorID  string `json:"authorId"`
	CreatedAt Time   `json:"createdAt"`
	CSID      int64  `json:"csid"`
	Message   string `json:"message"`
}

// Tag states.
const (
	TagActive   = "Active"
	TagInactive = "Inactive"
)

// Tag is a tag on a conversation (GET /conversations/{id}/tags). Color is
// optional and free text (a CSS colour in practice); treat it as untrusted.
type Tag struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color,omitempty"`
	State string `json:"state"`
}

// Agent roles known at the time of writing.
const (
	AgentRoleAgent    = "Agent"
	AgentRoleAdmin    = "Admin"
	AgentRoleTeamLead = "TeamLead"
)

// Agent is an agent or admin of the organisation (GET /agents,
// GET /agents/{id}). ID, CreatedAt, DisplayName and Email are always set.
type Agent struct {
	ID                     string   `json:"id"`
	CreatedAt              Time     `json:"createdAt"`
	DisplayName            string   `json:"displayName"`
	Email                  string   `json:"email"`
	AvatarURL              string   `json:"avatarUrl,omitempty"`
	PhoneNumber            string   `json:"phoneNumber,omitempty"`
	AdditionalEmails       []string `json:"additionalEmails,omitempty"`
	AdditionalPhoneNumbers []string `json:"additionalPhoneNumbers,omitempty"`
	FirstName              string   `json:"firstName,omitempty"`
	LastName               string   `json:"lastName,omitempty"`
	MiddleNames            []string `json:"middleNames,omitempty"`
	Roles                  []string `json:"roles,omitempty"`
}

// IsAnonymized reports whether Dixa has anonymized the conversation (its
// requester's or its own GDPR request); AnonymizedAt says when.
func (c Conversation) IsAnonymized() bool { return c.Type == ConvAnonymized }

// AssigneeID returns the id of the agent the conversation is assigned to,
// "" when it is not assigned. The agent may since have been deleted
// (GetAgent then fails with ErrNotFound).
func (c Conversation) AssigneeID() string {
	if c.Assignment == nil {
		return ""
	}
	return c.Assignment.AgentID
}

// ClosedAt returns when a closed conversation was closed: Dixa has no
// closing date, but StateUpdatedAt is the time of the last state change.
// ok is false for a conversation that is not closed or has no such time.
func (c Conversation) ClosedAt() (t time.Time, ok bool) {
	if c.State != StateClosed || c.StateUpdatedAt == nil || c.StateUpdatedAt.IsZero() {
		return time.Time{}, false
	}
	return c.StateUpdatedAt.Time, true
}

// ParentID returns the id of the conversation this one is linked to (a
// follow-up, side conversation or forwarded email), 0 when there is none.
func (c Conversation) ParentID() int64 {
	if c.Link == nil {
		return 0
	}
	return c.Link.ParentID
}
