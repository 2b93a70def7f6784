package apiclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// One person with 50 calls queued cannot starve another person: the other
// person's single call is served within about one slot.
func TestLimiterFairAcrossPersons(t *testing.T) {
	for _, tt := range []struct {
		name string
		lim  func() *Limiter
	}{
		{"in process", func() *Limiter { return NewLimiter(10, 4) }},
		{"shared bucket", func() *Limiter { return NewSharedLimiter(newGCRABucket(10, 4)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := tt.lim()
				start := time.Now()
				a := WithCaller(t.Context(), "script@example.com")
				var doneA atomic.Int32
				var wg sync.WaitGroup
				for range 50 {
					wg.Go(func() {
						if err := l.Wait(a); err != nil {
							t.Errorf("A: %v", err)
						}
						doneA.Add(1)
					})
				}
				synctest.Wait() // A's calls are all queued
				if err := l.Wait(WithCaller(t.Context(), "lea@example.com")); err != nil {
					t.Fatalf("B: %v", err)
				}
				took, before := time.Since(start), doneA.Load()
				// A's burst (3 in process, 2 shared) goes at once and A's
				// next call holds the turn for the slot at 100ms; that turn
				// covers turnCalls calls (100, 200 and 300ms); the next
				// slot, at 400ms or sooner, is B's.
				if took > 400*time.Millisecond || before > 6 {
					t.Errorf("B served after %v with %d of A's calls before it; want ≤ 400ms and ≤ 6", took, before)
				}
				wg.Wait()
				if d := time.Since(start); d < 4700*time.Millisecond {
					t.Errorf("51 calls took %v; the rate (10/s, burst 3 or 2) allows no less than 4.7s", d)
				}
			})
		})
	}
}

// A page's reads are made at once (the customer and their conversations):
// when its person's turn comes, the second read follows the first instead
// of waiting a whole round behind everyone who queued after the page.
func TestFairQueuePageReadsInOneTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(10, 1)
		var order []string
		var mu sync.Mutex
		var wg sync.WaitGroup
		call := func(who string) {
			wg.Go(func() {
				if err := l.Wait(WithCaller(t.Context(), who)); err != nil {
					t.Errorf("%s: %v", who, err)
				}
				mu.Lock()
				order = append(order, who)
				mu.Unlock()
			})
			synctest.Wait()
		}
		call("first")  // takes the burst
		call("holder") // holds the turn for the slot at 100ms
		call("page")   // a page's two reads
		call("page")
		for i := range 5 { // and five people queued after them
			call(fmt.Sprintf("other%d", i))
		}
		wg.Wait()
		pos := []int{}
		for i, who := range order {
			if who == "page" {
				pos = append(pos, i)
			}
		}
		if len(pos) != 2 || pos[1] != pos[0]+1 {
			t.Errorf("served in order %v; want the page's two reads one after the other", order)
		}
	})
}

// A caller that gives up while queued leaves the queue; the others are
// served in order and nobody is stranded.
func TestFairQueueCancelledWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newFairQueue()
		release, err := q.take(t.Context(), "a")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		gaveUp := make(chan error, 1)
		go func() {
			_, err := q.take(ctx, "b")
			gaveUp <- err
		}()
		got := make(chan string, 2)
		for _, id := range []string{"c", "d"} {
			go func() {
				rel, err := q.take(t.Context(), id)
				if err != nil {
					t.Errorf("%s: %v", id, err)
					return
				}
				got <- id
				rel()
			}()
			synctest.Wait()
		}
		cancel()
		if err := <-gaveUp; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v", err)
		}
		release()
		if a, b := <-got, <-got; a != "c" || b != "d" {
			t.Errorf("served %s, %s; want c, d", a, b)
		}
		synctest.Wait() // d has given its turn up
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.busy || len(q.ring) != 0 || len(q.queues) != 0 {
			t.Errorf("queue not empty at the end: busy %v ring %v", q.busy, q.ring)
		}
	})
}

// gcraBucket is the shared bucket's algorithm in memory, for testing the
// Limiter against a Bucket without a database.
type gcraBucket struct {
	mu                  sync.Mutex
	interval, tolerance time.Duration
	tat, blockedUntil   time.Time
	fail                error
	calls               int
}

func newGCRABucket(rps float64, burst int) *gcraBucket {
	iv := time.Duration(float64(time.Second) / rps)
	return &gcraBucket{interval: iv, tolerance: time.Duration(max(burst-3, 0)) * iv}
}

func (b *gcraBucket) Interval() time.Duration { return b.interval }

func (b *gcraBucket) Reserve(ctx context.Context, idleOnly bool, maxWait time.Duration) (time.Duration, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.fail != nil {
		return 0, false, b.fail
	}
	now := time.Now()
	if idleOnly {
		if b.tat.After(now) || b.blockedUntil.After(now) {
			return latest(b.tat, b.blockedUntil, now).Sub(now), false, nil
		}
	}
	send := latest(now, b.blockedUntil, b.tat.Add(-b.tolerance))
	if send.Sub(now) > maxWait {
		return send.Sub(now), false, nil
	}
	b.tat = latest(b.tat, now, b.blockedUntil).Add(b.interval)
	return send.Sub(now), true, nil
}

func (b *gcraBucket) Block(ctx context.Context, d time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.blockedUntil = latest(b.blockedUntil, time.Now().Add(d))
	return nil
}

func latest(ts ...time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// Through a shared bucket: the rate holds, a block set by one limiter holds
// the other, and low-priority work waits until interactive work is done.
func TestSharedLimiterRateBlockAndLanes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newGCRABucket(10, 4)
		l1, l2 := NewSharedLimiter(b), NewSharedLimiter(b)
		start := time.Now()
		var wg sync.WaitGroup
		var lowAt, lastHigh atomic.Int64
		for i := range 20 {
			l := []*Limiter{l1, l2}[i%2]
			wg.Go(func() {
				if err := l.Wait(t.Context()); err != nil {
					t.Errorf("Wait: %v", err)
				}
				lastHigh.Store(max(lastHigh.Load(), int64(time.Since(start))))
			})
		}
		synctest.Wait()
		wg.Go(func() {
			if err := l1.Wait(WithLowPriority(t.Context())); err != nil {
				t.Errorf("low: %v", err)
			}
			lowAt.Store(int64(time.Since(start)))
		})
		wg.Wait()
		// 20 calls at 10/s with 2 at once: the last at 1.8s.
		if d := time.Duration(lastHigh.Load()); d < 1800*time.Millisecond {
			t.Errorf("20 calls over two limiters done after %v, want ≥ 1.8s", d)
		}
		if d := time.Duration(lowAt.Load()); d < time.Duration(lastHigh.Load()) {
			t.Errorf("low-priority call at %v, before the last interactive one at %v", d, time.Duration(lastHigh.Load()))
		}

		l2.BlockUntil(time.Now().Add(3 * time.Second))
		t0 := time.Now()
		if err := l1.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d < 3*time.Second {
			t.Errorf("a block set through one limiter held the other %v, want 3s", d)
		}
	})
}

// A bucket that cannot answer fails closed: the call is refused at once as
// rate limited, with a Retry-After hint; nothing is let through.
func TestSharedLimiterFailsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newGCRABucket(10, 4)
		b.fail = errors.New("connection refused")
		l := NewSharedLimiter(b)
		for _, ctx := range []context.Context{t.Context(), WithLowPriority(t.Context())} {
			start := time.Now()
			err := l.Wait(ctx)
			var e *Error
			if !errors.Is(err, ErrRateLimited) || !errors.Is(err, ErrBudgetUnknown) || !errors.As(err, &e) || e.RetryAfter <= 0 {
				t.Fatalf("Wait with the bucket down = %v, want ErrRateLimited and ErrBudgetUnknown with RetryAfter", err)
			}
			if d := time.Since(start); d > 0 {
				t.Errorf("failed after %v, want at once", d)
			}
		}
	})
}

// An interactive call whose slot is further away than its deadline is
// refused at once with the wait as its Retry-After, without taking the slot.
func TestSharedLimiterQueueMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newGCRABucket(10, 4)
		l := NewSharedLimiter(b)
		b.Block(t.Context(), 5*time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		err := l.Wait(ctx)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.RetryAfter < 5*time.Second {
			t.Fatalf("Wait = %v, want ErrRateLimited with RetryAfter ≥ 5s", err)
		}
		if d := time.Since(start); d > 0 {
			t.Errorf("refused after %v, want at once", d)
		}
		if !b.tat.IsZero() {
			t.Error("a refused call took a slot")
		}
	})
}

// With a queue maximum, interactive calls that cannot get a slot in time
// fail with ErrRateLimited by then, never later; background work keeps the
// longer wait budget.
func TestClientQueueMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder(ok(`{"data":[]}`))
		c := newMemClient(t, rec, WithLimiter(NewLimiter(10, 4)), WithQueueMax(2*time.Second), WithMaxWait(30*time.Second))
		start := time.Now()
		var wg sync.WaitGroup
		var served, refused atomic.Int32
		for i := range 40 {
			wg.Go(func() {
				_, err := c.ListEndUsers(WithCaller(t.Context(), fmt.Sprint("p", i%4)), ListOptions{})
				var e *Error
				switch {
				case err == nil:
					served.Add(1)
				case errors.Is(err, ErrRateLimited) && errors.As(err, &e) && e.RetryAfter >= time.Second:
					refused.Add(1)
				default:
					t.Errorf("call: %v", err)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("call answered after %v, want ≤ 2s", d)
				}
			})
		}
		synctest.Wait()
		var lowErr error
		wg.Go(func() { _, lowErr = c.ListEndUsers(WithLowPriority(t.Context()), ListOptions{}) })
		wg.Wait()
		// 3 at once, then one every 100ms until 2s.
		if s, r := served.Load(), refused.Load(); s < 20 || s > 23 || s+r != 40 {
			t.Errorf("served %d, refused %d; want about 22 served and the rest refused", s, r)
		}
		if lowErr != nil {
			t.Errorf("background call: %v", lowErr)
		}
	})
}

// During a block longer than their deadline, queued callers are refused at
// once, not when their deadline passes.
func TestLimiterBlockRefusesQueuedCallersAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(10, 4)
		l.BlockUntil(time.Now().Add(10 * time.Second))
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(WithCaller(t.Context(), fmt.Sprint(i)), 2*time.Second)
				defer cancel()
				if err := l.Wait(ctx); !errors.Is(err, ErrRateLimited) {
					t.Errorf("Wait = %v, want ErrRateLimited", err)
				}
				if d := time.Since(start); d > 0 {
					t.Errorf("refused after %v, want at once", d)
				}
			})
		}
		wg.Wait()
	})
}
