package apiclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// EndUser is a Dixa end user (a customer, "contact" in Dixa's UI).
//
// Every field but ID and CreatedAt is optional on the wire. Absent strings
// decode as "", absent lists as nil. CustomAttributes is only present on
// single-user responses (GET one, create, update, patch), never on lists.
type EndUser struct {
	ID                     string            `json:"id"`
	CreatedAt              Time              `json:"createdAt"`
	DisplayName            string            `json:"displayName,omitempty"`
	Email                  string            `json:"email,omitempty"`
	PhoneNumber            string            `json:"phoneNumber,omitempty"`
	AdditionalEmails       []string          `json:"additionalEmails,omitempty"`
	AdditionalPhoneNumbers []string          `json:"additionalPhoneNumbers,omitempty"`
	FirstName              string            `json:"firstName,omitempty"`
	LastName               string            `json:"lastName,omitempty"`
	MiddleNames            []string          `json:"middleNames,omitempty"`
	AvatarURL              string            `json:"avatarUrl,omitempty"`
	ExternalID             string            `json:"externalId,omitempty"`
	CustomAttributes       []CustomAttribute `json:"customAttributes,omitempty"`
}

// CreateEndUserInput is the body of POST /endusers and one item of
// POST /endusers/bulk. No field is required by the API.
type CreateEndUserInput struct {
	DisplayName            string   `json:"displayName,omitempty"`
	Email                  string   `json:"email,omitempty"`
	PhoneNumber            string   `json:"phoneNumber,omitempty"`
	AdditionalEmails       []string `json:"additionalEmails,omitempty"`
	AdditionalPhoneNumbers []string `json:"additionalPhoneNumbers,omitempty"`
	FirstName              string   `json:"firstName,omitempty"`
	LastName               string   `json:"lastName,omitempty"`
	MiddleNames            []string `json:"middleNames,omitempty"`
	AvatarURL              string   `json:"avatarUrl,omitempty"`
	ExternalID             string   `json:"externalId,omitempty"`
}

// UpdateEndUserInput is the body of PUT /endusers/{id} (full replace);
// DisplayName is required by the API.
type UpdateEndUserInput struct {
	DisplayName            string   `json:"displayName"`
	Email                  string   `json:"email,omitempty"`
	PhoneNumber            string   `json:"phoneNumber,omitempty"`
	AdditionalEmails       []string `json:"additionalEmails,omitempty"`
	AdditionalPhoneNumbers []string `json:"additionalPhoneNumbers,omitempty"`
	FirstName              string   `json:"firstName,omitempty"`
	LastName               string   `json:"lastName,omitempty"`
	MiddleNames            []string `json:"middleNames,omitempty"`
	AvatarURL              string   `json:"avatarUrl,omitempty"`
	ExternalID             string   `json:"externalId,omitempty"`
}

// BulkUpdateEndUserInput is one item of the bulk PUT /endusers.
type BulkUpdateEndUserInput struct {
	ID string `json:"id"`
	UpdateEndUserInput
}

// PatchEndUserInput is the body of PATCH /endusers/{id}. Only non-nil
// fields are sent, so a patch never touches a field the caller did not set.
// A pointer to "" (or to an empty slice) is sent as such, to clear a field.
type PatchEndUserInput struct {
	DisplayName            *string   `json:"displayName,omitempty"`
	Email                  *string   `json:"email,omitempty"`
	PhoneNumber            *string   `json:"phoneNumber,omitempty"`
	AdditionalEmails       *[]string `json:"additionalEmails,omitempty"`
	AdditionalPhoneNumbers *[]string `json:"additionalPhoneNumbers,omitempty"`
	FirstName              *string   `json:"firstName,omitempty"`
	LastName               *string   `json:"lastName,omitempty"`
	MiddleNames            *[]string `json:"middleNames,omitempty"`
	AvatarURL              *string   `json:"avatarUrl,omitempty"`
	ExternalID             *string   `json:"externalId,omitempty"`
}

// IsEmpty reports whether the patch sets no field at all.
func (p PatchEndUserInput) IsEmpty() bool {
	return p == PatchEndUserInput{}
}

// BulkPatchEndUserInput is one item of the bulk PATCH /endusers.
type BulkPatchEndUserInput struct {
	ID string `json:"id"`
	PatchEndUserInput
}

// CustomAttribute is a custom attribute value held on an end user.
// Value is a string for Text attributes and a list of option values (the
// path from the top-level option down) for Select attributes.
type CustomAttribute struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Identifier string         `json:"identifier"`
	Value      AttributeValue `json:"value"`
}

// AttributeValue is the value of a custom attribute: Text (a string),
// Select (a list of strings), or cleared (JSON null). The zero value is
// "cleared".
type AttributeValue struct {
	Text     string
	Select   []string
	IsSelect bool
	IsSet    bool
}

// TextValue returns a Text attribute value.
func TextValue(s string) AttributeValue { return AttributeValue{Text: s, IsSet: true} }

// SelectValue returns a Select attribute value: the path of option values.
func SelectValue(path ...string) AttributeValue {
	if path == nil {
		path = []string{}
	}
	return AttributeValue{Select: path, IsSelect: true, IsSet: true}
}

// ClearValue returns the value that clears an attribute (sent as null).
func ClearValue() AttributeValue { return AttributeValue{} }

// String renders the value for display: Select paths are joined with " › ".
func (v AttributeValue) String() string {
	if v.IsSelect {
		return strings.Join(v.Select, " › ")
	}
	return v.Text
}

// MarshalJSON implements json.Marshaler.
func (v AttributeValue) MarshalJSON() ([]byte, error) {
	switch {
	case !v.IsSet:
		return []byte("null"), nil
	case v.IsSelect:
		s := v.Select
		if s == nil {
			s = []string{}
		}
		return json.Marshal(s)
	default:
		return json.Marshal(v.Text)
	}
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *AttributeValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*v = AttributeValue{}
	case len(b) > 0 && b[0] == '[':
		var s []string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("custom attribute value: %w", err)
		}
		if s == nil {
			s = []string{}
		}
		*v = AttributeValue{Select: s, IsSelect: true, IsSet: true}
	default:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("custom attribute value: %w", err)
		}
		*v = AttributeValue{Text: s, IsSet: true}
	}
	return nil
}

// CustomAttributeDefinition describes a custom attribute (GET /custom-attributes).
type CustomAttributeDefinition struct {
	ID              string          `json:"id"`
	EntityType      string          `json:"entityType"` // "Contact" or "Conversation"
	Identifier      string          `json:"identifier"`
	Label           string          `json:"label"`
	InputDefinition InputDefinition `json:"inputDefinition"`
	Description     string          `json:"description,omitempty"`
	CreatedAt       ZonedTime       `json:"createdAt"`
	UpdatedAt       *ZonedTime      `json:"updatedAt,omitempty"`
	IsRequired      bool            `json:"isRequired"`
	IsArchived      bool            `json:"isArchived"`
	IsDeactivated   bool            `json:"isDeactivated"`
}

// Entity types of custom attribute definitions.
const (
	EntityContact      = "Contact"
	EntityConversation = "Conversation"
)

// Input definition kinds.
const (
	InputText   = "Text"
	InputSelect = "Select"
)

// InputDefinition is the `_type`-discriminated input of a definition: Text
// (with an optional placeholder) or Select (with options). Unknown kinds keep
// their Type and raw JSON.
type InputDefinition struct {
	Type        string          `json:"_type"`
	Placeholder string          `json:"placeholder,omitempty"`
	Options     []SelectOption  `json:"options,omitempty"`
	Raw         json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw document so that unknown kinds are not lost.
func (d *InputDefinition) UnmarshalJSON(b []byte) error {
	type plain InputDefinition
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*d = InputDefinition(p)
	d.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the known fields; an unknown kind is written back as
// received.
func (d InputDefinition) MarshalJSON() ([]byte, error) {
	if d.Type != InputText && d.Type != InputSelect && len(d.Raw) > 0 {
		return d.Raw, nil
	}
	type plain InputDefinition
	return json.Marshal(plain(d))
}

// SelectOption is an option of a Select definition; options nest.
type SelectOption struct {
	ID            string         `json:"id"`
	Label         string         `json:"label"`
	Value         string         `json:"value"`
	IsDeactivated bool           `json:"isDeactivated"`
	OrderIndex    int32          `json:"orderIndex"`
	NestedOptions []SelectOption `json:"nestedOptions"`
}

// MarshalJSON writes leaves with "nestedOptions": [] as Dixa does, never null.
func (o SelectOption) MarshalJSON() ([]byte, error) {
	type plain SelectOption
	if o.NestedOptions == nil {
		o.NestedOptions = []SelectOption{}
	}
	return json.Marshal(plain(o))
}

// Conversation kinds (`_type`) known at the time of writing. Others are kept
// as they come.
const (
	ConvAnonymized        = "AnonymizedConversation"
	ConvChat              = "ChatConversation"
	ConvContactForm       = "ContactFormConversation"
	ConvEmail             = "EmailConversation"
	ConvFacebookMessenger = "FacebookMessengerConversation"
	ConvGeneric           = "GenericConversation"
	ConvMessenger         = "MessengerConversation"
	ConvPstnPhone         = "PstnPhoneConversation"
	ConvSms               = "SmsConversation"
	ConvTwitter           = "TwitterConversation"
	ConvWhatsApp          = "WhatsAppConversation"
)

// Conversation states.
const (
	StateAwaitingPending = "AwaitingPending"
	StateClosed          = "Closed"
	StateOpen            = "Open"
	StatePending         = "Pending"
)

// Conversation is one of Dixa's conversation kinds, discriminated by Type
// (`_type`). The fields of every known kind are here, optional; Raw holds
// the document as received so that nothing of an unknown kind is dropped.
type Conversation struct {
	Type               string            `json:"_type"`
	ID                 int64             `json:"id"`
	RequesterID        string            `json:"requesterId"`
	Channel            string            `json:"channel"`
	CreatedAt          Time              `json:"createdAt"`
	Direction          string            `json:"direction,omitempty"`
	State              string            `json:"state,omitempty"`
	StateUpdatedAt     *Time             `json:"stateUpdatedAt,omitempty"`
	Assignment         *Assignment       `json:"assignment,omitempty"`
	Queue              *Queue            `json:"queue,omitempty"`
	Link               *ConversationLink `json:"link,omitempty"`
	CustomAttributes   []CustomAttribute `json:"customAttributes,omitempty"`
	TransportExpiresAt *Time             `json:"transportExpiresAt,omitempty"`
	Language           string            `json:"language,omitempty"`
	BrowserInfo        *BrowserInfo      `json:"browserInfo,omitempty"`

	// Email and ContactForm.
	Subject          string `json:"subject,omitempty"`
	FromEmail        string `json:"fromEmail,omitempty"`
	ToEmail          string `json:"toEmail,omitempty"`
	IntegrationEmail string `json:"integrationEmail,omitempty"`
	// Sms.
	FromNumber string `json:"fromNumber,omitempty"`
	ToNumber   string `json:"toNumber,omitempty"`
	// Generic.
	FromContactPointID string `json:"fromContactPointId,omitempty"`
	ToContactPointID   string `json:"toContactPointId,omitempty"`
	// Twitter.
	ConversationType      string `json:"conversationType,omitempty"`
	ContactPointTwitterID string `json:"contactPointTwitterId,omitempty"`
	EndUserTwitterID      string `json:"endUserTwitterId,omitempty"`
	// Anonymized.
	AnonymizedAt *Time `json:"anonymizedAt,omitempty"`

	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the known fields and keeps the raw document.
func (c *Conversation) UnmarshalJSON(b []byte) error {
	type plain Conversation
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Conversation(p)
	c.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// IsOpen reports whether the conversation is not closed (it blocks an
// anonymization without force).
func (c Conversation) IsOpen() bool {
	return c.Type != ConvAnonymized && c.State != StateClosed
}

// Assignment says which agent a conversation is assigned to.
type Assignment struct {
	AgentID    string `json:"agentId"`
	AssignedAt Time   `json:"assignedAt"`
}

// Queue says which queue a conversation waits in.
type Queue struct {
	ID       string `json:"id"`
	QueuedAt *Time  `json:"queuedAt,omitempty"`
}

// ConversationLink links a conversation to a parent (EmailForward,
// FollowUp, SideConversation).
type ConversationLink struct {
	Type     string `json:"_type"`
	ParentID int64  `json:"parentId"`
}

// BrowserInfo is the browser a chat started from.
type BrowserInfo struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	IPAddress      string `json:"ipAddress,omitempty"`
	OriginatingURL string `json:"originatingUrl,omitempty"`
}

// Bulk outcome kinds.
const (
	BulkSuccess = "BulkActionSuccess"
	BulkFailure = "BulkActionFailure"
)

// BulkOutcome is the result of one item of a bulk request: a success with
// the end user, or a failure with a typed error.
type BulkOutcome struct {
	Type  string     `json:"_type"`
	Data  *EndUser   `json:"data,omitempty"`
	Error *BulkError `json:"error,omitempty"`
}

// OK reports whether the item succeeded.
func (o BulkOutcome) OK() bool { return o.Type == BulkSuccess && o.Data != nil }

// Bulk error kinds (`error._type`).
const (
	BulkErrEmptyPatchSet   = "EmptyPatchSet"
	BulkErrErrorResponse   = "ErrorResponse"
	BulkErrInfrastructure  = "Infrastructure"
	BulkErrIntegrity       = "Integrity"
	BulkErrInvalidArgument = "InvalidArgument"
	BulkErrNotFound        = "NotFound"
	BulkErrValidation      = "Validation"
)

// BulkError is the typed error of a failed bulk item.
type BulkError struct {
	Type    string `json:"_type"`
	ID      string `json:"id,omitempty"`
	Message string `json:"message"`
}

// Error describes the failure with its kind and, when known, the item's id.
func (e *BulkError) Error() string {
	if e.ID != "" {
		return e.Type + " (" + e.ID + "): " + e.Message
	}
	return e.Type + ": " + e.Message
}

// AnonymizationRequest is Dixa's AnonymizationRequestStatus. ProcessedAt is
// nil until Dixa has processed the request.
type AnonymizationRequest struct {
	ID             string          `json:"id"`
	EntityType     json.RawMessage `json:"entityType"` // deprecated; a string on the wire despite the schema
	Type           string          `json:"_type"`      // User, Conversation, Message
	InitiatedAt    ZonedTime       `json:"initiatedAt"`
	TargetEntityID string          `json:"targetEntityId"`
	RequestedBy    string          `json:"requestedBy"`
	ProcessedAt    *ZonedTime      `json:"processedAt,omitempty"`
}

// Processed reports whether Dixa has finished the request.
func (a AnonymizationRequest) Processed() bool { return a.ProcessedAt != nil }

// Time is a timestamp that accepts both Dixa styles when decoding
// ("2020-12-16T09:41:43Z" and "2021-12-01T12:46:36.581Z[GMT]", with 0–9
// fractional digits) and encodes as RFC 3339 ("…Z").
type Time struct{ time.Time }

// ZonedTime is a Time that encodes in Dixa's Java ZonedDateTime style,
// "2021-12-01T12:46:36.581Z[GMT]", as Dixa does for anonymization requests
// and custom attribute definitions.
type ZonedTime struct{ time.Time }

// ParseTime parses a timestamp in either Dixa style.
func ParseTime(s string) (time.Time, error) {
	if i := strings.IndexByte(s, '['); i >= 0 && strings.HasSuffix(s, "]") {
		s = s[:i]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("dixa timestamp %q: %w", s, err)
	}
	return t, nil
}

func unmarshalTime(b []byte) (time.Time, error) {
	if bytes.Equal(b, []byte("null")) {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return time.Time{}, fmt.Errorf("dixa timestamp: %w", err)
	}
	if s == "" {
		return time.Time{}, nil
	}
	return ParseTime(s)
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) (err error) {
	t.Time, err = unmarshalTime(b)
	return err
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *ZonedTime) UnmarshalJSON(b []byte) (err error) {
	t.Time, err = unmarshalTime(b)
	return err
}

// MarshalJSON implements json.Marshaler.
func (t ZonedTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05.999Z07:00") + "[GMT]")
}
