package handlers

import (
	"context"
	"github.com/example/dixa-console/web/audit"
	"net/http"
	"strconv"
	"strings"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/agents"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/conversation"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// AgentNames names agents for display; *agents.Directory satisfies it.
type AgentNames interface {
	Names(ctx context.Context, ids ...string) map[string]agents.Person
}

// ActConversationViewed is the audit action of every view of a
// conversation's messages: who (the entry's actor) read which
// conversation, never what it says.
const ActConversationViewed = "conversation.viewed"

// Conversations serves a customer's conversations, read-only: the page of
// one conversation, the partial that opens it under its row on the
// profile, more of its earlier messages, and one message whole.
type Conversations struct {
	API    conversation.API
	Agents AgentNames
	// Audit records every view of messages; a view that cannot be recorded
	// is not shown. Nil: no log (tests without a store).
	Audit AuditLogger
	// DixaAppURL is Dixa's agent interface ("" for no links).
	DixaAppURL string
}

// convRequest is what a conversation URL names, checked before any call
// to Dixa.
type convRequest struct {
	userID string
	id     int64
	since  string
	// panel is set for the panel under the profile's row (its headings
	// sit lower).
	panel bool
}

// parse reads and checks the customer id, the conversation id and the
// since parameter; anything malformed is a 404 without calling Dixa.
func (h *Conversations) parse(w http.ResponseWriter, r *http.Request) (convRequest, bool) {
	if !allowed(w, r, h.Audit, role.Viewer) {
		return convRequest{}, false
	}
	userID, ok := pathID(r)
	if !ok {
		respond.Error(w, r, noSuchCustomer())
		return convRequest{}, false
	}
	id, ok := conversation.ParseID(r.PathValue("conversationId"))
	if !ok {
		respond.Error(w, r, conversation.NotFound())
		return convRequest{}, false
	}
	since := r.URL.Query().Get("since")
	if since != "" && !conversation.ValidMessageID(since) {
		respond.Error(w, r, respond.BadRequest("That link to earlier messages is not valid. Open the conversation again."))
		return convRequest{}, false
	}
	return convRequest{userID: userID, id: id, since: since, panel: r.URL.Query().Get("in") == "panel"}, true
}

// Show serves GET /endusers/{id}/conversations/{conversationId}[?since=]:
// the conversation, its newest messages (or those from message since on),
// its notes and tags, as a page or, for htmx, as the panel under its row.
// Four upstream calls in parallel; naming the agents costs none once the
// directory is read.
func (h *Conversations) Show(w http.ResponseWriter, r *http.Request) {
	cr, ok := h.parse(w, r)
	if !ok {
		return
	}
	th, err := conversation.Load(r.Context(), h.API, cr.userID, cr.id, conversation.All)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	start, ok := conversation.Window(th.Messages, cr.since)
	if !ok {
		respond.Error(w, r, respond.NotFound("That message is not in this conversation (any more). Open the conversation again."))
		return
	}
	panel := respond.IsFragment(r)
	cr.panel = panel
	v := h.view(r, cr, th, start)
	view := "page"
	if panel {
		v.Panel, v.Level, view = true, 3, "panel"
	}
	if !h.recordView(w, r, cr, view, len(v.Thread.Messages)) {
		return
	}
	if panel {
		respond.Fragment(w, r, http.StatusOK, views.ConversationPanel(v))
		return
	}
	respond.Page(w, r, http.StatusOK, "Conversation "+strconv.FormatInt(cr.id, 10), views.ConversationPage(v), respond.Section("endusers"))
}

// Messages serves GET /endusers/{id}/conversations/{conversationId}/messages?since=:
// for htmx, the list of messages from message since on (replacing the
// shorter one); otherwise the conversation's page showing them.
func (h *Conversations) Messages(w http.ResponseWriter, r *http.Request) {
	if !respond.IsFragment(r) {
		h.Show(w, r)
		return
	}
	cr, ok := h.parse(w, r)
	if !ok {
		return
	}
	th, err := conversation.Load(r.Context(), h.API, cr.userID, cr.id, conversation.Messages)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	start, ok := conversation.Window(th.Messages, cr.since)
	if !ok {
		respond.Error(w, r, respond.NotFound("That message is not in this conversation (any more). Open the conversation again."))
		return
	}
	t := h.thread(r, cr, th, start, h.names(r.Context(), th, start))
	t.FocusFirst = true
	if cr.panel {
		t.Level = 3
	}
	if !h.recordView(w, r, cr, "earlier", len(t.Messages)) {
		return
	}
	respond.Fragment(w, r, http.StatusOK, views.ThreadRegion(t))
}

// Message serves GET /endusers/{id}/conversations/{conversationId}/messages/{messageId}:
// one message with its whole text, for htmx in place of the cut one.
func (h *Conversations) Message(w http.ResponseWriter, r *http.Request) {
	cr, ok := h.parse(w, r)
	if !ok {
		return
	}
	mid := r.PathValue("messageId")
	if !conversation.ValidMessageID(mid) {
		respond.Error(w, r, respond.NotFound("There is no such message in this conversation."))
		return
	}
	th, err := conversation.Load(r.Context(), h.API, cr.userID, cr.id, conversation.Messages)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	i, ok := conversation.Window(th.Messages, mid)
	if !ok {
		respond.Error(w, r, respond.NotFound("There is no such message in this conversation."))
		return
	}
	names := lookupNames(r.Context(), h.Agents, th.Messages[i].AuthorID)
	m := h.message(cr, th, i, names, customerLabel(th), true)
	if !h.recordView(w, r, cr, "message", 1) {
		return
	}
	if respond.IsFragment(r) {
		respond.Fragment(w, r, http.StatusOK, views.MessageBody(m))
		return
	}
	id := strconv.FormatInt(cr.id, 10)
	t := views.Thread{UserID: cr.userID, ConvID: id, Messages: []views.Message{m}, Total: 1}
	respond.Page(w, r, http.StatusOK, "A message of conversation "+id, views.FullMessagePage(cr.userID, id, t), respond.Section("endusers"))
}

// recordView writes the audit entry of a view of messages. When it cannot
// be written the view is refused: reading a customer's messages is always
// on record.
func (h *Conversations) recordView(w http.ResponseWriter, r *http.Request, cr convRequest, view string, shown int) bool {
	err := Record(r.Context(), h.Audit, ActConversationViewed, "conversation", strconv.FormatInt(cr.id, 10), audit.OutcomeOK,
		map[string]string{"enduser": cr.userID, "view": view, "messages": strconv.Itoa(shown)})
	if err != nil {
		respond.Error(w, r, apperr.Wrap(err, apperr.Unavailable, "The console could not record this view in its audit log, so it does not show the conversation. Please try again in a moment."))
		return false
	}
	return true
}

// view builds the conversation's view model.
func (h *Conversations) view(r *http.Request, cr convRequest, th conversation.Thread, start int) views.Conversation {
	c := th.Conversation
	names := h.names(r.Context(), th, start)
	v := views.Conversation{
		UserID: cr.userID, ID: strconv.FormatInt(c.ID, 10), Level: 1,
		Subject: conversation.Clean(c.Subject), Channel: c.Channel, State: c.State, Direction: c.Direction,
		Language: c.Language, Anonymized: c.IsAnonymized(), Created: c.CreatedAt.Time,
		Reference:        reqctx.RequestID(r.Context()),
		NotesUnavailable: th.NotesErr != nil, TagsUnavailable: th.TagsErr != nil,
	}
	if c.AnonymizedAt != nil {
		v.AnonymizedAt = c.AnonymizedAt.Time
	}
	if c.Queue != nil {
		v.Queue = c.Queue.ID
	}
	if c.StateUpdatedAt != nil {
		v.Updated = c.StateUpdatedAt.Time
	}
	if t, ok := c.ClosedAt(); ok {
		v.Closed = t
	}
	if p := c.ParentID(); p > 0 {
		v.ParentID, v.LinkKind = strconv.FormatInt(p, 10), c.Link.Type
	}
	if a := c.AssigneeID(); a != "" {
		ref := agentRef(names, a)
		v.Assignee = &ref
	}
	if h.DixaAppURL != "" {
		v.DixaURL = h.DixaAppURL + "/conversation/" + v.ID
	}
	for _, ca := range c.CustomAttributes {
		if s := ca.Value.String(); s != "" {
			v.Attrs = append(v.Attrs, views.Prop{Label: conversation.Clean(ca.Name), Key: ca.Identifier, Values: []string{conversation.Clean(s)}})
		}
	}
	v.Thread = h.thread(r, cr, th, start, names)
	for _, n := range th.Notes {
		v.Notes = append(v.Notes, views.Note{Author: agentRef(names, n.AuthorID), Created: n.CreatedAt.Time, Text: conversation.Clean(n.Message)})
	}
	for _, t := range th.Tags {
		v.Tags = append(v.Tags, views.TagView{Name: conversation.Clean(t.Name), Inactive: t.State == apiclient.TagInactive})
	}
	if v.NotesUnavailable || v.TagsUnavailable {
		reqctx.Logger(r.Context()).Warn("conversation notes or tags unavailable", "notesErr", th.NotesErr, "tagsErr", th.TagsErr)
	}
	return v
}

// names looks up every agent the view shows: the assignee, the authors of
// the messages shown and of the notes. No upstream call once the
// directory is read and the unknown ids are remembered.
func (h *Conversations) names(ctx context.Context, th conversation.Thread, start int) map[string]agents.Person {
	ids := []string{th.Conversation.AssigneeID()}
	for _, m := range th.Messages[start:] {
		if !isRequester(th.Conversation, m) {
			ids = append(ids, m.AuthorID)
		}
	}
	for _, n := range th.Notes {
		ids = append(ids, n.AuthorID)
	}
	return lookupNames(ctx, h.Agents, ids...)
}

// thread builds the messages shown, from start to the newest.
func (h *Conversations) thread(r *http.Request, cr convRequest, th conversation.Thread, start int, names map[string]agents.Person) views.Thread {
	id := strconv.FormatInt(cr.id, 10)
	t := views.Thread{UserID: cr.userID, ConvID: id, Level: 1, Total: len(th.Messages), Earlier: start}
	in := ""
	if cr.panel {
		t.Level, in = 3, "panel"
	}
	if e := conversation.Earlier(th.Messages, start); e != "" && conversation.ValidMessageID(e) {
		t.EarlierURL = views.WithQuery("/endusers/"+cr.userID+"/conversations/"+id+"/messages", "since", e, "in", in)
	}
	label := customerLabel(th)
	for i := start; i < len(th.Messages); i++ {
		t.Messages = append(t.Messages, h.message(cr, th, i, names, label, false))
	}
	return t
}

// lookupNames names the agents behind ids; without a directory none is
// named (the pages still show, with the ids in tooltips).
func lookupNames(ctx context.Context, a AgentNames, ids ...string) map[string]agents.Person {
	if a == nil {
		return map[string]agents.Person{}
	}
	return a.Names(ctx, ids...)
}

func agentRef(names map[string]agents.Person, id string) views.AgentRef {
	p, ok := names[id]
	if !ok {
		return views.AgentRef{ID: id, State: views.AgentUnavailable}
	}
	switch p.Status {
	case agents.Known:
		return views.AgentRef{ID: id, Name: conversation.Clean(p.Name), Email: p.Email, State: views.AgentKnown}
	case agents.Unknown:
		return views.AgentRef{ID: id, State: views.AgentUnknown}
	}
	return views.AgentRef{ID: id, State: views.AgentUnavailable}
}

// isRequester reports whether the customer wrote m: its author is the
// conversation's requester (Dixa names the end user as the author of
// inbound messages).
func isRequester(c apiclient.Conversation, m apiclient.Message) bool {
	if m.AuthorID == "" {
		return m.Attributes.Direction == apiclient.DirectionInbound
	}
	return strings.EqualFold(m.AuthorID, c.RequesterID)
}

// customerLabel names the customer as the conversation itself does (Dixa
// gives the requester's id only, and reading their profile would cost a
// fifth call): the name on their first email, else its address or the
// conversation's, else "Customer".
func customerLabel(th conversation.Thread) string {
	for _, m := range th.Messages {
		if e := m.Attributes.Email; e != nil && isRequester(th.Conversation, m) {
			if n := strings.TrimSpace(e.From.Name); n != "" {
				return conversation.Clean(n)
			}
			if a := strings.TrimSpace(e.From.Email); a != "" {
				return conversation.Clean(a)
			}
		}
	}
	c := th.Conversation
	for _, s := range []string{c.FromEmail, c.FromNumber} {
		if s = strings.TrimSpace(s); s != "" && c.Direction != apiclient.DirectionOutbound {
			return conversation.Clean(s)
		}
	}
	return "Customer"
}
