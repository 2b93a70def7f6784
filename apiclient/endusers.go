package apiclient

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"
)

// Routes, as reported to the observer and in logs.
const (
	routeEndUsers          = "/endusers"
	routeEndUsersBulk      = "/endusers/bulk"
	routeEndUser           = "/endusers/{id}"
	routeAnonymize         = "/endusers/{id}/anonymize"
	routeCustomAttrs       = "/endusers/{id}/custom-attributes"
	routeConversations     = "/endusers/{id}/conversations"
	routeDefinitions       = "/custom-attributes"
	routeDefinition        = "/custom-attributes/{id}"
	routeAnonymizationReqs = "/anonymization/request/{id}"
)

// dataEnvelope is Dixa's single-object or plain-list response body.
type dataEnvelope[T any] struct {
	Data T `json:"data"`
}

// validID checks an id before it goes into a path. Dixa's ids are UUIDs;
// refusing anything else locally also means no path can be smuggled in
// ("../", "?", "#").
func (c *Client) validID(method, route, id string) *Error {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return badRequest(method, "/"+c.version+route, "id is not a UUID")
	}
	return nil
}

// one runs a call whose answer is {"data": T}.
func one[T any](ctx context.Context, c *Client, r call) (T, error) {
	var env dataEnvelope[T]
	r.out = &env
	if err := c.do(ctx, r); err != nil {
		var zero T
		return zero, err
	}
	return env.Data, nil
}

// ListEndUsers returns one page of end users (GET /endusers), optionally
// filtered by one of email, phone or external id. List items carry no
// custom attributes.
func (c *Client) ListEndUsers(ctx context.Context, o ListOptions) (Page[EndUser], error) {
	q, err := c.listQuery(o)
	if err != nil {
		return Page[EndUser]{}, err
	}
	return listPage[EndUser](ctx, c, call{method: http.MethodGet, route: routeEndUsers, path: routeEndUsers, query: q})
}

func (c *Client) listQuery(o ListOptions) (url.Values, error) {
	filters := 0
	for _, f := range []string{o.Email, o.Phone, o.ExternalID} {
		if f != "" {
			filters++
		}
	}
	if filters > 1 {
		return nil, badRequest(http.MethodGet, "/"+c.version+routeEndUsers, "at most one of email, phone and external id may be given")
	}
	if o.PageLimit < 0 {
		return nil, badRequest(http.MethodGet, "/"+c.version+routeEndUsers, "page limit must not be negative")
	}
	q := pageQuery(o.PageLimit, o.PageKey)
	if o.Email != "" {
		q.Set("email", o.Email)
	}
	if o.Phone != "" {
		q.Set("phone", o.Phone)
	}
	if o.ExternalID != "" {
		q.Set("externalId", o.ExternalID)
	}
	return q, nil
}

// EndUsers iterates over all end users matching o, following the pages
// from o.PageKey on. It stops at the first error, which it yields once.
func (c *Client) EndUsers(ctx context.Context, o ListOptions) iter.Seq2[EndUser, error] {
	return pages(ctx, o.PageKey, func(ctx context.Context, key string) (Page[EndUser], error) {
		o.PageKey = key
		return c.ListEndUsers(ctx, o)
	})
}

// GetEndUser returns one end user, with custom attributes
// (GET /endusers/{id}).
func (c *Client) GetEndUser(ctx context.Context, id string) (EndUser, error) {
	if err := c.validID(http.MethodGet, routeEndUser, id); err != nil {
		return EndUser{}, err
	}
	return one[EndUser](ctx, c, call{method: http.MethodGet, route: routeEndUser, path: "/endusers/" + id})
}

// CreateEndUser creates an end user (POST /endusers, 201).
func (c *Client) CreateEndUser(ctx context.Context, in CreateEndUserInput) (EndUser, error) {
	return one[EndUser](ctx, c, call{method: http.MethodPost, route: routeEndUsers, path: routeEndUsers, body: in})
}

// CreateEndUsers creates several end users (POST /endusers/bulk, 201). Dixa
// answers with one outcome per input item, in order; items fail
// individually (see BulkOutcome), so a nil error does not mean every item
// succeeded.
func (c *Client) CreateEndUsers(ctx context.Context, in []CreateEndUserInput) ([]BulkOutcome, error) {
	if len(in) == 0 {
		return nil, badRequest(http.MethodPost, "/"+c.version+routeEndUsersBulk, "no end users given")
	}
	return one[[]BulkOutcome](ctx, c, call{method: http.MethodPost, route: routeEndUsersBulk, path: routeEndUsersBulk,
		body: dataEnvelope[[]CreateEndUserInput]{Data: in}})
}

// UpdateEndUsers replaces several end users (bulk PUT /endusers). Outcomes
// as for CreateEndUsers.
func (c *Client) UpdateEndUsers(ctx context.Context, in []BulkUpdateEndUserInput) ([]BulkOutcome, error) {
	if len(in) == 0 {
		return nil, badRequest(http.MethodPut, "/"+c.version+routeEndUsers, "no end users given")
	}
	for _, u := range in {
		if err := c.validID(http.MethodPut, routeEndUsers, u.ID); err != nil {
			return nil, err
		}
	}
	return one[[]BulkOutcome](ctx, c, call{method: http.MethodPut, route: routeEndUsers, path: routeEndUsers,
		body: dataEnvelope[[]BulkUpdateEndUserInput]{Data: in}})
}

// PatchEndUsers patches several end users (bulk PATCH /endusers). An item
// that sets no field is left to Dixa, which answers it with an
// EmptyPatchSet failure. Outcomes as for CreateEndUsers.
func (c *Client) PatchEndUsers(ctx context.Context, in []BulkPatchEndUserInput) ([]BulkOutcome, error) {
	if len(in) == 0 {
		return nil, badRequest(http.MethodPatch, "/"+c.version+routeEndUsers, "no end users given")
	}
	for _, u := range in {
		if err := c.validID(http.MethodPatch, routeEndUsers, u.ID); err != nil {
			return nil, err
		}
	}
	return one[[]BulkOutcome](ctx, c, call{method: http.MethodPatch, route: routeEndUsers, path: routeEndUsers,
		body: dataEnvelope[[]BulkPatchEndUserInput]{Data: in}})
}

// UpdateEndUser replaces an end user's writable fields
// (PUT /endusers/{id}); DisplayName is required by Dixa.
func (c *Client) UpdateEndUser(ctx context.Context, id string, in UpdateEndUserInput) (EndUser, error) {
	if err := c.validID(http.MethodPut, routeEndUser, id); err != nil {
		return EndUser{}, err
	}
	return one[EndUser](ctx, c, call{method: http.MethodPut, route: routeEndUser, path: "/endusers/" + id, body: in})
}

// PatchEndUser changes only the fields set in `in` (PATCH /endusers/{id}),
// so concurrent edits of other fields survive. An empty patch is refused
// locally with ErrBadRequest.
func (c *Client) PatchEndUser(ctx context.Context, id string, in PatchEndUserInput) (EndUser, error) {
	if err := c.validID(http.MethodPatch, routeEndUser, id); err != nil {
		return EndUser{}, err
	}
	if in.IsEmpty() {
		return EndUser{}, badRequest(http.MethodPatch, "/"+c.version+"/endusers/"+id, "empty patch")
	}
	return one[EndUser](ctx, c, call{method: http.MethodPatch, route: routeEndUser, path: "/endusers/" + id, body: in})
}

// AnonymizeEndUser requests the anonymization of an end user and of all
// their conversations (PATCH /endusers/{id}/anonymize, 202). Without force
// Dixa refuses (ErrConflict) while the user has conversations that are not
// closed; with force it closes them. Processing is asynchronous: poll
// GetAnonymizationRequest until ProcessedAt is set. Each call creates a new
// request, so a failed call is never retried after it may have been sent.
func (c *Client) AnonymizeEndUser(ctx context.Context, id string, force bool) (AnonymizationRequest, error) {
	if err := c.validID(http.MethodPatch, routeAnonymize, id); err != nil {
		return AnonymizationRequest{}, err
	}
	q := url.Values{"force": {strconv.FormatBool(force)}}
	return one[AnonymizationRequest](ctx, c, call{method: http.MethodPatch, route: routeAnonymize,
		path: "/endusers/" + id + "/anonymize", query: q})
}

// GetAnonymizationRequest returns the status of an anonymization request
// (GET /anonymization/request/{id}).
func (c *Client) GetAnonymizationRequest(ctx context.Context, requestID string) (AnonymizationRequest, error) {
	if err := c.validID(http.MethodGet, routeAnonymizationReqs, requestID); err != nil {
		return AnonymizationRequest{}, err
	}
	return one[AnonymizationRequest](ctx, c, call{method: http.MethodGet, route: routeAnonymizationReqs,
		path: "/anonymization/request/" + requestID})
}

// PatchEndUserCustomAttributes sets custom attribute values of an end user
// (PATCH /endusers/{id}/custom-attributes). Keys are definition ids (UUIDs);
// values are TextValue, SelectValue or ClearValue (sent as null). Only the
// given attributes are touched. An empty map, or a key that is not a UUID,
// is refused locally with ErrBadRequest. It returns the attributes Dixa
// reports back.
func (c *Client) PatchEndUserCustomAttributes(ctx context.Context, id string, values map[string]AttributeValue) ([]CustomAttribute, error) {
	if err := c.validID(http.MethodPatch, routeCustomAttrs, id); err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, badRequest(http.MethodPatch, "/"+c.version+"/endusers/"+id+"/custom-attributes", "no custom attribute values given")
	}
	for k := range values {
		if err := c.validID(http.MethodPatch, routeCustomAttrs, k); err != nil {
			err.Message = "custom attribute id is not a UUID"
			return nil, err
		}
	}
	return one[[]CustomAttribute](ctx, c, call{method: http.MethodPatch, route: routeCustomAttrs,
		path: "/endusers/" + id + "/custom-attributes", body: values})
}

// ListEndUserConversations returns one page of the conversations requested
// by an end user (GET /endusers/{id}/conversations), without custom
// attributes.
func (c *Client) ListEndUserConversations(ctx context.Context, id string, o PageOptions) (Page[Conversation], error) {
	if err := c.validID(http.MethodGet, routeConversations, id); err != nil {
		return Page[Conversation]{}, err
	}
	if o.PageLimit < 0 {
		return Page[Conversation]{}, badRequest(http.MethodGet, "/"+c.version+"/endusers/"+id+"/conversations", "page limit must not be negative")
	}
	return listPage[Conversation](ctx, c, call{method: http.MethodGet, route: routeConversations,
		path: "/endusers/" + id + "/conversations", query: pageQuery(o.PageLimit, o.PageKey)})
}

// EndUserConversations iterates over all conversations of an end user,
// following the pages from o.PageKey on. It stops at the first error, which
// it yields once.
func (c *Client) EndUserConversations(ctx context.Context, id string, o PageOptions) iter.Seq2[Conversation, error] {
	return pages(ctx, o.PageKey, func(ctx context.Context, key string) (Page[Conversation], error) {
		o.PageKey = key
		return c.ListEndUserConversations(ctx, id, o)
	})
}

// ListCustomAttributeDefinitions returns all custom attribute definitions,
// for end users ("Contact") and conversations alike
// (GET /custom-attributes; not paginated).
func (c *Client) ListCustomAttributeDefinitions(ctx context.Context) ([]CustomAttributeDefinition, error) {
	return one[[]CustomAttributeDefinition](ctx, c, call{method: http.MethodGet, route: routeDefinitions, path: routeDefinitions})
}

// GetCustomAttributeDefinition returns one custom attribute definition
// (GET /custom-attributes/{id}).
func (c *Client) GetCustomAttributeDefinition(ctx context.Context, id string) (CustomAttributeDefinition, error) {
	if err := c.validID(http.MethodGet, routeDefinition, id); err != nil {
		return CustomAttributeDefinition{}, err
	}
	return one[CustomAttributeDefinition](ctx, c, call{method: http.MethodGet, route: routeDefinition, path: "/custom-attributes/" + id})
}
