package apiclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestLimiterBlockUntilNeverShortens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(10, 4)
		now := time.Now()
		steps := []struct {
			block time.Time
			want  time.Time
		}{
			{now.Add(3 * time.Second), now.Add(3 * time.Second)},
			{now.Add(time.Second), now.Add(3 * time.Second)},
			{time.Time{}, now.Add(3 * time.Second)},
			{now.Add(5 * time.Second), now.Add(5 * time.Second)},
		}
		for i, s := range steps {
			l.BlockUntil(s.block)
			if got := l.BlockedUntil(); !got.Equal(s.want) {
				t.Errorf("step %d: BlockedUntil = %v, want %v", i, got, s.want)
			}
		}
	})
}

func TestLimiterWaitsForBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(10, 4)
		start := time.Now()
		l.BlockUntil(start.Add(3 * time.Second))
		var wg sync.WaitGroup
		for _, ctx := range []context.Context{t.Context(), WithLowPriority(t.Context())} {
			wg.Go(func() {
				if err := l.Wait(ctx); err != nil {
					t.Errorf("Wait: %v", err)
				}
				if d := time.Since(start); d < 3*time.Second {
					t.Errorf("Wait returned after %v, want ≥ 3s", d)
				}
			})
		}
		// Extending the block while they wait holds them longer.
		time.Sleep(time.Second)
		l.BlockUntil(start.Add(4 * time.Second))
		wg.Wait()
		if d := time.Since(start); d < 4*time.Second {
			t.Errorf("waiters released after %v, want ≥ 4s", d)
		}
	})
}

// Dixa's 10/s with a burst of 4: three at once (one token of headroom for
// jitter), then one every 100ms.
func TestLimiterRate(t *testing.T) {
	tests := []struct {
		rps       float64
		burst     int
		wantBurst int
	}{
		{10, 4, 3},
		{10, 2, 1},
		{10, 1, 1},
		{10, 0, 1},
		{100, 10, 9},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%d", tt.rps, tt.burst), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(tt.rps, tt.burst)
				start := time.Now()
				interval := time.Duration(float64(time.Second) / tt.rps)
				for i := range tt.wantBurst + 10 {
					if err := l.Wait(t.Context()); err != nil {
						t.Fatal(err)
					}
					want := time.Duration(0)
					if i >= tt.wantBurst {
						want = time.Duration(i-tt.wantBurst+1) * interval
					}
					if d := time.Since(start); d < want-time.Microsecond || d > want+time.Microsecond {
						t.Errorf("token %d at %v, want %v", i, d, want)
					}
				}
			})
		})
	}
}

// A 429 arriving while callers wait for tokens holds them, and they come
// out of the block at the bucket's pace, not all at once.
func TestLimiterBlockDuringTokenWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(10, 1)
		start := time.Now()
		_ = l.Wait(t.Context()) // spend the burst
		var mu sync.Mutex
		var at []time.Duration
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if err := l.Wait(t.Context()); err != nil {
					t.Error(err)
				}
				mu.Lock()
				at = append(at, time.Since(start))
				mu.Unlock()
			})
		}
		time.Sleep(50 * time.Millisecond)
		l.BlockUntil(start.Add(2 * time.Second))
		wg.Wait()
		for i, d := range at {
			if d < 2*time.Second {
				t.Errorf("waiter %d released at %v, want ≥ 2s", i, d)
			}
			if i > 0 && d-at[i-1] < 100*time.Millisecond {
				t.Errorf("waiters %d and %d released %v apart, want ≥ 100ms", i-1, i, d-at[i-1])
			}
		}
	})
}

// A low-priority caller only gets a token when no interactive caller waits.
func TestLimiterPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(1, 1)
		_ = l.Wait(t.Context()) // bucket empty; next token in 1s
		start := time.Now()

		var mu sync.Mutex
		var order []string
		record := func(who string) {
			mu.Lock()
			order = append(order, who)
			mu.Unlock()
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := l.Wait(WithLowPriority(t.Context())); err != nil {
				t.Error(err)
			}
			record("bulk")
		})
		synctest.Wait() // the bulk caller is waiting first
		for i := range 3 {
			time.Sleep(10 * time.Millisecond)
			wg.Go(func() {
				if err := l.Wait(t.Context()); err != nil {
					t.Error(err)
				}
				record("agent" + string(rune('1'+i)))
			})
		}
		wg.Wait()
		want := []string{"agent1", "agent2", "agent3", "bulk"}
		if len(order) != len(want) {
			t.Fatalf("order = %v, want %v", order, want)
		}
		for i := range want {
			if order[i] != want[i] {
				t.Fatalf("order = %v, want %v", order, want)
			}
		}
		// Three interactive tokens at 1s, 2s, 3s, then the bulk one at 4s.
		// (x/time/rate's float arithmetic may land a nanosecond early.)
		if d := time.Since(start); d < 4*time.Second-time.Millisecond || d > 4*time.Second+2*time.Millisecond {
			t.Errorf("all served after %v, want 4s", d)
		}
	})
}

// With no interactive traffic the low-priority lane runs at the full rate.
func TestLimiterLowPriorityAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(10, 4)
		ctx := WithLowPriority(t.Context())
		start := time.Now()
		for range 14 {
			if err := l.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// 3 at once, then 11 at 100ms intervals.
		if d := time.Since(start); d < 1100*time.Millisecond-time.Millisecond || d > 1100*time.Millisecond+12*time.Millisecond {
			t.Errorf("14 low-priority tokens took %v, want ≈1.1s", d)
		}
	})
}

func TestLimiterErrors(t *testing.T) {
	tests := []struct {
		name      string
		low       bool
		setup     func(l *Limiter)
		ctx       func(ctx context.Context) (context.Context, context.CancelFunc)
		wantIs    error
		wantRetry time.Duration // 0: don't check
	}{
		{
			name:  "blocked past deadline",
			setup: func(l *Limiter) { l.BlockUntil(time.Now().Add(3 * time.Second)) },
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, time.Second)
			},
			wantIs: ErrRateLimited, wantRetry: 3 * time.Second,
		},
		{
			name:  "no token before deadline",
			setup: func(l *Limiter) { _ = l.Wait(context.Background()) },
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 500*time.Millisecond)
			},
			wantIs: ErrRateLimited, wantRetry: 2 * time.Second,
		},
		{
			name: "low priority, no token before deadline", low: true,
			setup: func(l *Limiter) { _ = l.Wait(context.Background()) },
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 500*time.Millisecond)
			},
			wantIs: ErrRateLimited,
		},
		{
			name:  "cancelled",
			setup: func(l *Limiter) { l.BlockUntil(time.Now().Add(time.Hour)) },
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx, cancel
			},
			wantIs: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(0.5, 1) // a token every 2s
				tt.setup(l)
				ctx, cancel := tt.ctx(t.Context())
				defer cancel()
				if tt.low {
					ctx = WithLowPriority(ctx)
				}
				start := time.Now()
				err := l.Wait(ctx)
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("Wait error = %v, want %v", err, tt.wantIs)
				}
				if tt.wantRetry > 0 {
					var e *Error
					if !errors.As(err, &e) || e.RetryAfter != tt.wantRetry {
						t.Errorf("error %v: want *Error with RetryAfter %v", err, tt.wantRetry)
					}
					if d := time.Since(start); d != 0 {
						t.Errorf("Wait took %v, want 0 (fail fast)", d)
					}
				}
			})
		})
	}
}

func TestLimiterUnlimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(0, 0)
		start := time.Now()
		for range 1000 {
			if err := l.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := l.Wait(WithLowPriority(t.Context())); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("unlimited waits took %v, want 0", d)
		}
	})
}
