package handlers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/agents"
	"github.com/example/dixa-console/web/conversation"
)

// message builds the view of the i-th message of th: its author named, its
// text as plain text (cut unless whole), its email head, files by name.
func (h *Conversations) message(cr convRequest, th conversation.Thread, i int, names map[string]agents.Person, customer string, whole bool) views.Message {
	m := th.Messages[i]
	a := m.Attributes
	v := views.Message{
		ID: m.ID, Direction: a.Direction, Kind: messageKind(a.Type), Created: m.CreatedAt.Time,
		Automated: a.IsAutomated,
	}
	// The id goes into element ids and URLs: one that is not a plain token
	// gets a local one, and no link to the whole text.
	linkable := conversation.ValidMessageID(m.ID)
	if !linkable {
		v.ID = "n" + strconv.Itoa(i)
	}
	if isRequester(th.Conversation, m) {
		v.Author = views.AgentRef{ID: m.AuthorID, Name: customer, Customer: true}
	} else {
		v.Author = agentRef(names, m.AuthorID)
	}
	if body := a.Body(); body != nil {
		v.Text, v.FromHTML = conversation.Text(*body), body.IsHTML()
		if !whole {
			size := len(v.Text)
			if v.Text, v.Cut = conversation.Cut(v.Text, conversation.BodyShown); v.Cut && linkable {
				v.Size = humanBytes(int64(size))
				v.FullURL = "/endusers/" + cr.userID + "/conversations/" + strconv.FormatInt(cr.id, 10) + "/messages/" + m.ID
			}
		}
	}
	if e := a.Email; e != nil {
		v.Email = emailView(e, th.Conversation.Subject)
		v.AutoReply, v.Failure, v.InlineImages = e.IsAutoReply, conversation.Clean(e.DeliveryFailureReason), len(e.InlineImages)
	}
	if f := a.TooLarge(); f != nil {
		v.TooLarge = fileName(*f, "Large Email Content")
	}
	for _, f := range a.Attachments {
		v.Attachments = append(v.Attachments, views.File{Name: fileName(f, "(a file without a name)")})
	}
	if p := a.Phone; p != nil {
		v.Call = callText(p.From, p.To, p.Duration)
	}
	v.Recording = a.Recording != nil
	if a.Form != nil {
		v.Form, v.Attachments = formView(a.Form, v.Attachments)
	}
	return v
}

// emailView is an email's head: the conversation's subject (Dixa's
// messages have none of their own), from, to, cc, and how many in bcc.
func emailView(e *apiclient.EmailMessage, subject string) *views.Email {
	v := &views.Email{Subject: conversation.Clean(subject), From: contact(e.From), Bcc: len(e.Bcc)}
	for _, c := range e.To {
		v.To = append(v.To, contact(c))
	}
	for _, c := range e.Cc {
		v.Cc = append(v.Cc, contact(c))
	}
	return v
}

// contact writes an address as mail clients do: Name <address>.
func contact(c apiclient.EmailContact) string {
	name, addr := strings.TrimSpace(c.Name), strings.TrimSpace(c.Email)
	switch {
	case name == "":
		return conversation.Clean(addr)
	case addr == "":
		return conversation.Clean(name)
	}
	return conversation.Clean(name + " <" + addr + ">")
}

// fileName is a file's name to show; Dixa's link to it is never used.
func fileName(f apiclient.File, unnamed string) string {
	if n := strings.TrimSpace(f.PrettyName); n != "" {
		return conversation.Clean(n)
	}
	return unnamed
}

// formView lists a form's answers by label; uploaded files join the
// attachments, with their size.
func formView(f *apiclient.FormSubmission, files []views.File) ([]views.Prop, []views.File) {
	labels := make([]string, 0, len(f.Values))
	for k := range f.Values {
		labels = append(labels, k)
	}
	slices.Sort(labels)
	var props []views.Prop
	for _, k := range labels {
		val := f.Values[k]
		if val.Type == apiclient.FormAttachments {
			for _, fm := range val.Files {
				files = append(files, views.File{Name: conversation.Clean(fm.Name), Size: humanBytes(fm.BytesLength)})
			}
			continue
		}
		props = append(props, views.Prop{Label: conversation.Clean(k), Values: []string{conversation.Clean(val.String())}})
	}
	return props, files
}

// callText describes a phone call.
func callText(from, to string, seconds int32) string {
	s := "Call"
	if from != "" {
		s += " from " + conversation.Clean(from)
	}
	if to != "" {
		s += " to " + conversation.Clean(to)
	}
	if seconds > 0 {
		s += fmt.Sprintf(", %d min %02d s", seconds/60, seconds%60)
	}
	return s + "."
}

// messageKind names a message's kind for people.
func messageKind(t string) string {
	switch t {
	case apiclient.MsgEmail:
		return "Email"
	case apiclient.MsgContactForm:
		return "Contact form"
	case apiclient.MsgChat:
		return "Chat"
	case apiclient.MsgPhone:
		return "Phone call"
	case apiclient.MsgCallRecording:
		return "Call recording"
	case apiclient.MsgSms:
		return "SMS"
	case apiclient.MsgWhatsApp:
		return "WhatsApp"
	case apiclient.MsgFacebookMessenger:
		return "Facebook Messenger"
	case apiclient.MsgTwitter:
		return "Twitter"
	case apiclient.MsgMessengerForm:
		return "Messenger form"
	case apiclient.MsgTranscript:
		return "Call transcript"
	}
	return "Message"
}

// humanBytes writes a size as people read it: 512 bytes, 12 KB, 1.0 MB.
func humanBytes(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 1000:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1000*1000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
