package apiclient

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// slowBucket is a shared bucket whose answers take delay(n) to come back
// for the n-th reservation (a loaded database, a stalled process). It
// records the instants of the slots it granted, on its own clock.
type slowBucket struct {
	*gcraBucket
	delay func(n int) time.Duration

	mu    sync.Mutex
	n     int
	slots []time.Time
}

func (b *slowBucket) Reserve(ctx context.Context, idleOnly bool, maxWait time.Duration) (time.Duration, bool, error) {
	d, ok, err := b.gcraBucket.Reserve(ctx, idleOnly, maxWait)
	b.mu.Lock()
	b.n++
	n := b.n
	if ok && err == nil {
		b.slots = append(b.slots, time.Now().Add(d))
	}
	b.mu.Unlock()
	time.Sleep(b.delay(n))
	return d, ok, err
}

// A shared slot whose answer came back so late that the slot has passed by
// more than half an interval is not used: the caller reserves again. Every
// send is at or after a slot of its own and at most half an interval
// later, so late answers cannot bunch sends beyond the bucket's burst; the
// same holds for the low-priority lane.
func TestSharedLimiterLateAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &slowBucket{gcraBucket: newGCRABucket(10, 4), delay: func(n int) time.Duration {
			switch n % 3 {
			case 0:
				return 180 * time.Millisecond // the slot is gone when the answer comes
			case 1:
				return 30 * time.Millisecond // late, within half an interval
			}
			return 0
		}}
		limiters := []*Limiter{NewSharedLimiter(b), NewSharedLimiter(b)}
		var mu sync.Mutex
		var sends []time.Time
		var wg sync.WaitGroup
		for i := range 30 {
			ctx := WithCaller(t.Context(), fmt.Sprint(i%5))
			if i%10 == 9 {
				ctx = WithLowPriority(t.Context())
			}
			wg.Go(func() {
				if err := limiters[i%2].Wait(ctx); err != nil {
					t.Errorf("call %d: %v", i, err)
					return
				}
				mu.Lock()
				sends = append(sends, time.Now())
				mu.Unlock()
			})
		}
		wg.Wait()

		slices.SortFunc(sends, func(a, b time.Time) int { return a.Compare(b) })
		slots := slices.Clone(b.slots)
		slices.SortFunc(slots, func(a, b time.Time) int { return a.Compare(b) })
		half := b.Interval() / 2
		used := make([]bool, len(slots))
		for _, s := range sends {
			j := slices.IndexFunc(slots, func(at time.Time) bool { return !at.After(s) && s.Sub(at) <= half })
			for j >= 0 && j < len(slots) && used[j] {
				j++
			}
			if j < 0 || j == len(slots) || slots[j].After(s) || s.Sub(slots[j]) > half {
				t.Errorf("a send at %v has no slot of its own at most %v before it", s.Format("15:04:05.000"), half)
				continue
			}
			used[j] = true
		}
		if len(slots) <= len(sends) {
			t.Errorf("%d slots for %d sends: the slots answered too late were used", len(slots), len(sends))
		}
		// The bucket's burst (2) and a second's slots (10), with half an
		// interval of lateness: at most 12 in any second.
		for i := range sends {
			n := 0
			for _, s := range sends[i:] {
				if s.Sub(sends[i]) < time.Second {
					n++
				}
			}
			if n > 12 {
				t.Errorf("%d sends within one second from %v, want ≤ 12", n, sends[i].Format("15:04:05.000"))
				break
			}
		}
	})
}
