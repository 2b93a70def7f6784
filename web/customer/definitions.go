package customer

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/example/dixa-console/apiclient"
)

// DefinitionLister is what the definitions cache needs from Dixa.
type DefinitionLister interface {
	ListCustomAttributeDefinitions(ctx context.Context) ([]apiclient.CustomAttributeDefinition, error)
}

// DefinitionTTL is how long custom attribute definitions are reused.
// Definitions change only when an admin edits them in Dixa, so a few
// minutes of staleness is fine and saves a call on every profile view.
const DefinitionTTL = 5 * time.Minute

// definitionFetchTimeout bounds the shared fetch, which runs detached from
// the request that started it (so that one person leaving does not fail
// everyone waiting on the same fetch).
const definitionFetchTimeout = 10 * time.Second

// Definitions caches the custom attribute definitions for TTL, with one
// in-flight fetch shared by all requests (singleflight). When a refresh
// fails, the previous definitions are served for up to an hour more.
type Definitions struct {
	api DefinitionLister
	ttl time.Duration
	now func() time.Time
	sf  singleflight.Group

	mu   sync.Mutex
	defs []apiclient.CustomAttributeDefinition
	at   time.Time
	ok   bool
}

// NewDefinitions returns a cache in front of api; ttl 0 means DefinitionTTL.
func NewDefinitions(api DefinitionLister, ttl time.Duration) *Definitions {
	if ttl <= 0 {
		ttl = DefinitionTTL
	}
	return &Definitions{api: api, ttl: ttl, now: time.Now}
}

// staleGrace is how long old definitions are served when Dixa fails.
const staleGrace = time.Hour

// Get returns the definitions, from the cache when fresh. The returned
// slice is shared: do not modify it.
func (d *Definitions) Get(ctx context.Context) ([]apiclient.CustomAttributeDefinition, error) {
	d.mu.Lock()
	if d.ok && d.now().Sub(d.at) < d.ttl {
		defs := d.defs
		d.mu.Unlock()
		return defs, nil
	}
	d.mu.Unlock()

	ch := d.sf.DoChan("defs", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), definitionFetchTimeout)
		defer cancel()
		defs, err := d.api.ListCustomAttributeDefinitions(fctx)
		d.mu.Lock()
		defer d.mu.Unlock()
		if err != nil {
			if d.ok && d.now().Sub(d.at) < d.ttl+staleGrace {
				return d.defs, nil
			}
			return nil, err
		}
		d.defs, d.at, d.ok = defs, d.now(), true
		return defs, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]apiclient.CustomAttributeDefinition), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
