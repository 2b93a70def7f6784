package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// heldDefs answers the definitions once release is closed.
type heldDefs struct {
	calls   atomic.Int32
	release chan struct{}
	err     error
}

func (s *heldDefs) ListCustomAttributeDefinitions(ctx context.Context) ([]apiclient.CustomAttributeDefinition, error) {
	s.calls.Add(1)
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.err != nil {
		return nil, s.err
	}
	return []apiclient.CustomAttributeDefinition{{ID: "d1", EntityType: apiclient.EntityContact}}, nil
}

// Ten views arrive while the first fetch is still waiting for Dixa
// (synctest.Wait returns only once all ten are blocked inside Get): they
// share that one fetch.
func TestDefinitionsCacheSharesOneFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &heldDefs{release: make(chan struct{})}
		now := time.Unix(1000, 0)
		var mu sync.Mutex
		d := NewDefinitions(api, time.Minute)
		d.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if defs, err := d.Get(t.Context()); err != nil || len(defs) != 1 {
					t.Errorf("Get: %v %v", defs, err)
				}
			})
		}
		synctest.Wait()
		if n := api.calls.Load(); n != 1 {
			t.Errorf("%d fetches for 10 concurrent views, want 1", n)
		}
		close(api.release)
		wg.Wait()
		d.Get(t.Context())
		if n := api.calls.Load(); n != 1 {
			t.Errorf("cached view fetched again")
		}
		// After the TTL it refreshes; a failing refresh serves the old ones.
		mu.Lock()
		now = now.Add(2 * time.Minute)
		mu.Unlock()
		api.err = context.DeadlineExceeded
		if defs, err := d.Get(t.Context()); err != nil || len(defs) != 1 || api.calls.Load() != 2 {
			t.Errorf("stale fallback: %v %v, %d calls", defs, err, api.calls.Load())
		}
	})
}
