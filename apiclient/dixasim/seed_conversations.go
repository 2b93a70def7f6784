package dixasim

import (
	"fmt"
	"html"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/google/uuid"
)

// A conversation's messages, notes, tags and custom attributes are not
// stored: they are generated when asked for, from the simulator's seed and
// the conversation's id, so seeding stays fast and the answers are the same
// every time. Once a conversation is anonymized the same content comes back
// blanked.

// DemoConversation names a well-known demo conversation; Sim.DemoConversationID
// returns its id.
type DemoConversation string

const (
	// DemoHugeMessage is DemoBusyUserID's first email conversation: a body of
	// about 1 MB, a body Dixa reports as TooLarge, then quoted replies.
	DemoHugeMessage DemoConversation = "huge-message"
	// DemoHostileEmail is DemoScriptUserID's email conversation: HTML with
	// scripts, styles, javascript: links, forms and bidi overrides,
	// attachments with hostile names and links, hostile notes and tags.
	DemoHostileEmail DemoConversation = "hostile-email"
	// DemoRTLChat is DemoQuotesRTLUserID's first chat: Arabic and Hebrew,
	// mixed with left-to-right text and a right-to-left override.
	DemoRTLChat DemoConversation = "rtl-chat"
)

// convSource is what a conversation's content is generated from: its kind
// and its requester as seeded. Copies of a conversation share it read-only.
type convSource struct {
	kind  string
	loc   *locale
	name  string // the requester's display name
	first string // the requester's first name, for greetings
	email string
	phone string
	agent string // the assignee as seeded ("" when none)
	demo  DemoConversation
}

// newSource records u as the requester of c. Sources are allocated in
// slabs: there is one per seeded conversation.
func (g *gen) newSource(c *wireConversation, u *user, loc *locale) *convSource {
	if len(g.sources) == 0 {
		g.sources = make([]convSource, 1024)
	}
	s := &g.sources[0]
	g.sources = g.sources[1:]
	first := u.FirstName
	if first == "" {
		first, _, _ = strings.Cut(u.DisplayName, " ")
	}
	*s = convSource{kind: c.Type, loc: loc, name: u.DisplayName, first: first, email: u.Email, phone: u.PhoneNumber}
	if c.Assignment != nil {
		s.agent = c.Assignment.AgentID
	}
	return s
}

// Salts separate the random streams of a conversation's parts.
const (
	saltMessages uint64 = 0x6d657373
	saltNotes    uint64 = 0x6e6f7465
	saltTags     uint64 = 0x74616773
	saltAttrs    uint64 = 0x61747472
)

func (st *store) rngFor(id int64, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(st.seed)^salt, uint64(id)))
}

// randomID returns a version 4 uuid drawn from r.
func randomID(r *rand.Rand) string {
	var u uuid.UUID
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			u[i+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// filesBase is where Dixa keeps the organisation's files.
const filesBase = "https://files.dixa.example/private/" + OrgID

// thread generates one conversation's messages.
type thread struct {
	st    *store
	r     *rand.Rand
	c     wireConversation
	src   *convSource
	ph    *phrases
	agent string // who answers
	order string
	msgs  []wireMessage
}

func (st *store) newThread(c wireConversation) *thread {
	src := c.src
	if src == nil {
		src = &convSource{kind: c.Type}
	}
	t := &thread{st: st, r: st.rngFor(c.ID, saltMessages), c: c, src: src, ph: phrasebook["en"], agent: src.agent}
	if src.loc != nil && phrasebook[src.loc.lang] != nil {
		t.ph = phrasebook[src.loc.lang]
	}
	if t.agent == "" {
		t.agent = pick(t.r, st.humans)
	}
	t.order = strconv.Itoa(100000 + t.r.IntN(900000))
	return t
}

// fill replaces the placeholders of a phrase.
func (t *thread) fill(s string, date time.Time) string {
	return strings.NewReplacer("{name}", t.src.first, "{order}", t.order, "{agent}", t.st.agentName(t.agent),
		"{date}", date.UTC().Format("2006-01-02 15:04")).Replace(s)
}

// timeline returns n increasing times: the first within half a minute of
// the conversation's start (its first message starts it), the others apart
// by gaps drawn from [lo, hi), squeezed to end by its last state change.
func (t *thread) timeline(n int, lo, hi time.Duration) []time.Time {
	start := t.c.CreatedAt.Time
	end := start.Add(time.Duration(n) * hi)
	if u := t.c.StateUpdatedAt; u != nil && u.After(start) {
		end = u.Time
	}
	gaps := make([]time.Duration, n)
	var sum time.Duration
	for i := range gaps {
		gaps[i] = lo + time.Duration(t.r.Int64N(int64(hi-lo)))
		if i == 0 {
			gaps[i] = time.Duration(1+t.r.IntN(30)) * time.Second
		}
		sum += gaps[i]
	}
	scale := min(1, float64(end.Sub(start))/float64(sum))
	out := make([]time.Time, n)
	at := start
	for i, g := range gaps {
		at = at.Add(max(time.Duration(float64(g)*scale), time.Second))
		out[i] = at.Add(time.Duration(t.r.IntN(1000)) * time.Millisecond)
	}
	return out
}

// add appends a message; author "" means the requester.
func (t *thread) add(author string, at time.Time, externalID string, attrs any) {
	if author == "" {
		author = t.c.RequesterID
	}
	t.msgs = append(t.msgs, wireMessage{
		ID: randomID(t.r), AuthorID: author, ExternalID: externalID,
		CreatedAt: apiclient.ZonedTime{Time: at.UTC().Truncate(time.Millisecond)}, Attributes: attrs,
	})
}

func (t *thread) file(kind, name string) file {
	return file{URL: filesBase + "/" + kind + "/" + randomID(t.r), PrettyName: name}
}

// messages generates the conversation's messages, oldest first.
func (st *store) messages(c wireConversation) []wireMessage {
	t := st.newThread(c)
	switch t.src.kind {
	case apiclient.ConvEmail:
		t.email(false)
	case apiclient.ConvContactForm:
		t.email(true)
	case apiclient.ConvPstnPhone:
		t.call()
	case apiclient.ConvMessenger:
		t.chat(apiclient.MsgChat, true)
	case apiclient.ConvChat:
		t.chat(apiclient.MsgChat, false)
	case apiclient.ConvFacebookMessenger:
		t.chat(apiclient.MsgFacebookMessenger, false)
	case apiclient.ConvTwitter:
		t.chat(apiclient.MsgTwitter, false)
	case apiclient.ConvWhatsApp:
		t.chat(apiclient.MsgWhatsApp, false)
	case apiclient.ConvSms:
		t.chat(apiclient.MsgSms, false)
	default:
		t.chat(apiclient.MsgGeneric, false)
	}
	if c.Type == apiclient.ConvAnonymized {
		for i := range t.msgs {
			t.msgs[i].Attributes = blank(t.msgs[i].Attributes)
			t.msgs[i].ExternalID = ""
		}
	}
	return t.msgs
}

// emailLine is the text of the i-th email of a thread.
func (t *thread) emailLine(i int, inbound bool, at time.Time) string {
	p := t.ph
	switch {
	case i == 0 && inbound:
		return t.fill(pick(t.r, p.problems), at)
	case inbound:
		return t.fill(pick(t.r, slices.Concat(p.follow, p.thanks)), at)
	}
	return t.fill(p.hello+"\n\n"+pick(t.r, p.answers)+"\n\n"+p.bye, at)
}

// quote renders a previous email below a reply, "> "-prefixed.
func quote(header, body string) string {
	return header + "\n> " + strings.ReplaceAll(body, "\n", "\n> ")
}

// htmlBody renders an email as HTML, the quote as a blockquote.
func htmlBody(text, header, quoted string) string {
	var b strings.Builder
	b.WriteString(`<html><body style="font-family:Arial,sans-serif">`)
	for para := range strings.SplitSeq(text, "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(para), "\n", "<br>") + "</p>")
	}
	if quoted != "" {
		b.WriteString(`<div class="gmail_quote">` + html.EscapeString(header) + `<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">`)
		b.WriteString(strings.ReplaceAll(html.EscapeString(quoted), "\n", "<br>") + "</blockquote></div>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

// email generates an email thread: alternating customer and agent mails,
// each reply quoting the one before.
func (t *thread) email(contactForm bool) {
	n := 2 + t.r.IntN(5)
	if t.src.demo != "" {
		n = max(n, 4)
	}
	times := t.timeline(n, 10*time.Minute, 20*time.Hour)
	customer := contact{Email: firstNonEmpty(t.src.email, t.c.FromEmail), Name: t.src.name}
	support := contact{Email: supportEmail, Name: "Nordlys Support"}
	inbound := t.c.Direction != apiclient.DirectionOutbound
	var prevText, prevName string
	for i, at := range times {
		if i > 0 {
			inbound = !inbound
		}
		a := emailAttrs{Type: apiclient.MsgEmail, Direction: apiclient.DirectionOutbound, From: support, To: []contact{customer},
			Cc: []contact{}, Bcc: []contact{}, InlineImages: []file{}, Attachments: []file{}}
		author, text := t.agent, t.emailLine(i, inbound, at)
		if inbound {
			a.Direction, a.From, a.To = apiclient.DirectionInbound, customer, []contact{support}
			a.OriginalContentURL = &file{URL: filesBase + "/email_original_data/" + randomID(t.r)}
			author = ""
		}
		if i == 1 && !inbound && t.r.IntN(10) < 3 {
			a.IsAutoReply, author, text = true, t.st.bot, t.fill(t.ph.autoReply, at)
		}
		t.decorate(&a, i, inbound)
		header := ""
		if prevText != "" {
			header = t.fill(strings.ReplaceAll(t.ph.wrote, "{name}", prevName), times[i-1])
		}
		body := &content{Type: apiclient.ContentText, Value: text}
		switch {
		case t.r.IntN(10) < 3:
			body = &content{Type: apiclient.ContentHTML, Value: htmlBody(text, header, prevText)}
		case prevText != "":
			body.Value += "\n\n" + quote(header, prevText)
		}
		a.EmailContent = &emailContent{Type: apiclient.EmailRegular, Content: body}
		if contactForm && i == 0 && inbound {
			t.contactForm(&a, text)
		}
		t.demoEmail(&a, i)
		prevText, prevName = text, a.From.Name
		t.add(author, at, "<"+randomID(t.r)+"@"+domainOf(a.From.Email)+">", a)
	}
}

// decorate adds what some emails have: a colleague in cc, attachments, the
// company logo inline, an archive bcc, a bounce.
func (t *thread) decorate(a *emailAttrs, i int, inbound bool) {
	switch {
	case inbound && i == 0 && t.r.IntN(5) == 0:
		a.Cc = []contact{{Email: "kollega@" + pick(t.r, businessDomains)}}
	case !inbound && t.r.IntN(10) == 0:
		a.Bcc = []contact{{Email: "archive@nordlys-shop.example"}}
	}
	if inbound && t.r.IntN(4) == 0 {
		for range 1 + t.r.IntN(2) {
			a.Attachments = append(a.Attachments, t.file("attachment", t.fill(pick(t.r, attachmentNames), time.Time{})))
		}
	}
	if !inbound && t.r.IntN(5) == 0 {
		a.InlineImages = []file{t.file("inline", "nordlys-logo.png")}
	}
	if !inbound && t.r.IntN(40) == 0 {
		a.DeliveryFailureReason = "550 5.1.1 The email account that you tried to reach does not exist."
	}
}

// contactForm turns the first email into the web form's submission.
func (t *thread) contactForm(a *emailAttrs, text string) {
	a.Type = apiclient.MsgContactForm
	a.To = []contact{{Email: contactFormEmail, Name: "Nordlys Kontakt"}}
	a.ReplyDefaultToEmails = []contact{a.From}
	a.OriginalContentURL = nil
	a.EmailContent.Content = &content{Type: apiclient.ContentText,
		Value: "Name: " + t.src.name + "\nEmail: " + a.From.Email + "\nOrder: " + t.order + "\n\nMessage:\n" + text}
}

func domainOf(email string) string {
	if _, d, ok := strings.Cut(email, "@"); ok && d != "" {
		return d
	}
	return "mail.example"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// chat generates a chat-like exchange of the given attributes kind; with
// form, a messenger form submission opens it.
func (t *thread) chat(kind string, form bool) {
	p := t.ph
	answer := t.r.IntN(len(p.answers))
	lines := []struct {
		agent bool
		text  string
	}{
		{false, pick(t.r, p.problems)}, {true, p.hello + "\n" + p.answers[answer]},
		{false, pick(t.r, p.follow)}, {true, p.answers[(answer+1)%len(p.answers)]},
		{false, pick(t.r, p.thanks)}, {true, strings.ReplaceAll(p.bye, "\n\n", "\n")},
	}
	if t.src.demo == "" {
		lines = lines[:2+t.r.IntN(5)]
	}
	bot := kind == apiclient.MsgChat && !form && t.r.IntN(2) == 0
	n := len(lines) + b2i(bot) + b2i(form)
	times := t.timeline(n, 10*time.Second, 4*time.Minute)
	if form {
		t.form(times[0])
		times = times[1:]
	}
	if bot {
		yes := true
		t.add(t.st.bot, times[0], "", textAttrs{Type: kind, Direction: apiclient.DirectionOutbound,
			Content: &content{Type: apiclient.ContentText, Value: p.bot}, Attachments: []file{}, IsAutomated: &yes})
		times = times[1:]
	}
	for i, l := range lines {
		a := textAttrs{Type: kind, Direction: apiclient.DirectionInbound, Attachments: []file{},
			Content: &content{Type: apiclient.ContentText, Value: t.fill(l.text, times[i])}}
		author := ""
		if l.agent {
			a.Direction, author = apiclient.DirectionOutbound, t.agent
			if kind == apiclient.MsgWhatsApp {
				a.Content = &content{Type: apiclient.ContentMarkdown, Value: "**Nordlys** – " + a.Content.Value}
			}
		} else if i == 0 && t.r.IntN(8) == 0 {
			a.Attachments = append(a.Attachments, t.file("attachment", "screenshot.png"))
		}
		if kind == apiclient.MsgChat {
			no := false
			a.IsAutomated = &no
		}
		t.demoChat(&a, i)
		t.add(author, times[i], "", a)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// form adds the messenger form the customer filled in first.
func (t *thread) form(at time.Time) {
	a := formAttrs{Type: apiclient.MsgMessengerForm, Direction: apiclient.DirectionInbound}
	msg := t.fill(pick(t.r, t.ph.problems), at)
	a.FormSubmission.Values = map[string]formValue{
		"Name":    {t.src.name},
		"Email":   {t.src.email},
		"Order":   {t.order},
		"Topic":   {[]string{pick(t.r, []string{"Delivery", "Returns", "Payment"})}},
		"Message": {msg},
	}
	var b strings.Builder
	b.WriteString(`<form class="dixa-custom-form-submission"><fieldset><legend class="dixa-custom-form-title">Contact us</legend>`)
	for _, k := range []string{"Name", "Email", "Order", "Message"} {
		fmt.Fprintf(&b, `<div class="dixa-custom-form-field"><label class="dixa-custom-form-field-label">%s<br/></label><div class="dixa-custom-form-field-value">%s</div></div>`,
			k, html.EscapeString(fmt.Sprint(a.FormSubmission.Values[k].Value)))
	}
	b.WriteString("</fieldset></form>")
	a.Content = &content{Type: apiclient.ContentHTML, Value: b.String()}
	t.add("", at, "", a)
}

// call generates a phone call: the call, its recording and, for some, a
// transcript. Voicemails have no transcript; callbacks are outbound.
func (t *thread) call() {
	inbound := t.c.Channel != "Callback" && t.c.Direction != apiclient.DirectionOutbound
	secs := int32(20 + t.r.IntN(900))
	if t.c.Channel == "Voicemail" {
		inbound, secs = true, int32(5+t.r.IntN(90))
	}
	lines := 0
	if t.c.Channel != "Voicemail" && t.r.IntN(2) == 0 {
		lines = 2 + t.r.IntN(3)
	}
	times := t.timeline(2+lines, time.Second, 3*time.Second)
	customer := firstNonEmpty(t.src.phone, t.c.FromNumber)
	if customer == "" {
		customer = "+4520000000"
	}
	call := phoneAttrs{Type: apiclient.MsgPhone, From: customer, To: companyNumber, Direction: apiclient.DirectionInbound, Duration: secs}
	caller := ""
	if !inbound {
		call.From, call.To, call.Direction, caller = companyNumber, customer, apiclient.DirectionOutbound, t.agent
	}
	t.add(caller, times[0], "", call)
	recorder := t.agent
	if t.c.Channel == "Voicemail" {
		recorder = ""
	}
	t.add(recorder, times[1], "", recordingAttrs{Type: apiclient.MsgCallRecording, Duration: secs,
		Recording: filesBase + "/recording/" + randomID(t.r)})
	var ms int64
	for i := range lines {
		agent := i%2 == 1
		text := pick(t.r, t.ph.problems)
		if agent {
			text = pick(t.r, t.ph.answers)
		}
		a := transcriptAttrs{Type: apiclient.MsgTranscript, Direction: apiclient.DirectionInbound,
			Content: &content{Type: apiclient.ContentText, Value: t.fill(text, times[i])}, UtteranceStartMs: ms}
		ms += int64(2000 + t.r.IntN(8000))
		a.UtteranceEndMs = ms
		author := ""
		if agent {
			a.Direction, author = apiclient.DirectionOutbound, t.agent
		}
		t.add(author, times[2+i], "", a)
	}
}

// blank is what is left of a message's attributes once its conversation is
// anonymized: the kind, the direction and the times; no text, no address,
// no file. What Dixa leaves is UNCONFIRMED.
func blank(attrs any) any {
	empty := &content{Type: apiclient.ContentText, Value: ""}
	switch a := attrs.(type) {
	case emailAttrs:
		b := emailAttrs{Type: a.Type, Direction: a.Direction, IsAutoReply: a.IsAutoReply,
			EmailContent: &emailContent{Type: apiclient.EmailRegular, Content: empty}}
		b.To, b.Cc, b.Bcc, b.InlineImages, b.Attachments = []contact{}, []contact{}, []contact{}, []file{}, []file{}
		return b
	case textAttrs:
		a.Content, a.Attachments = empty, []file{}
		return a
	case phoneAttrs:
		a.From, a.To = "", ""
		return a
	case recordingAttrs:
		a.Recording = ""
		return a
	case transcriptAttrs:
		a.Content = empty
		return a
	case formAttrs:
		a.FormSubmission.Values = map[string]formValue{}
		a.Content = empty
		return a
	}
	return attrs
}

// notes generates the conversation's internal notes, oldest first: most
// conversations have none, some a few, by the assignee, a colleague or an
// agent who has since been deleted.
func (st *store) notes(c wireConversation) []wireNote {
	r := st.rngFor(c.ID, saltNotes)
	src := c.src
	if src == nil {
		src = &convSource{}
	}
	n := []int{0, 0, 0, 0, 0, 0, 1, 1, 2, 3}[r.IntN(10)]
	texts := noteTexts
	if src.demo == DemoHostileEmail {
		n, texts = len(hostileNotes), hostileNotes
	}
	start, end := c.CreatedAt.Time, c.CreatedAt.Add(72*time.Hour)
	if c.StateUpdatedAt != nil && c.StateUpdatedAt.After(start) {
		end = c.StateUpdatedAt.Time
	}
	out := make([]wireNote, n)
	for i := range out {
		author := firstNonEmpty(src.agent, pick(r, st.humans))
		switch r.IntN(10) {
		case 0:
			author = pick(r, st.deleted)
		case 1, 2:
			author = pick(r, st.humans)
		}
		at := start.Add(time.Duration(r.Int64N(int64(end.Sub(start)) + 1))).Truncate(time.Second)
		text := texts[i%len(texts)]
		if src.demo != DemoHostileEmail {
			text = strings.ReplaceAll(pick(r, texts), "{order}", strconv.Itoa(1000+r.IntN(9000)))
		}
		if c.Type == apiclient.ConvAnonymized {
			text = ""
		}
		out[i] = wireNote{ID: randomID(r), AuthorID: author, CreatedAt: apiclient.Time{Time: at}, CSID: c.ID, Message: text}
	}
	slices.SortStableFunc(out, func(a, b wireNote) int { return a.CreatedAt.Compare(b.CreatedAt.Time) })
	return out
}

// tags picks the conversation's tags from the catalogue; anonymization
// keeps them (they are metadata).
func (st *store) conversationTags(c wireConversation) []wireTag {
	r := st.rngFor(c.ID, saltTags)
	if c.src != nil && c.src.demo == DemoHostileEmail {
		return []wireTag{st.tags[hostileTag], st.tags[10], st.tags[4]}
	}
	n := []int{0, 0, 0, 0, 1, 1, 1, 1, 2, 3}[r.IntN(10)]
	out := []wireTag{}
	for _, i := range r.Perm(hostileTag)[:n] {
		out = append(out, st.tags[i])
	}
	return out
}

// conversationAttributes are the Conversation custom attribute values GET
// /conversations/{id} includes: a contact reason on most closed
// conversations, a parcel id on some. None once anonymized.
func (st *store) conversationAttributes(c wireConversation) []wireAttribute {
	out := []wireAttribute{}
	if c.Type == apiclient.ConvAnonymized {
		return out
	}
	r := st.rngFor(c.ID, saltAttrs)
	for _, d := range st.defs {
		switch {
		case d.Identifier == "contact_reason" && c.State == apiclient.StateClosed && r.IntN(10) < 7:
			o := pick(r, d.InputDefinition.Options)
			path := []string{o.Value}
			if len(o.NestedOptions) > 0 {
				path = append(path, pick(r, o.NestedOptions).Value)
			}
			out = append(out, wireAttribute{ID: d.ID, Name: d.Label, Identifier: d.Identifier, Value: path})
		case d.Identifier == "parcel_id" && r.IntN(10) < 3:
			out = append(out, wireAttribute{ID: d.ID, Name: d.Label, Identifier: d.Identifier, Value: "PCL" + strconv.Itoa(10000000+r.IntN(90000000))})
		}
	}
	return out
}
