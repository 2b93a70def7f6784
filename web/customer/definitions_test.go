package customer

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// gatedDefs answers a fetch only when the test opens the gate.
type gatedDefs struct {
	calls atomic.Int32
	gate  chan struct{}
	err   error
}

func (g *gatedDefs) ListCustomAttributeDefinitions(ctx context.Context) ([]apiclient.CustomAttributeDefinition, error) {
	g.calls.Add(1)
	<-g.gate
	if g.err != nil {
		return nil, g.err
	}
	return []apiclient.CustomAttributeDefinition{{ID: "d1", EntityType: apiclient.EntityContact}}, nil
}

func TestDefinitionsCacheSharesOneFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &gatedDefs{gate: make(chan struct{})}
		d := NewDefinitions(api, time.Minute)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if defs, err := d.Get(t.Context()); err != nil || len(defs) != 1 {
					t.Errorf("Get: %v %v", defs, err)
				}
			})
		}
		synctest.Wait() // all ten wait on the one fetch
		if n := api.calls.Load(); n != 1 {
			t.Errorf("%d fetches for 10 concurrent views, want 1", n)
		}
		close(api.gate)
		wg.Wait()
		d.Get(t.Context())
		if n := api.calls.Load(); n != 1 {
			t.Errorf("cached view fetched again")
		}
		// After the TTL it refreshes; a failing refresh serves the old ones.
		time.Sleep(2 * time.Minute)
		api.err = context.DeadlineExceeded
		if defs, err := d.Get(t.Context()); err != nil || len(defs) != 1 || api.calls.Load() != 2 {
			t.Errorf("stale fallback: %v %v, %d calls", defs, err, api.calls.Load())
		}
		// Past the grace period the failure shows.
		time.Sleep(2 * staleGrace)
		if _, err := d.Get(t.Context()); err == nil {
			t.Error("definitions served long after they expired")
		}
	})
}
