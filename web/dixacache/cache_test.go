package dixacache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTest(o Options) (*Cache, *clock) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	o.Now = clk.Now
	return New(o), clk
}

func user(id string) apiclient.EndUser {
	return apiclient.EndUser{ID: id, DisplayName: "Person " + id, Email: id + "@example.com"}
}

// counted returns a fetch that counts its calls.
func counted(n *atomic.Int64, v apiclient.EndUser, err error) func(context.Context) (apiclient.EndUser, error) {
	return func(context.Context) (apiclient.EndUser, error) {
		n.Add(1)
		return v, err
	}
}

func TestCacheServesRepeatsWithinTTL(t *testing.T) {
	c, clk := newTest(Options{TTL: 15 * time.Second})
	var n atomic.Int64
	for range 3 {
		if _, err := read(c, t.Context(), "u:a", "a", counted(&n, user("a"), nil)); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 1 {
		t.Fatalf("%d fetches within the TTL, want 1", n.Load())
	}
	clk.Add(16 * time.Second)
	read(c, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	if n.Load() != 2 {
		t.Fatalf("%d fetches after the TTL, want 2", n.Load())
	}
	read(c, WithFresh(t.Context()), "u:a", "a", counted(&n, user("a"), nil))
	if n.Load() != 3 {
		t.Fatalf("a fresh read was served from the cache")
	}
}

func TestCacheSingleflight(t *testing.T) {
	c, _ := newTest(Options{})
	var n atomic.Int64
	release := make(chan struct{})
	fetch := func(context.Context) (apiclient.EndUser, error) {
		n.Add(1)
		<-release
		return user("a"), nil
	}
	var wg sync.WaitGroup
	var started sync.WaitGroup
	for range 20 {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			if u, err := read(c, context.Background(), "u:a", "a", fetch); err != nil || u.ID != "a" {
				t.Errorf("got %v %v", u, err)
			}
		}()
	}
	started.Wait()
	// Let the callers reach the flight; the fetch waits for release.
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n.Load() > 2 {
		// At most the first flight and one that began after it stored.
		t.Fatalf("%d fetches for 20 concurrent reads, want 1", n.Load())
	}
}

func TestCacheInvalidateDropsPersonAndLists(t *testing.T) {
	c, _ := newTest(Options{})
	var n atomic.Int64
	read(c, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	read(c, t.Context(), "u:b", "b", counted(&n, user("b"), nil))
	read(c, t.Context(), "l:x", "", counted(&n, user("list"), nil))
	c.Invalidate(t.Context(), "A")
	if _, _, ok := c.lookup("u:a", "a"); ok {
		t.Error("the written person is still held")
	}
	if _, _, ok := c.lookup("l:x", ""); ok {
		t.Error("a search is still held after a write")
	}
	if _, _, ok := c.lookup("u:b", "b"); !ok {
		t.Error("another person was dropped")
	}
}

func TestCacheWriteDuringFetchIsNotStored(t *testing.T) {
	c, _ := newTest(Options{})
	fetch := func(context.Context) (apiclient.EndUser, error) {
		c.Invalidate(context.Background(), "a") // the write lands while the read is in flight
		return user("a"), nil
	}
	read(c, t.Context(), "u:a", "a", fetch)
	if _, _, ok := c.lookup("u:a", "a"); ok {
		t.Error("data read before a write was stored after it")
	}
}

func TestCacheErasedNeverServed(t *testing.T) {
	c, clk := newTest(Options{})
	var n atomic.Int64
	read(c, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	c.Erased(t.Context(), "a")
	for range 3 {
		read(c, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	}
	if n.Load() != 4 {
		t.Errorf("%d fetches, want every read after the erasure to go to Dixa", n.Load())
	}
	clk.Add(time.Minute)
	_, err := read(c, t.Context(), "u:a", "a", counted(&n, apiclient.EndUser{}, apiclient.ErrRateLimited))
	if err == nil {
		t.Error("an erased person's data was served while Dixa was busy")
	}
}

func TestCacheStaleWhenRateLimited(t *testing.T) {
	c, clk := newTest(Options{TTL: 15 * time.Second, StaleMax: 5 * time.Minute})
	var n atomic.Int64
	read(c, t.Context(), "u:a", "a", counted(&n, user("a"), nil))
	clk.Add(40 * time.Second)
	ctx, _ := WithStaleNote(t.Context())
	u, err := read(c, ctx, "u:a", "a", counted(&n, apiclient.EndUser{}, fmt.Errorf("wait: %w", apiclient.ErrRateLimited)))
	if err != nil || u.ID != "a" {
		t.Fatalf("got %v, %v; want the held data", u, err)
	}
	if age, ok := StaleAge(ctx); !ok || age != 40*time.Second {
		t.Errorf("stale age %v %v, want 40s", age, ok)
	}
	if _, err := read(c, WithFresh(t.Context()), "u:a", "a", counted(&n, apiclient.EndUser{}, apiclient.ErrRateLimited)); err == nil {
		t.Error("a fresh read (a write's check, an erasure) got held data")
	}
	clk.Add(5 * time.Minute)
	if _, err := read(c, t.Context(), "u:a", "a", counted(&n, apiclient.EndUser{}, apiclient.ErrRateLimited)); err == nil {
		t.Error("data older than StaleMax was served")
	}
	if _, err := read(c, t.Context(), "u:b", "b", counted(&n, apiclient.EndUser{}, apiclient.ErrUpstream)); err == nil {
		t.Error("an error was hidden")
	}
}

// Inserting 200,000 distinct customers keeps the cache within its bounds,
// by count and by bytes, whichever binds first.
func TestCacheSoakStaysBounded(t *testing.T) {
	for _, o := range []Options{
		{MaxEntries: 20_000, MaxBytes: 64 << 20},
		{MaxEntries: 1_000_000, MaxBytes: 4 << 20},
	} {
		c, clk := newTest(o)
		big := strings.Repeat("x", 300)
		for i := range 200_000 {
			id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
			u := user(id)
			u.AvatarURL = "https://example.com/" + big
			var n atomic.Int64
			read(c, context.Background(), "u:"+id, id, counted(&n, u, nil))
			if i%1000 == 0 {
				clk.Add(10 * time.Millisecond)
			}
			if s := c.Stats(); s.Entries > o.MaxEntries || s.Bytes > o.MaxBytes {
				t.Fatalf("after %d: %d entries, %d bytes; bounds %d, %d", i, s.Entries, s.Bytes, o.MaxEntries, o.MaxBytes)
			}
		}
		s := c.Stats()
		t.Logf("bounds %d entries / %d bytes: holds %d entries, %d bytes", o.MaxEntries, o.MaxBytes, s.Entries, s.Bytes)
		if s.Entries == 0 {
			t.Error("the cache holds nothing")
		}
		c.mu.Lock()
		if len(c.items) != c.lru.Len() || len(c.owners) != c.lru.Len() {
			t.Errorf("index out of step: %d items, %d owners, %d in the list", len(c.items), len(c.owners), c.lru.Len())
		}
		c.mu.Unlock()
	}
}
