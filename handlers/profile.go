package handlers

import (
	"context"
	"errors"
	"github.com/example/dixa-console/web/writeguard"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/sync/errgroup"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/agents"
	"github.com/example/dixa-console/web/conversation"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// ProfileAPI is what the profile pages need from Dixa.
type ProfileAPI interface {
	GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error)
	ListEndUserConversations(ctx context.Context, id string, o apiclient.PageOptions) (apiclient.Page[apiclient.Conversation], error)
	PatchEndUserCustomAttributes(ctx context.Context, id string, values map[string]apiclient.AttributeValue) ([]apiclient.CustomAttribute, error)
}

// Profile serves a customer's profile, their conversations and their
// custom attributes.
type Profile struct {
	API   ProfileAPI
	Defs  *customer.Definitions
	Guard *writeguard.Guard
	// Audit receives a customattributes.updated entry per attribute save
	// that writes, is blocked by a conflict or fails upstream; nil: no log.
	Audit AuditLogger
	// Erased says whether the console erased the customer: their profile
	// then says so and offers no change. Nil: never.
	Erased ErasureMarks
	// Convs reads the conversation lists (newest first on the profile);
	// Agents names their assignees.
	Convs  *conversation.Lister
	Agents AgentNames
}

// pathID returns the {id} path value when it is a UUID (lower-cased). A
// path id that is not a UUID is a 404 without calling Dixa.
func pathID(r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !customer.ValidID(id) {
		return "", false
	}
	return strings.ToLower(id), true
}

func noSuchCustomer() error {
	return respond.NotFound("There is no customer with that ID. Check the link, or search for the customer.")
}

// Show serves GET /endusers/{id}: every profile field, the custom
// attributes with their labels, and the most recent conversations (open
// and pending first). The user, the conversations and the (cached)
// definitions are fetched in parallel, so the page costs one upstream
// round trip (more only for a customer with more than a page of
// conversations); a warm view makes two upstream calls. Assignees are
// named from the shared agent directory.
func (h *Profile) Show(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Viewer) {
		return
	}
	id, ok := pathID(r)
	if !ok {
		respond.Error(w, r, noSuchCustomer())
		return
	}
	var (
		u                apiclient.EndUser
		convs            conversation.Recent
		defs             []apiclient.CustomAttributeDefinition
		convErr, defsErr error
	)
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) {
		u, err = h.API.GetEndUser(ctx, id)
		return err
	})
	g.Go(func() error {
		convs, convErr = h.Convs.Recent(ctx, id)
		return nil
	})
	g.Go(func() error {
		defs, defsErr = h.Defs.Get(ctx)
		return nil
	})
	if err := g.Wait(); err != nil {
		respond.Error(w, r, err)
		return
	}
	v := profileView(u)
	v.Notice, v.NoticeKind = savedNotice(r.URL.Query().Get("saved"))
	if defsErr != nil {
		reqctx.Logger(r.Context()).Warn("custom attribute definitions unavailable", "err", defsErr)
	}
	v.Attrs = attrSection(u, defs, defsErr == nil)
	if v.Erased = subjectErased(r, h.Erased, id); v.Erased != nil {
		readOnlyAttrs(&v.Attrs)
	}
	if anyEditable(v.Attrs.Rows) {
		v.Attrs.Token = h.Guard.Issue()
	}
	v.Convs = recentSection(r, id, convs, convErr, h.assignees(r.Context(), convs.Items))
	v.RefreshURL = views.WithQuery("/endusers/"+id, "fresh", "1")
	v.Stale, v.Again = staleNotice(r)
	respond.Page(w, r, http.StatusOK, v.Name, views.ProfilePage(v), respond.Section("endusers"))
}

// Conversations serves GET /endusers/{id}/conversations?pageKey=: one page
// of the customer's conversations in Dixa's order (all of them, page by
// page), as a full page or as the htmx fragment that replaces the
// conversations region.
func (h *Profile) Conversations(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Viewer) {
		return
	}
	id, ok := pathID(r)
	if !ok {
		respond.Error(w, r, noSuchCustomer())
		return
	}
	key := r.URL.Query().Get("pageKey")
	if !validPageKey(key) {
		respond.Error(w, r, respond.BadRequest("That page link is not valid. Start again from the profile."))
		return
	}
	if respond.IsFragment(r) {
		page, err := h.Convs.Page(r.Context(), id, key)
		if err != nil {
			respond.Error(w, r, pageKeyError(key, err))
			return
		}
		respond.Page(w, r, http.StatusOK, "Conversations", views.ConversationsSection(pageSection(id, key, page, h.assignees(r.Context(), page.Items))))
		return
	}
	var (
		u    apiclient.EndUser
		page apiclient.Page[apiclient.Conversation]
	)
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) {
		u, err = h.API.GetEndUser(ctx, id)
		return err
	})
	g.Go(func() (err error) {
		page, err = h.Convs.Page(ctx, id, key)
		return err
	})
	if err := g.Wait(); err != nil {
		respond.Error(w, r, pageKeyError(key, err))
		return
	}
	name := customer.Name(u)
	respond.Page(w, r, http.StatusOK, "Conversations of "+name, views.ConversationsPage(name, pageSection(id, key, page, h.assignees(r.Context(), page.Items))), respond.Section("endusers"))
}

// pageKeyError turns Dixa refusing a cursor into a clear 400.
func pageKeyError(key string, err error) error {
	if key != "" && errors.Is(err, apiclient.ErrBadRequest) {
		return respond.BadRequest("That page link is no longer valid. Start again from the profile.")
	}
	return err
}

func savedNotice(s string) (string, string) {
	switch s {
	case "profile":
		return "Saved. The profile below is what Dixa holds now.", "ok"
	case "none":
		return "Nothing was changed, so nothing was sent to Dixa.", "ok"
	case "created":
		return "Customer created.", "ok"
	case "attrs":
		return "Custom attributes saved.", "ok"
	case "handover":
		return "Handed to the leads. A lead completes the erasure request and a second lead approves it; nothing is sent to Dixa before that.", "ok"
	}
	return "", ""
}

// profileView builds the profile's head and fields.
func profileView(u apiclient.EndUser) views.Profile {
	one := func(s string) []string {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return []string{s}
	}
	name := customer.Name(u)
	return views.Profile{
		ID:        u.ID,
		Name:      name,
		AvatarURL: views.SafeHTTPURL(u.AvatarURL),
		Initials:  initials(name),
		Props: []views.Prop{
			{Label: "Display name", Key: "displayName", Values: one(u.DisplayName)},
			{Label: "First name", Key: "firstName", Values: one(u.FirstName)},
			{Label: "Middle names", Key: "middleNames", Values: u.MiddleNames},
			{Label: "Last name", Key: "lastName", Values: one(u.LastName)},
			{Label: "Email", Key: "email", Values: one(u.Email)},
			{Label: "Additional emails", Key: "additionalEmails", Values: u.AdditionalEmails},
			{Label: "Phone number", Key: "phoneNumber", Values: one(u.PhoneNumber)},
			{Label: "Additional phone numbers", Key: "additionalPhoneNumbers", Values: u.AdditionalPhoneNumbers},
			{Label: "External ID", Key: "externalId", Values: one(u.ExternalID)},
			{Label: "Avatar URL", Key: "avatarUrl", Values: one(u.AvatarURL)},
			{Label: "Created", Key: "createdAt", Time: u.CreatedAt.Time},
		},
	}
}

// initials are up to two letters for the avatar placeholder.
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// assignees names the agents the conversations are assigned to.
func (h *Profile) assignees(ctx context.Context, cs []apiclient.Conversation) map[string]agents.Person {
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.AssigneeID())
	}
	return lookupNames(ctx, h.Agents, ids...)
}

// recentSection builds the profile's list of conversations; err is shown
// in the region instead of failing the whole profile.
func recentSection(r *http.Request, id string, rc conversation.Recent, err error, names map[string]agents.Person) views.ConvSection {
	c := views.ConvSection{UserID: id, Recent: true}
	if err != nil {
		e := respond.Classify(err)
		reqctx.Logger(r.Context()).Warn("conversations unavailable", "status", e.Status, "err", err)
		c.Unavailable = "The conversations could not be loaded from Dixa just now. " + e.Message
		c.Reference = reqctx.RequestID(r.Context())
		return c
	}
	c.Rows = convRows(rc.Items, names)
	c.Attention, c.Read, c.Complete, c.More = rc.Attention, rc.Read, rc.Complete, rc.More()
	if c.More {
		c.AllURL = "/endusers/" + id + "/conversations"
	}
	return c
}

// pageSection builds one page of all the conversations, in Dixa's order.
func pageSection(id, key string, page apiclient.Page[apiclient.Conversation], names map[string]agents.Person) views.ConvSection {
	c := views.ConvSection{UserID: id, Rows: convRows(page.Items, names)}
	link := func(k string) string {
		return views.WithQuery("/endusers/"+id+"/conversations", "pageKey", k)
	}
	if page.NextKey != "" {
		c.NextURL = link(page.NextKey)
	}
	if page.PrevKey != "" {
		c.PrevURL = link(page.PrevKey)
	}
	if key != "" {
		c.FirstURL = link("")
	}
	return c
}

func convRows(cs []apiclient.Conversation, names map[string]agents.Person) []views.ConvRow {
	rows := make([]views.ConvRow, 0, len(cs))
	for _, cv := range cs {
		row := views.ConvRow{
			ID:         strconv.FormatInt(cv.ID, 10),
			Channel:    cv.Channel,
			State:      cv.State,
			Subject:    conversation.Clean(cv.Subject),
			Created:    cv.CreatedAt.Time,
			Anonymized: cv.IsAnonymized(),
			Attention:  conversation.NeedsAttention(cv),
		}
		if a := cv.AssigneeID(); a != "" {
			ref := agentRef(names, a)
			row.Assignee = &ref
		}
		rows = append(rows, row)
	}
	return rows
}
