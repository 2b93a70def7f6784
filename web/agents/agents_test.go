package agents_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/agents"
)

// fakeDixa is an agent directory in memory that counts the calls made to it.
type fakeDixa struct {
	mu      sync.Mutex
	agents  []apiclient.Agent
	extra   map[string]apiclient.Agent // found by id, not listed
	failGet error                      // GetAgent fails with it
	failAll error                      // the list fails with it
	block   chan struct{}              // GetAgent waits on it when set

	lists, gets atomic.Int64
}

func (f *fakeDixa) Agents(ctx context.Context, o apiclient.AgentListOptions) iter.Seq2[apiclient.Agent, error] {
	return func(yield func(apiclient.Agent, error) bool) {
		f.lists.Add(1)
		f.mu.Lock()
		list, fail := append([]apiclient.Agent(nil), f.agents...), f.failAll
		f.mu.Unlock()
		if fail != nil {
			yield(apiclient.Agent{}, fail)
			return
		}
		for _, a := range list {
			if !yield(a, nil) {
				return
			}
		}
	}
}

func (f *fakeDixa) GetAgent(ctx context.Context, id string) (apiclient.Agent, error) {
	f.gets.Add(1)
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failGet != nil {
		return apiclient.Agent{}, f.failGet
	}
	if a, ok := f.extra[id]; ok {
		return a, nil
	}
	return apiclient.Agent{}, &apiclient.Error{Status: 404, Message: "Not found"}
}

const (
	annID     = "00000000-0000-4000-8000-00000000000a"
	boID      = "00000000-0000-4000-8000-00000000000b"
	newID     = "00000000-0000-4000-8000-00000000000c"
	deletedID = "00000000-0000-4000-8000-00000000000d"
)

func newFake() *fakeDixa {
	return &fakeDixa{
		agents: []apiclient.Agent{
			{ID: annID, DisplayName: "Ann Agent", Email: "ann@example.com"},
			{ID: boID, DisplayName: "", Email: "bo@example.com"},
		},
		extra: map[string]apiclient.Agent{newID: {ID: newID, DisplayName: "New Hire", Email: "new@example.com"}},
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestNamesFromTheList(t *testing.T) {
	f := newFake()
	d := agents.New(f, agents.Options{})
	got := d.Names(t.Context(), annID, boID, annID, "")
	if f.lists.Load() != 1 || f.gets.Load() != 0 {
		t.Fatalf("first use: %d list reads, %d look-ups; want 1 and 0", f.lists.Load(), f.gets.Load())
	}
	if p := got[annID]; p.Status != agents.Known || p.Name != "Ann Agent" || p.Email != "ann@example.com" {
		t.Errorf("ann: got %+v", p)
	}
	if p := got[boID]; p.Name != "bo@example.com" {
		t.Errorf("an agent without a display name is named by email: got %+v", p)
	}
	if len(got) != 2 {
		t.Errorf("got %d people, want 2 (duplicates and empty ids skipped)", len(got))
	}
	for range 5 {
		d.Names(t.Context(), annID, boID)
	}
	if f.lists.Load() != 1 || f.gets.Load() != 0 {
		t.Errorf("cached: %d list reads, %d look-ups; want 1 and 0", f.lists.Load(), f.gets.Load())
	}
}

// TestMissesAreRemembered: an id not in the list is looked up once; a
// deleted agent is not asked for again until MissTTL has passed.
func TestMissesAreRemembered(t *testing.T) {
	f := newFake()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d := agents.New(f, agents.Options{Now: c.now, MissTTL: time.Hour})
	got := d.Names(t.Context(), newID, deletedID)
	if p := got[newID]; p.Status != agents.Known || p.Name != "New Hire" {
		t.Errorf("an agent added since the list was read: got %+v", p)
	}
	if p := got[deletedID]; p.Status != agents.Unknown || p.ID != deletedID {
		t.Errorf("a deleted agent: got %+v", p)
	}
	if n := f.gets.Load(); n != 2 {
		t.Fatalf("%d look-ups, want 2", n)
	}
	for range 3 {
		c.add(10 * time.Minute)
		d.Names(t.Context(), deletedID)
	}
	if n := f.gets.Load(); n != 2 {
		t.Errorf("%d look-ups after repeated views within the hour, want still 2", n)
	}
	c.add(31 * time.Minute)
	d.Names(t.Context(), deletedID)
	if n := f.gets.Load(); n != 3 {
		t.Errorf("%d look-ups once the miss expired, want 3", n)
	}
}

// TestLookupFailureNotRemembered: Dixa failing is shown as unavailable and
// asked again next time.
func TestLookupFailureNotRemembered(t *testing.T) {
	f := newFake()
	f.failGet = &apiclient.Error{Status: 503, Message: "down"}
	d := agents.New(f, agents.Options{})
	if p := d.Names(t.Context(), newID)[newID]; p.Status != agents.Unavailable {
		t.Errorf("got %+v, want unavailable", p)
	}
	f.mu.Lock()
	f.failGet = nil
	f.mu.Unlock()
	if p := d.Names(t.Context(), newID)[newID]; p.Status != agents.Known {
		t.Errorf("after recovery: got %+v, want known", p)
	}
	if n := f.gets.Load(); n != 2 {
		t.Errorf("%d look-ups, want 2", n)
	}
}

// TestLookupIsShared: ten views asking for the same unknown id at once
// make one call.
func TestLookupIsShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.block = make(chan struct{})
		d := agents.New(f, agents.Options{})
		d.Names(t.Context(), annID) // read the list
		var wg sync.WaitGroup
		results := make([]agents.Person, 10)
		for i := range results {
			wg.Go(func() { results[i] = d.Names(context.Background(), deletedID)[deletedID] })
		}
		synctest.Wait() // all ten wait on the one look-up
		close(f.block)
		wg.Wait()
		if n := f.gets.Load(); n != 1 {
			t.Errorf("%d look-ups, want 1", n)
		}
		for i, p := range results {
			if p.Status != agents.Unknown {
				t.Errorf("view %d: got %+v", i, p)
			}
		}
	})
}

// TestRunRefreshes: Run reads the list at once, again every Refresh, a
// minute after a failure, and stops when its context ends.
func TestRunRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		d := agents.New(f, agents.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { d.Run(ctx); close(done) }()
		synctest.Wait()
		if n := f.lists.Load(); n != 1 || d.Loaded().IsZero() {
			t.Fatalf("at start: %d reads, loaded %v", n, d.Loaded())
		}
		time.Sleep(9 * time.Minute)
		synctest.Wait()
		if n := f.lists.Load(); n != 1 {
			t.Errorf("after 9 minutes: %d reads, want 1", n)
		}
		f.mu.Lock()
		f.agents = append(f.agents, apiclient.Agent{ID: newID, DisplayName: "New Hire", Email: "new@example.com"})
		f.failAll = errors.New("dixa down")
		f.mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := f.lists.Load(); n != 2 {
			t.Errorf("after 10 minutes: %d reads, want 2", n)
		}
		if p := d.Names(ctx, annID)[annID]; p.Status != agents.Known {
			t.Errorf("a failed read keeps the previous list: got %+v", p)
		}
		f.mu.Lock()
		f.failAll = nil
		f.mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := f.lists.Load(); n != 3 {
			t.Errorf("a minute after the failure: %d reads, want 3", n)
		}
		if p := d.Names(ctx, newID)[newID]; p.Status != agents.Known || f.gets.Load() != 0 {
			t.Errorf("the new agent comes from the new list: got %+v after %d look-ups", p, f.gets.Load())
		}
		cancel()
		<-done
	})
}

// TestNamesWithoutList: when the list cannot be read, ids are looked up
// one by one, at most ten per call.
func TestNamesWithoutList(t *testing.T) {
	f := newFake()
	f.failAll = errors.New("dixa down")
	d := agents.New(f, agents.Options{})
	ids := []string{newID, deletedID}
	for i := range 12 {
		ids = append(ids, "00000000-0000-4000-8000-1000000000"+string(rune('a'+i))+"0")
	}
	got := d.Names(t.Context(), ids...)
	if p := got[newID]; p.Status != agents.Known {
		t.Errorf("got %+v", p)
	}
	if n := f.gets.Load(); n != 10 {
		t.Errorf("%d look-ups, want 10 (the cap)", n)
	}
	unavailable := 0
	for _, p := range got {
		if p.Status == agents.Unavailable {
			unavailable++
		}
	}
	if unavailable != 4 {
		t.Errorf("%d people not looked up, want 4", unavailable)
	}
}

// TestFailedListNotReadPerView: while the list cannot be read, views try
// again at most once a minute.
func TestFailedListNotReadPerView(t *testing.T) {
	f := newFake()
	f.failAll = errors.New("dixa down")
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d := agents.New(f, agents.Options{Now: c.now})
	for range 3 {
		d.Names(t.Context(), annID)
	}
	if n := f.lists.Load(); n != 1 {
		t.Errorf("%d list reads, want 1", n)
	}
	c.add(time.Minute)
	f.mu.Lock()
	f.failAll = nil
	f.mu.Unlock()
	if p := d.Names(t.Context(), annID)[annID]; p.Status != agents.Known || f.lists.Load() != 2 {
		t.Errorf("a minute later: got %+v after %d reads", p, f.lists.Load())
	}
}

func TestReady(t *testing.T) {
	f := newFake()
	f.failAll = errors.New("dixa down")
	d := agents.New(f, agents.Options{})
	select {
	case <-d.Ready():
		t.Fatal("ready before any read")
	default:
	}
	d.Names(t.Context(), annID)
	select {
	case <-d.Ready():
	default:
		t.Error("not ready after a failed first read")
	}
}
