package apiclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Message directions (`direction` on conversations and message attributes).
const (
	DirectionInbound  = "Inbound"
	DirectionOutbound = "Outbound"
	DirectionInternal = "Internal"
)

// Message kinds (`attributes._type` of a Message). Others are kept as they
// come, with their raw JSON.
const (
	MsgCallRecording     = "CallRecordingAttributes"
	MsgChat              = "ChatAttributes"
	MsgContactForm       = "ContactFormAttributes"
	MsgEmail             = "EmailAttributes"
	MsgFacebookMessenger = "FacebookMessengerAttributes"
	MsgGeneric           = "GenericAttributes"
	MsgMessengerForm     = "MessengerFormAttributes"
	MsgPhone             = "PhoneAttributes"
	MsgSms               = "SmsAttributes"
	MsgTranscript        = "TranscriptAttributes"
	MsgTwitter           = "TwitterAttributes"
	MsgWhatsApp          = "WhatsAppAttributes"
)

// Content kinds (`_type` of a Content).
const (
	ContentText     = "Text"
	ContentHTML     = "Html"
	ContentMarkdown = "Markdown"
)

// Email content kinds (`_type` of an EmailContent).
const (
	EmailRegular  = "Regular"
	EmailTooLarge = "TooLarge"
)

// Message is one message of a conversation
// (GET /conversations/{id}/messages). AuthorID is the end user for inbound
// messages and an agent otherwise; Dixa gives no name with it. Attributes
// hold the kind-specific part.
type Message struct {
	ID         string            `json:"id"`
	AuthorID   string            `json:"authorId"`
	ExternalID string            `json:"externalId,omitempty"`
	CreatedAt  ZonedTime         `json:"createdAt"`
	Attributes MessageAttributes `json:"attributes"`
}

// Content is a message body: plain text, HTML or Markdown, as Type says.
// An HTML value is the sender's markup, unsanitised.
type Content struct {
	Type  string `json:"_type"`
	Value string `json:"value"`
}

// IsHTML reports whether the value is HTML markup.
func (c Content) IsHTML() bool { return c.Type == ContentHTML }

// File is a link to a file Dixa holds (an attachment, an inline image, an
// email's original). PrettyName is the name to show. Dixa gives no size or
// media type; the URL needs Dixa credentials to fetch.
type File struct {
	URL        string `json:"url"`
	PrettyName string `json:"prettyName,omitempty"`
}

// EmailContact is an address with an optional display name.
type EmailContact struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// EmailContent is an email body: Regular (Content holds it) or TooLarge (the
// body was too large to inline; File links to it).
type EmailContent struct {
	Type    string   `json:"_type"`
	Content *Content `json:"content,omitempty"`
	File    *File    `json:"file,omitempty"`
}

// EmailMessage is the email part of EmailAttributes and
// ContactFormAttributes. ReplyDefaultTo is set on contact-form messages
// only. Dixa's messages carry no subject: it is the conversation's.
type EmailMessage struct {
	Content               *EmailContent  `json:"emailContent,omitempty"`
	From                  EmailContact   `json:"from"`
	To                    []EmailContact `json:"to,omitempty"`
	Cc                    []EmailContact `json:"cc,omitempty"`
	Bcc                   []EmailContact `json:"bcc,omitempty"`
	ReplyDefaultTo        []EmailContact `json:"replyDefaultToEmails,omitempty"`
	IsAutoReply           bool           `json:"isAutoReply"`
	InlineImages          []File         `json:"inlineImages,omitempty"`
	DeliveryFailureReason string         `json:"deliveryFailureReason,omitempty"`
	OriginalContentURL    *File          `json:"originalContentUrl,omitempty"`
}

// PhoneCall is a PhoneAttributes message: a call between two numbers.
// Duration is presumably in seconds (Dixa does not say); 0 when absent.
type PhoneCall struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Duration int32  `json:"duration,omitempty"`
}

// CallRecording is a CallRecordingAttributes message: URL links to the
// recording. Duration as for PhoneCall.
type CallRecording struct {
	URL      string `json:"recording"`
	Duration int32  `json:"duration,omitempty"`
}

// Utterance places a TranscriptAttributes message in its call, in
// milliseconds from the start.
type Utterance struct {
	StartMs int64 `json:"utterance_start_ms,omitempty"`
	EndMs   int64 `json:"utterance_end_ms,omitempty"`
}

// MessageAttributes is the `_type`-discriminated part of a Message. The
// fields used by each kind:
//
//   - Chat, FacebookMessenger, Generic, Sms, Twitter, WhatsApp: Content,
//     Attachments (and IsAutomated for Chat);
//   - Email, ContactForm: Email, Attachments;
//   - Phone: Phone; CallRecording: Recording;
//   - MessengerForm: Form, Content; Transcript: Content, Transcript.
//
// Direction is set on every kind but CallRecording. Raw holds the document
// as received, so nothing of an unknown kind is lost.
type MessageAttributes struct {
	Type        string
	Direction   string
	Content     *Content
	Attachments []File
	IsAutomated bool
	Email       *EmailMessage
	Phone       *PhoneCall
	Recording   *CallRecording
	Form        *FormSubmission
	Transcript  *Utterance
	Raw         json.RawMessage
}

// Body returns the message's text: its Content, or an email's Regular
// content. Nil when there is none (a call, a recording, an email whose body
// is TooLarge or absent).
func (a MessageAttributes) Body() *Content {
	if a.Email != nil {
		if a.Email.Content != nil && a.Email.Content.Type == EmailRegular {
			return a.Email.Content.Content
		}
		return nil
	}
	return a.Content
}

// TooLarge returns the link to an email body too large to be inlined, nil
// when the body is inline or there is none.
func (a MessageAttributes) TooLarge() *File {
	if a.Email != nil && a.Email.Content != nil && a.Email.Content.Type == EmailTooLarge {
		return a.Email.Content.File
	}
	return nil
}

// messageAttributesWire is the union of every kind's fields as on the wire.
// from and to are an EmailContact and a list of them for emails, but plain
// strings for calls, so they are decoded per kind.
type messageAttributesWire struct {
	Type                  string          `json:"_type"`
	EmailContent          *EmailContent   `json:"emailContent,omitempty"`
	FormSubmission        *FormSubmission `json:"formSubmission,omitempty"`
	Content               *Content        `json:"content,omitempty"`
	From                  json.RawMessage `json:"from,omitempty"`
	ReplyDefaultToEmails  []EmailContact  `json:"replyDefaultToEmails,omitempty"`
	To                    json.RawMessage `json:"to,omitempty"`
	Cc                    []EmailContact  `json:"cc,omitempty"`
	Bcc                   []EmailContact  `json:"bcc,omitempty"`
	IsAutoReply           *bool           `json:"isAutoReply,omitempty"`
	InlineImages          []File          `json:"inlineImages,omitempty"`
	Attachments           []File          `json:"attachments,omitempty"`
	DeliveryFailureReason string          `json:"deliveryFailureReason,omitempty"`
	Direction             string          `json:"direction,omitempty"`
	OriginalContentURL    *File           `json:"originalContentUrl,omitempty"`
	Duration              *int32          `json:"duration,omitempty"`
	Recording             *string         `json:"recording,omitempty"`
	IsAutomated           *bool           `json:"isAutomated,omitempty"`
	UtteranceStartMs      *int64          `json:"utterance_start_ms,omitempty"`
	UtteranceEndMs        *int64          `json:"utterance_end_ms,omitempty"`
}

// UnmarshalJSON decodes the fields of the kind named by `_type` and keeps
// the raw document.
func (a *MessageAttributes) UnmarshalJSON(b []byte) error {
	var w messageAttributesWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = MessageAttributes{
		Type:        w.Type,
		Direction:   w.Direction,
		Content:     w.Content,
		Attachments: w.Attachments,
		IsAutomated: w.IsAutomated != nil && *w.IsAutomated,
		Raw:         append(json.RawMessage(nil), b...),
	}
	switch w.Type {
	case MsgEmail, MsgContactForm:
		e := &EmailMessage{
			Content: w.EmailContent, Cc: w.Cc, Bcc: w.Bcc, ReplyDefaultTo: w.ReplyDefaultToEmails,
			IsAutoReply: w.IsAutoReply != nil && *w.IsAutoReply, InlineImages: w.InlineImages,
			DeliveryFailureReason: w.DeliveryFailureReason, OriginalContentURL: w.OriginalContentURL,
		}
		if err := decodeOptional(w.From, &e.From); err != nil {
			return fmt.Errorf("message from: %w", err)
		}
		if err := decodeOptional(w.To, &e.To); err != nil {
			return fmt.Errorf("message to: %w", err)
		}
		a.Email = e
	case MsgPhone:
		p := &PhoneCall{Duration: deref(w.Duration)}
		var err error
		if p.From, err = looseString(w.From); err != nil {
			return fmt.Errorf("phone from: %w", err)
		}
		if p.To, err = looseString(w.To); err != nil {
			return fmt.Errorf("phone to: %w", err)
		}
		a.Phone = p
	case MsgCallRecording:
		a.Recording = &CallRecording{URL: deref(w.Recording), Duration: deref(w.Duration)}
	case MsgMessengerForm:
		a.Form = w.FormSubmission
	case MsgTranscript:
		a.Transcript = &Utterance{StartMs: deref(w.UtteranceStartMs), EndMs: deref(w.UtteranceEndMs)}
	}
	return nil
}

// MarshalJSON writes the fields of the kind as Dixa does; an unknown kind
// is written back as received.
func (a MessageAttributes) MarshalJSON() ([]byte, error) {
	w := messageAttributesWire{Type: a.Type, Direction: a.Direction, Content: a.Content, Attachments: a.Attachments}
	var err error
	switch a.Type {
	case MsgEmail, MsgContactForm:
		e := a.Email
		if e == nil {
			e = &EmailMessage{}
		}
		w.EmailContent, w.Cc, w.Bcc, w.ReplyDefaultToEmails = e.Content, e.Cc, e.Bcc, e.ReplyDefaultTo
		w.IsAutoReply, w.InlineImages = &e.IsAutoReply, e.InlineImages
		w.DeliveryFailureReason, w.OriginalContentURL = e.DeliveryFailureReason, e.OriginalContentURL
		if w.From, err = json.Marshal(e.From); err != nil {
			return nil, err
		}
		if e.To != nil {
			if w.To, err = json.Marshal(e.To); err != nil {
				return nil, err
			}
		}
	case MsgPhone:
		p := a.Phone
		if p == nil {
			p = &PhoneCall{}
		}
		w.From, _ = json.Marshal(p.From)
		w.To, _ = json.Marshal(p.To)
		w.Duration = optional(p.Duration)
	case MsgCallRecording:
		if r := a.Recording; r != nil {
			w.Recording, w.Duration = &r.URL, optional(r.Duration)
		}
	case MsgMessengerForm:
		w.FormSubmission = a.Form
	case MsgTranscript:
		if u := a.Transcript; u != nil {
			w.UtteranceStartMs, w.UtteranceEndMs = optional(u.StartMs), optional(u.EndMs)
		}
	case MsgChat:
		w.IsAutomated = &a.IsAutomated
	case MsgFacebookMessenger, MsgGeneric, MsgSms, MsgTwitter, MsgWhatsApp:
	default:
		if len(a.Raw) > 0 {
			return a.Raw, nil
		}
	}
	return json.Marshal(w)
}

func decodeOptional(raw json.RawMessage, v any) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// looseString decodes a string, or a number as its digits: the spec
// declares a call's `to` a string, but its example sends a number.
func looseString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// optional returns a pointer to v, nil for the zero value (omitted).
func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// Form value kinds.
const (
	FormText        = "Text"
	FormSelect      = "Select"
	FormAttachments = "Attachments"
)

// FormSubmission is the form a customer filled in before a messenger
// conversation, by field label.
type FormSubmission struct {
	Values map[string]FormValue `json:"values"`
}

// FormValue is one answer of a form: Text, Select (the chosen options) or
// Attachments (uploaded files), as Type says.
type FormValue struct {
	Type   string
	Text   string
	Select []string
	Files  []FileMeta
}

// String renders the value for display: options are joined with ", ",
// files by name.
func (v FormValue) String() string {
	switch v.Type {
	case FormSelect:
		return strings.Join(v.Select, ", ")
	case FormAttachments:
		names := make([]string, len(v.Files))
		for i, f := range v.Files {
			names[i] = f.Name
		}
		return strings.Join(names, ", ")
	}
	return v.Text
}

// UnmarshalJSON accepts the schema's {"value": …} objects (with or without
// a `_type`) and the bare strings and string lists of the spec's example.
func (v *FormValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	kind := ""
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			Type  string          `json:"_type"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		kind, b = o.Type, bytes.TrimSpace(o.Value)
	}
	*v = FormValue{}
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		v.Type = kind
		if v.Type == "" {
			v.Type = FormText
		}
		return nil
	case b[0] == '"':
		v.Type = FormText
		return json.Unmarshal(b, &v.Text)
	case b[0] != '[':
		return fmt.Errorf("form value: unexpected %.20s", b)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if kind == FormAttachments || len(raw) > 0 && bytes.HasPrefix(bytes.TrimSpace(raw[0]), []byte("{")) {
		v.Type, v.Files = FormAttachments, []FileMeta{}
		return json.Unmarshal(b, &v.Files)
	}
	v.Type, v.Select = FormSelect, []string{}
	return json.Unmarshal(b, &v.Select)
}

// MarshalJSON writes the schema's {"value": …} form.
func (v FormValue) MarshalJSON() ([]byte, error) {
	var val any = v.Text
	switch v.Type {
	case FormSelect:
		val = nonNil(v.Select)
	case FormAttachments:
		val = nonNil(v.Files)
	}
	return json.Marshal(struct {
		Value any `json:"value"`
	}{val})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// FileMeta is a file uploaded through a form.
type FileMeta struct {
	URL         string   `json:"url"`
	Name        string   `json:"name"`
	MediaType   MimeType `json:"mediaType"`
	BytesLength int64    `json:"bytesLength"`
	Checksum    Checksum `json:"checksum"`
}

// MimeType is a media type split in two, e.g. image / png.
type MimeType struct {
	Primary string `json:"primary"`
	Sub     string `json:"sub"`
}

// String returns "primary/sub".
func (m MimeType) String() string { return m.Primary + "/" + m.Sub }

// Checksum is a file's digest, e.g. SHA-256 in hex.
type Checksum struct {
	Algorithm string `json:"algorithm"`
	Hex       string `json:"hex"`
}
