package dixacache

import (
	"context"

	"github.com/example/dixa-console/apiclient"
)

// Writer is the Dixa client whose writes drop what they touch from the
// cache; its reads go to Dixa (background work that decides from them,
// like an import's create-or-update, must not see held data).
type Writer struct {
	*apiclient.Client
	Cache *Cache
}

// Reader is the Dixa client for pages: reads through the cache, writes as
// Writer.
type Reader struct{ Writer }

// NewReader wraps client with cache for pages.
func NewReader(client *apiclient.Client, cache *Cache) Reader {
	return Reader{Writer{Client: client, Cache: cache}}
}

// GetEndUser reads one end user through the cache.
func (r Reader) GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error) {
	return read(r.Cache, ctx, "u:"+ownerOf(id), ownerOf(id), func(ctx context.Context) (apiclient.EndUser, error) {
		return r.Client.GetEndUser(ctx, id)
	})
}

// ListEndUsers reads a list or search page through the cache.
func (r Reader) ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error) {
	return read(r.Cache, ctx, listKey(o), "", func(ctx context.Context) (apiclient.Page[apiclient.EndUser], error) {
		return r.Client.ListEndUsers(ctx, o)
	})
}

// ListEndUserConversations reads a page of a person's conversations
// through the cache.
func (r Reader) ListEndUserConversations(ctx context.Context, id string, o apiclient.PageOptions) (apiclient.Page[apiclient.Conversation], error) {
	return read(r.Cache, ctx, convKey(ownerOf(id), o), ownerOf(id), func(ctx context.Context) (apiclient.Page[apiclient.Conversation], error) {
		return r.Client.ListEndUserConversations(ctx, id, o)
	})
}

// PatchEndUser writes and drops the person's entries.
func (w Writer) PatchEndUser(ctx context.Context, id string, in apiclient.PatchEndUserInput) (apiclient.EndUser, error) {
	defer w.Cache.Invalidate(ctx, id)
	return w.Client.PatchEndUser(ctx, id, in)
}

// PatchEndUserCustomAttributes writes and drops the person's entries.
func (w Writer) PatchEndUserCustomAttributes(ctx context.Context, id string, values map[string]apiclient.AttributeValue) ([]apiclient.CustomAttribute, error) {
	defer w.Cache.Invalidate(ctx, id)
	return w.Client.PatchEndUserCustomAttributes(ctx, id, values)
}

// CreateEndUser creates and drops every list and search.
func (w Writer) CreateEndUser(ctx context.Context, in apiclient.CreateEndUserInput) (apiclient.EndUser, error) {
	defer w.Cache.InvalidateLists(ctx)
	return w.Client.CreateEndUser(ctx, in)
}

// CreateEndUsers creates in bulk and drops every list and search.
func (w Writer) CreateEndUsers(ctx context.Context, in []apiclient.CreateEndUserInput) ([]apiclient.BulkOutcome, error) {
	defer w.Cache.InvalidateLists(ctx)
	return w.Client.CreateEndUsers(ctx, in)
}

// PatchEndUsers writes in bulk and drops each person's entries.
func (w Writer) PatchEndUsers(ctx context.Context, in []apiclient.BulkPatchEndUserInput) ([]apiclient.BulkOutcome, error) {
	defer func() {
		for _, p := range in {
			w.Cache.Invalidate(ctx, p.ID)
		}
	}()
	return w.Client.PatchEndUsers(ctx, in)
}

// AnonymizeEndUser purges the person from the cache for good before the
// erasure is sent, and again after (a read that raced it is not kept).
func (w Writer) AnonymizeEndUser(ctx context.Context, id string, force bool) (apiclient.AnonymizationRequest, error) {
	w.Cache.Erased(ctx, id)
	defer w.Cache.Erased(ctx, id)
	return w.Client.AnonymizeEndUser(ctx, id, force)
}
