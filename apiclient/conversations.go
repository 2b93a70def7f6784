package apiclient

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// Routes of the conversation and agent calls, as reported to the observer
// and in logs.
const (
	routeConversation      = "/conversations/{id}"
	routeConversationMsgs  = "/conversations/{id}/messages"
	routeConversationNotes = "/conversations/{id}/notes"
	routeConversationTags  = "/conversations/{id}/tags"
	routeAgents            = "/agents"
	routeAgent             = "/agents/{id}"
)

// convCall builds a GET on a conversation's route. Conversation ids are
// Dixa's positive int64 "csid"s; anything else is refused locally.
func (c *Client) convCall(route string, id int64, suffix string) (call, *Error) {
	if id <= 0 {
		return call{}, badRequest(http.MethodGet, "/"+c.version+route, "conversation id must be positive")
	}
	return call{method: http.MethodGet, route: route, path: "/conversations/" + strconv.FormatInt(id, 10) + suffix}, nil
}

// GetConversation returns one conversation, with its custom attributes
// (GET /conversations/{id}). The list of an end user's conversations has
// the same fields but no custom attributes.
func (c *Client) GetConversation(ctx context.Context, id int64) (Conversation, error) {
	r, err := c.convCall(routeConversation, id, "")
	if err != nil {
		return Conversation{}, err
	}
	return one[Conversation](ctx, c, r)
}

// ListConversationMessages returns all messages of a conversation, oldest
// first (GET /conversations/{id}/messages; Dixa does not paginate it).
// Attachment and TooLarge links are returned, never fetched.
func (c *Client) ListConversationMessages(ctx context.Context, id int64) ([]Message, error) {
	r, err := c.convCall(routeConversationMsgs, id, "/messages")
	if err != nil {
		return nil, err
	}
	return one[[]Message](ctx, c, r)
}

// ListConversationNotes returns the internal notes of a conversation,
// oldest first (GET /conversations/{id}/notes; not paginated).
func (c *Client) ListConversationNotes(ctx context.Context, id int64) ([]InternalNote, error) {
	r, err := c.convCall(routeConversationNotes, id, "/notes")
	if err != nil {
		return nil, err
	}
	return one[[]InternalNote](ctx, c, r)
}

// ListConversationTags returns the tags of a conversation
// (GET /conversations/{id}/tags; not paginated).
func (c *Client) ListConversationTags(ctx context.Context, id int64) ([]Tag, error) {
	r, err := c.convCall(routeConversationTags, id, "/tags")
	if err != nil {
		return nil, err
	}
	return one[[]Tag](ctx, c, r)
}

// AgentListOptions selects a page of agents, optionally filtered by exactly
// one of Email or Phone. Setting both is refused locally with
// ErrBadRequest, as Dixa would refuse it.
type AgentListOptions struct {
	PageLimit int
	PageKey   string
	Email     string
	Phone     string
}

// ListAgents returns one page of the organisation's agents and admins
// (GET /agents).
func (c *Client) ListAgents(ctx context.Context, o AgentListOptions) (Page[Agent], error) {
	path := "/" + c.version + routeAgents
	switch {
	case o.Email != "" && o.Phone != "":
		return Page[Agent]{}, badRequest(http.MethodGet, path, "at most one of email and phone may be given")
	case o.PageLimit < 0:
		return Page[Agent]{}, badRequest(http.MethodGet, path, "page limit must not be negative")
	}
	q := pageQuery(o.PageLimit, o.PageKey)
	setIf(q, "email", o.Email)
	setIf(q, "phone", o.Phone)
	return listPage[Agent](ctx, c, call{method: http.MethodGet, route: routeAgents, path: routeAgents, query: q})
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// Agents iterates over all agents matching o, following the pages from
// o.PageKey on. It stops at the first error, which it yields once.
func (c *Client) Agents(ctx context.Context, o AgentListOptions) iter.Seq2[Agent, error] {
	return pages(ctx, o.PageKey, func(ctx context.Context, key string) (Page[Agent], error) {
		o.PageKey = key
		return c.ListAgents(ctx, o)
	})
}

// GetAgent returns one agent or admin (GET /agents/{id}). A deleted agent,
// still named as the assignee or author of old conversations, is
// ErrNotFound.
func (c *Client) GetAgent(ctx context.Context, id string) (Agent, error) {
	if err := c.validID(http.MethodGet, routeAgent, id); err != nil {
		return Agent{}, err
	}
	return one[Agent](ctx, c, call{method: http.MethodGet, route: routeAgent, path: "/agents/" + id})
}
