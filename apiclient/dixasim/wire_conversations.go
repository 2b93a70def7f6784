package dixasim

import "github.com/example/dixa-console/apiclient"

// Wire types of conversations' content and of agents. Like the other wire
// types they do not reuse the client's models. Lists that Dixa's examples
// write as [] are never nil here, and each message kind has its own type,
// so that a kind carries exactly its own fields.

// wireAgent is Dixa's Agent.
type wireAgent struct {
	ID                     string         `json:"id"`
	CreatedAt              apiclient.Time `json:"createdAt"`
	DisplayName            string         `json:"displayName"`
	Email                  string         `json:"email"`
	AvatarURL              string         `json:"avatarUrl,omitempty"`
	PhoneNumber            string         `json:"phoneNumber,omitempty"`
	AdditionalEmails       []string       `json:"additionalEmails"`
	AdditionalPhoneNumbers []string       `json:"additionalPhoneNumbers"`
	FirstName              string         `json:"firstName,omitempty"`
	LastName               string         `json:"lastName,omitempty"`
	MiddleNames            []string       `json:"middleNames"`
	Roles                  []string       `json:"roles"`
}

func (a *wireAgent) pos() position { return position{T: a.CreatedAt.UnixNano(), ID: a.ID} }

// wireNote is Dixa's InternalNoteData.
type wireNote struct {
	ID        string         `json:"id"`
	AuthorID  string         `json:"authorId"`
	CreatedAt apiclient.Time `json:"createdAt"`
	CSID      int64          `json:"csid"`
	Message   string         `json:"message"`
}

// wireTag is Dixa's Tag.
type wireTag struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Color string `json:"color,omitempty"`
	State string `json:"state"`
}

// wireMessage is Dixa's Message; Attributes is one of the *Attrs types.
type wireMessage struct {
	ID         string              `json:"id"`
	AuthorID   string              `json:"authorId"`
	ExternalID string              `json:"externalId,omitempty"`
	CreatedAt  apiclient.ZonedTime `json:"createdAt"`
	Attributes any                 `json:"attributes"`
}

// content is a message body: `_type` Text, Html or Markdown.
type content struct {
	Value string `json:"value"`
	Type  string `json:"_type"`
}

// file is Dixa's File: a link and a name to show, nothing else.
type file struct {
	URL        string `json:"url"`
	PrettyName string `json:"prettyName,omitempty"`
}

type contact struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// emailContent is Regular (Content) or TooLarge (File).
type emailContent struct {
	Content *content `json:"content,omitempty"`
	File    *file    `json:"file,omitempty"`
	Type    string   `json:"_type"`
}

// emailAttrs is EmailAttributes and ContactFormAttributes (the latter with
// replyDefaultToEmails).
type emailAttrs struct {
	EmailContent          *emailContent `json:"emailContent,omitempty"`
	From                  contact       `json:"from"`
	ReplyDefaultToEmails  []contact     `json:"replyDefaultToEmails,omitempty"`
	To                    []contact     `json:"to"`
	Cc                    []contact     `json:"cc"`
	Bcc                   []contact     `json:"bcc"`
	IsAutoReply           bool          `json:"isAutoReply"`
	InlineImages          []file        `json:"inlineImages"`
	Attachments           []file        `json:"attachments"`
	DeliveryFailureReason string        `json:"deliveryFailureReason,omitempty"`
	Direction             string        `json:"direction"`
	OriginalContentURL    *file         `json:"originalContentUrl,omitempty"`
	Type                  string        `json:"_type"`
}

// textAttrs is the shape shared by ChatAttributes (with isAutomated),
// FacebookMessenger, Generic, Sms, Twitter and WhatsApp attributes.
type textAttrs struct {
	Content     *content `json:"content,omitempty"`
	Direction   string   `json:"direction"`
	Attachments []file   `json:"attachments"`
	IsAutomated *bool    `json:"isAutomated,omitempty"`
	Type        string   `json:"_type"`
}

type phoneAttrs struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Direction string `json:"direction"`
	Duration  int32  `json:"duration,omitempty"`
	Type      string `json:"_type"`
}

type recordingAttrs struct {
	Duration  int32  `json:"duration,omitempty"`
	Recording string `json:"recording"`
	Type      string `json:"_type"`
}

type transcriptAttrs struct {
	Content          *content `json:"content,omitempty"`
	UtteranceStartMs int64    `json:"utterance_start_ms"`
	UtteranceEndMs   int64    `json:"utterance_end_ms"`
	Direction        string   `json:"direction"`
	Type             string   `json:"_type"`
}

// formAttrs is MessengerFormAttributes. Values are written in the schema's
// {"value": …} form (the spec's example shows bare values instead).
type formAttrs struct {
	FormSubmission struct {
		Values map[string]formValue `json:"values"`
	} `json:"formSubmission"`
	Direction string   `json:"direction"`
	Content   *content `json:"content,omitempty"`
	Type      string   `json:"_type"`
}

// formValue is a Text (string) or Select ([]string) answer.
type formValue struct {
	Value any `json:"value"`
}
