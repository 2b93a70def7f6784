package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"testing/synctest"
	"time"
)

// specMessages are the vendor's examples of GET /conversations/{id}/messages,
// one of each kind (the messenger form's HTML shortened), plus a transcript
// line and an unknown kind.
const specMessages = `{"data":[
{"id":"11b95893-0514-4606-a5d8-1880172b3a55","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","externalId":"13244","createdAt":"2021-12-01T12:46:36.581Z[GMT]",
 "attributes":{"emailContent":{"content":{"value":"Hello, this is a regular email content","_type":"Text"},"_type":"Regular"},
  "from":{"email":"some-help@email.dixa.io","name":"Help"},"to":[{"email":"someone@somecompany.com","name":"Some One"}],"cc":[],"bcc":[],
  "isAutoReply":false,"inlineImages":[],"attachments":[{"url":"https://files.dixa.io/private/something/attachment/attachment-1","prettyName":"Picture"}],
  "direction":"Outbound","originalContentUrl":{"url":"https://files.dixa.io/private/something/email_original_data/a1b2c3d4"},"_type":"EmailAttributes"}},
{"id":"12c95893-0514-4606-a5d8-1880172b3a56","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","externalId":"13245","createdAt":"2021-12-01T12:47:36.581Z[GMT]",
 "attributes":{"emailContent":{"file":{"url":"https://files.dixa.io/private/something/email_stripped_content/large-email-content","prettyName":"Large Email Content"},"_type":"TooLarge"},
  "from":{"email":"some-help@email.dixa.io","name":"Help"},"to":[{"email":"someone@somecompany.com","name":"Some One"}],
  "cc":[{"email":"manager@somecompany.com","name":"Manager"}],"bcc":[{"email":"archive@somecompany.com"}],"isAutoReply":false,"inlineImages":[],
  "attachments":[{"url":"https://files.dixa.io/a/2","prettyName":"Large Document"},{"url":"https://files.dixa.io/a/3","prettyName":"Spreadsheet"}],
  "direction":"Inbound","originalContentUrl":{"url":"https://files.dixa.io/private/something/email_original_data/b2c3d4e5"},"_type":"EmailAttributes"}},
{"id":"22b95893-0514-4606-a5d8-1880172b3a56","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","externalId":"13245","createdAt":"2021-12-01T12:47:36.581Z[GMT]",
 "attributes":{"content":{"value":"How can I help you?","_type":"Text"},"direction":"Outbound","attachments":[],"isAutomated":true,"_type":"ChatAttributes"}},
{"id":"33b95893-0514-4606-a5d8-1880172b3a57","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","externalId":"13246","createdAt":"2021-12-01T12:48:36.581Z[GMT]",
 "attributes":{"emailContent":{"content":{"value":"Contact form submission","_type":"Text"},"_type":"Regular"},"from":{"email":"contact@example.com","name":"Contact Form"},
  "replyDefaultToEmails":[{"email":"support@company.com","name":"Support"}],"to":[{"email":"support@company.com","name":"Support"}],"cc":[],"bcc":[],
  "isAutoReply":false,"inlineImages":[],"attachments":[],"direction":"Inbound","_type":"ContactFormAttributes"}},
{"id":"44b95893-0514-4606-a5d8-1880172b3a58","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","externalId":"13247","createdAt":"2021-12-01T12:49:36.581Z[GMT]",
 "attributes":{"formSubmission":{"values":{"Interests":["Product A"],"Name":"John Doe","Upload":{"value":[{"url":"https://files.dixa.io/f/1","name":"cv.pdf",
  "mediaType":{"primary":"application","sub":"pdf"},"bytesLength":1234,"checksum":{"algorithm":"SHA-256","hex":"ab"}}]},"Size":{"value":["XL"]},"Note":{"value":"hi"}}},
  "direction":"Inbound","content":{"value":"<form class=\"dixa-custom-form-submission\"></form>","_type":"Html"},"_type":"MessengerFormAttributes"}},
{"id":"55b95893-0514-4606-a5d8-1880172b3a59","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","externalId":"13248","createdAt":"2021-12-01T12:50:36.581Z[GMT]",
 "attributes":{"from":"+1234567890","to":987654321,"direction":"Outbound","duration":120,"_type":"PhoneAttributes"}},
{"id":"66b95893-0514-4606-a5d8-1880172b3a60","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","externalId":"13249","createdAt":"2021-12-01T12:51:36.581Z[GMT]",
 "attributes":{"duration":180,"recording":"https://files.dixa.io/private/something/recording/call-1","_type":"CallRecordingAttributes"}},
{"id":"77b95893-0514-4606-a5d8-1880172b3a61","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","externalId":"13250","createdAt":"2021-12-01T12:52:36.581Z[GMT]",
 "attributes":{"content":{"value":"SMS message content","_type":"Text"},"direction":"Inbound","attachments":[],"_type":"SmsAttributes"}},
{"id":"88b95893-0514-4606-a5d8-1880172b3a62","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","createdAt":"2021-12-01T12:53:36.581Z[GMT]",
 "attributes":{"content":{"value":"Hello dear **customer**","_type":"Markdown"},"direction":"Outbound","attachments":[{"url":"https://files.dixa.io/w/1"}],"_type":"WhatsAppAttributes"}},
{"id":"99b95893-0514-4606-a5d8-1880172b3a63","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","createdAt":"2021-12-01T12:54:36.581Z[GMT]",
 "attributes":{"content":{"value":"Thanks for calling","_type":"Text"},"utterance_start_ms":1500,"utterance_end_ms":3200,"direction":"Outbound","_type":"TranscriptAttributes"}},
{"id":"aab95893-0514-4606-a5d8-1880172b3a64","authorId":"41646d42-edc0-493e-ac7b-814d9ff40a2e","createdAt":"2021-12-01T12:55:36.581Z[GMT]",
 "attributes":{"hologram":{"depth":3},"direction":"Inbound","_type":"HologramAttributes"}}
]}`

func TestMessageKinds(t *testing.T) {
	c := newMemClient(t, newRecorder(ok(specMessages)))
	msgs, err := c.ListConversationMessages(t.Context(), 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 11 {
		t.Fatalf("got %d messages, want 11", len(msgs))
	}
	check := func(i int, kind string, ok bool) {
		t.Helper()
		if a := msgs[i].Attributes; a.Type != kind || !ok {
			t.Errorf("message %d: got %+v", i, a)
		}
	}
	email := msgs[0].Attributes
	check(0, MsgEmail, email.Email != nil && email.Email.From.Name == "Help" && len(email.Email.To) == 1 &&
		email.Body().Value == "Hello, this is a regular email content" && email.TooLarge() == nil &&
		len(email.Attachments) == 1 && email.Attachments[0].PrettyName == "Picture" &&
		email.Email.OriginalContentURL != nil && email.Direction == DirectionOutbound)
	large := msgs[1].Attributes
	check(1, MsgEmail, large.Body() == nil && large.TooLarge() != nil && large.TooLarge().PrettyName == "Large Email Content" &&
		len(large.Email.Cc) == 1 && large.Email.Bcc[0].Email == "archive@somecompany.com" && len(large.Attachments) == 2)
	check(2, MsgChat, msgs[2].Attributes.IsAutomated && msgs[2].Attributes.Body().Type == ContentText)
	form := msgs[3].Attributes
	check(3, MsgContactForm, form.Email != nil && len(form.Email.ReplyDefaultTo) == 1 && form.Body().Value == "Contact form submission")
	mf := msgs[4].Attributes
	check(4, MsgMessengerForm, mf.Form != nil && mf.Content.IsHTML() &&
		mf.Form.Values["Name"].Text == "John Doe" && mf.Form.Values["Interests"].String() == "Product A" &&
		mf.Form.Values["Upload"].Type == FormAttachments && mf.Form.Values["Upload"].Files[0].BytesLength == 1234 &&
		mf.Form.Values["Upload"].Files[0].MediaType.String() == "application/pdf" &&
		mf.Form.Values["Size"].Type == FormSelect && mf.Form.Values["Note"].Text == "hi")
	check(5, MsgPhone, msgs[5].Attributes.Phone != nil && *msgs[5].Attributes.Phone == PhoneCall{From: "+1234567890", To: "987654321", Duration: 120} &&
		msgs[5].Attributes.Body() == nil)
	check(6, MsgCallRecording, msgs[6].Attributes.Recording != nil && msgs[6].Attributes.Recording.Duration == 180)
	check(7, MsgSms, msgs[7].Attributes.Body().Value == "SMS message content")
	check(8, MsgWhatsApp, msgs[8].Attributes.Body().Type == ContentMarkdown && msgs[8].ExternalID == "")
	check(9, MsgTranscript, msgs[9].Attributes.Transcript != nil && *msgs[9].Attributes.Transcript == Utterance{1500, 3200})
	check(10, "HologramAttributes", msgs[10].Attributes.Direction == DirectionInbound && len(msgs[10].Attributes.Raw) > 0)

	// Encoding gives back what was decoded (the call's `to` as a string).
	for i, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("message %d: marshal: %v", i, err)
		}
		var again Message
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("message %d: unmarshal %s: %v", i, b, err)
		}
		m.Attributes.Raw, again.Attributes.Raw = nil, nil
		if !reflect.DeepEqual(normalize(m), normalize(again)) {
			t.Errorf("message %d: round trip\n got %+v\nwant %+v", i, again.Attributes, m.Attributes)
		}
	}
}

// normalize maps empty lists to nil, as encoding omits them.
func normalize(m Message) Message {
	a := &m.Attributes
	if len(a.Attachments) == 0 {
		a.Attachments = nil
	}
	if e := a.Email; e != nil {
		cp := *e
		for _, l := range []*[]EmailContact{&cp.To, &cp.Cc, &cp.Bcc, &cp.ReplyDefaultTo} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		if len(cp.InlineImages) == 0 {
			cp.InlineImages = nil
		}
		a.Email = &cp
	}
	return m
}

func TestFormValue(t *testing.T) {
	tests := []struct {
		in   string
		want FormValue
	}{
		{`"x"`, FormValue{Type: FormText, Text: "x"}},
		{`["a","b"]`, FormValue{Type: FormSelect, Select: []string{"a", "b"}}},
		{`{"value":"x"}`, FormValue{Type: FormText, Text: "x"}},
		{`{"value":[]}`, FormValue{Type: FormSelect, Select: []string{}}},
		{`{"_type":"Attachments","value":[]}`, FormValue{Type: FormAttachments, Files: []FileMeta{}}},
		{`{"_type":"Select"}`, FormValue{Type: FormSelect}},
		{`{}`, FormValue{Type: FormText}},
	}
	for _, tt := range tests {
		var got FormValue
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{`1`, `{"value":1}`, `[1]`} {
		var v FormValue
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: got %+v, want an error", bad, v)
		}
	}
}

// The conversation calls are GETs: retried after a 5xx like the others.
func TestConversationCallsRetried(t *testing.T) {
	calls := map[string]func(ctx context.Context, c *Client) error{
		"conversation": func(ctx context.Context, c *Client) error { _, err := c.GetConversation(ctx, 1); return err },
		"messages":     func(ctx context.Context, c *Client) error { _, err := c.ListConversationMessages(ctx, 1); return err },
		"notes":        func(ctx context.Context, c *Client) error { _, err := c.ListConversationNotes(ctx, 1); return err },
		"tags":         func(ctx context.Context, c *Client) error { _, err := c.ListConversationTags(ctx, 1); return err },
		"agents": func(ctx context.Context, c *Client) error {
			_, err := c.ListAgents(ctx, AgentListOptions{})
			return err
		},
		"agent": func(ctx context.Context, c *Client) error { _, err := c.GetAgent(ctx, userID); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder(status(500, `{"message":"x"}`), ok(`{"data":{"id":"`+userID+`"}}`))
				switch name {
				case "conversation":
					rec = newRecorder(status(502, ``), ok(`{"data":{"id":1}}`))
				case "messages", "notes", "tags", "agents":
					rec = newRecorder(status(503, ``), ok(`{"data":[]}`))
				}
				c := newMemClient(t, rec, WithTimeout(time.Second), WithMaxWait(time.Minute))
				if err := call(t.Context(), c); err != nil {
					t.Fatalf("got %v, want success after a retry", err)
				}
				if n := rec.count(); n != 2 {
					t.Errorf("got %d calls, want 2", n)
				}
			})
		})
	}
	rec := newRecorder(status(404, `{"message":"The requested resource could not be found"}`))
	c := newMemClient(t, rec)
	if _, err := c.GetAgent(t.Context(), userID); !errors.Is(err, ErrNotFound) || rec.count() != 1 {
		t.Errorf("got %v after %d calls for a deleted agent, want ErrNotFound after 1", err, rec.count())
	}
}

func TestAgentsIterator(t *testing.T) {
	agent := func(id string) string {
		return `{"id":"` + id + `","createdAt":"2020-12-16T09:41:43Z","displayName":"A","email":"a@example.org"}`
	}
	rec := newRecorder(
		ok(`{"data":[`+agent(userID)+`],"meta":{"next":"/v1/agents?pageKey=p2"}}`),
		ok(`{"data":[`+agent(userID2)+`],"meta":{"previous":"/v1/agents?pageKey=p1"}}`),
	)
	c := newMemClient(t, rec)
	var ids []string
	for a, err := range c.Agents(t.Context(), AgentListOptions{PageLimit: 1, Email: "a@example.org"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	reqs := rec.requests()
	if len(ids) != 2 || ids[1] != userID2 || len(reqs) != 2 || reqs[1].RawQuery != "email=a%40example.org&pageKey=p2&pageLimit=1" {
		t.Errorf("got %v from %d requests (second %q)", ids, len(reqs), reqs[len(reqs)-1].RawQuery)
	}
}
