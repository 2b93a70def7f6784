package dixasim

import (
	"slices"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// The simulator's own wire types. They deliberately do not reuse the
// client's models (only its timestamp types): the contract tests compare
// these with the vendor's document, and the client's models with these.

// wireEndUser is Dixa's EndUser. Absent optional scalars are omitted; the
// list fields are always written, as `[]` when empty, as in the spec's
// examples. CustomAttributes is nil (omitted) in lists and a non-nil pointer
// on single-user answers, where Dixa includes them.
type wireEndUser struct {
	ID                     string           `json:"id"`
	CreatedAt              apiclient.Time   `json:"createdAt"`
	DisplayName            string           `json:"displayName,omitempty"`
	Email                  string           `json:"email,omitempty"`
	PhoneNumber            string           `json:"phoneNumber,omitempty"`
	AdditionalEmails       []string         `json:"additionalEmails"`
	AdditionalPhoneNumbers []string         `json:"additionalPhoneNumbers"`
	FirstName              string           `json:"firstName,omitempty"`
	LastName               string           `json:"lastName,omitempty"`
	MiddleNames            []string         `json:"middleNames"`
	AvatarURL              string           `json:"avatarUrl,omitempty"`
	ExternalID             string           `json:"externalId,omitempty"`
	CustomAttributes       *[]wireAttribute `json:"customAttributes,omitempty"`
}

// clone returns a copy that shares no slice with u.
func (u wireEndUser) clone() wireEndUser {
	u.AdditionalEmails = cloneStrings(u.AdditionalEmails)
	u.AdditionalPhoneNumbers = cloneStrings(u.AdditionalPhoneNumbers)
	u.MiddleNames = cloneStrings(u.MiddleNames)
	u.CustomAttributes = nil
	return u
}

// cloneStrings copies s, turning nil into an empty (non-nil) slice so that
// it is written as [].
func cloneStrings(s []string) []string {
	return append(make([]string, 0, len(s)), s...)
}

// wireAttribute is a custom attribute value on an end user; Value is a
// string (Text) or a []string (Select: the option path).
type wireAttribute struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Identifier string `json:"identifier"`
	Value      any    `json:"value"`
}

// attrValue is a stored custom attribute value.
type attrValue struct {
	text     string
	path     []string // Select: option values from the top level down
	isSelect bool
}

func (v attrValue) wire() any {
	if v.isSelect {
		return slices.Clone(v.path)
	}
	return v.text
}

// definition is Dixa's CustomAttributeDefinition. Definitions are fixed at
// seeding (the API cannot change them) and shared read-only.
type definition struct {
	ID              string               `json:"id"`
	EntityType      string               `json:"entityType"`
	Identifier      string               `json:"identifier"`
	Label           string               `json:"label"`
	InputDefinition inputDefinition      `json:"inputDefinition"`
	Description     string               `json:"description,omitempty"`
	CreatedAt       apiclient.ZonedTime  `json:"createdAt"`
	UpdatedAt       *apiclient.ZonedTime `json:"updatedAt,omitempty"`
	IsRequired      bool                 `json:"isRequired"`
	IsArchived      bool                 `json:"isArchived"`
	IsDeactivated   bool                 `json:"isDeactivated"`
}

// inputDefinition is the `_type`-tagged Text or Select input.
type inputDefinition struct {
	Type        string         `json:"_type"`
	Placeholder string         `json:"placeholder,omitempty"`
	Options     []selectOption `json:"options,omitempty"`
}

// selectOption is an option of a Select; leaves have nestedOptions: [].
type selectOption struct {
	ID            string         `json:"id"`
	Label         string         `json:"label"`
	Value         string         `json:"value"`
	NestedOptions []selectOption `json:"nestedOptions"`
	IsDeactivated bool           `json:"isDeactivated"`
	OrderIndex    int32          `json:"orderIndex"`
}

// wireConversation is any of Dixa's conversation kinds; Type (`_type`) says
// which, and only that kind's fields are set. Stored conversations are
// values whose pointer fields are never modified, so copies can be read
// without the lock.
type wireConversation struct {
	ID                    int64           `json:"id"`
	RequesterID           string          `json:"requesterId"`
	Channel               string          `json:"channel"`
	CreatedAt             apiclient.Time  `json:"createdAt"`
	Direction             string          `json:"direction,omitempty"`
	State                 string          `json:"state,omitempty"`
	StateUpdatedAt        *apiclient.Time `json:"stateUpdatedAt,omitempty"`
	AnonymizedAt          *apiclient.Time `json:"anonymizedAt,omitempty"`
	Assignment            *assignment     `json:"assignment,omitempty"`
	Queue                 *queue          `json:"queue,omitempty"`
	BrowserInfo           *browserInfo    `json:"browserInfo,omitempty"`
	Language              string          `json:"language,omitempty"`
	Subject               string          `json:"subject,omitempty"`
	FromEmail             string          `json:"fromEmail,omitempty"`
	ToEmail               string          `json:"toEmail,omitempty"`
	IntegrationEmail      string          `json:"integrationEmail,omitempty"`
	FromNumber            string          `json:"fromNumber,omitempty"`
	ToNumber              string          `json:"toNumber,omitempty"`
	FromContactPointID    string          `json:"fromContactPointId,omitempty"`
	ToContactPointID      string          `json:"toContactPointId,omitempty"`
	ConversationType      string          `json:"conversationType,omitempty"`
	ContactPointTwitterID string          `json:"contactPointTwitterId,omitempty"`
	EndUserTwitterID      string          `json:"endUserTwitterId,omitempty"`
	Link                  *link           `json:"link,omitempty"`
	TransportExpiresAt    *apiclient.Time `json:"transportExpiresAt,omitempty"`
	// CustomAttributes is set on GET /conversations/{id} only.
	CustomAttributes *[]wireAttribute `json:"customAttributes,omitempty"`
	Type             string           `json:"_type"`

	src *convSource // what its content is generated from; nil for none
}

func (c wireConversation) pos() position {
	return position{T: c.CreatedAt.UnixNano(), N: c.ID}
}

// anonymized is what is left of c once its requester is anonymized: the
// metadata Dixa keeps for analytics, without assignment, queue or any
// contact details.
func (c wireConversation) anonymized(at time.Time) wireConversation {
	if c.Type == apiclient.ConvAnonymized {
		return c
	}
	return wireConversation{
		ID:             c.ID,
		RequesterID:    c.RequesterID,
		Channel:        c.Channel,
		CreatedAt:      c.CreatedAt,
		Direction:      c.Direction,
		State:          c.State,
		StateUpdatedAt: c.StateUpdatedAt,
		AnonymizedAt:   timePtr(at),
		Link:           c.Link,
		Type:           apiclient.ConvAnonymized,
		src:            c.src,
	}
}

type assignment struct {
	AgentID    string         `json:"agentId"`
	AssignedAt apiclient.Time `json:"assignedAt"`
}

type queue struct {
	ID       string          `json:"id"`
	QueuedAt *apiclient.Time `json:"queuedAt,omitempty"`
}

type browserInfo struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	IPAddress      string `json:"ipAddress,omitempty"`
	OriginatingURL string `json:"originatingUrl,omitempty"`
}

// link ties a conversation to a parent: EmailForward, FollowUp or
// SideConversation.
type link struct {
	ParentID int64  `json:"parentId"`
	Type     string `json:"_type"`
}

// wireAnonRequest is Dixa's AnonymizationRequestStatus. EntityType is the
// deprecated field that the schema calls an object but Dixa sends as a
// string; ProcessedAt is absent until processed.
type wireAnonRequest struct {
	ID             string               `json:"id"`
	EntityType     string               `json:"entityType"`
	Type           string               `json:"_type"`
	InitiatedAt    apiclient.ZonedTime  `json:"initiatedAt"`
	TargetEntityID string               `json:"targetEntityId"`
	RequestedBy    string               `json:"requestedBy"`
	ProcessedAt    *apiclient.ZonedTime `json:"processedAt,omitempty"`
}

// bulkOutcome is one item of a bulk answer.
type bulkOutcome struct {
	Data  *wireEndUser `json:"data,omitempty"`
	Error *bulkError   `json:"error,omitempty"`
	Type  string       `json:"_type"`
}

// bulkError is the `_type`-tagged error of a failed bulk item.
type bulkError struct {
	ID      string `json:"id,omitempty"`
	Message string `json:"message"`
	Type    string `json:"_type"`
}

// timePtr returns t (to the second, as Dixa writes end-user and
// conversation times) for an optional field.
func timePtr(t time.Time) *apiclient.Time {
	return &apiclient.Time{Time: t.UTC().Truncate(time.Second)}
}
