package apiclient

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// After N consecutive failures the breaker fails fast without calling
// upstream; after the open interval exactly one probe goes through.
func TestBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failing atomic.Bool
		failing.Store(true)
		var calls atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			time.Sleep(100 * time.Millisecond) // probes take a while: others arrive meanwhile
			if failing.Load() {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			_, _ = w.Write([]byte(endUserJSON))
		})
		c := newMemClient(t, h, WithBreaker(3, 10*time.Second), WithRetries(0))
		get := func() error { _, err := c.GetEndUser(t.Context(), userID); return err }

		for i := range 3 {
			if err := get(); !errors.Is(err, ErrUpstream) || errors.Is(err, ErrBreakerOpen) {
				t.Fatalf("failure %d: error %v, want a plain upstream error", i, err)
			}
		}
		if got := calls.Load(); got != 3 {
			t.Fatalf("got %d calls, want 3", got)
		}
		openedAt := time.Now()

		// Open: fast failures, no calls, for 10s.
		for range 5 {
			start := time.Now()
			err := get()
			if !errors.Is(err, ErrBreakerOpen) || !errors.Is(err, ErrUpstream) {
				t.Fatalf("open breaker: error %v, want ErrBreakerOpen and ErrUpstream", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.RetryAfter <= 0 || e.RetryAfter > 10*time.Second {
				t.Errorf("RetryAfter = %v, want in (0, 10s]", e.RetryAfter)
			}
			if time.Since(start) != 0 {
				t.Errorf("open breaker took %v, want 0", time.Since(start))
			}
			time.Sleep(time.Second)
		}
		if got := calls.Load(); got != 3 {
			t.Fatalf("open breaker let calls through: %d, want 3", got)
		}

		// Half-open: of five concurrent callers exactly one reaches upstream;
		// its failure re-opens the breaker.
		time.Sleep(time.Until(openedAt.Add(10 * time.Second)))
		var wg sync.WaitGroup
		var fast atomic.Int32
		for range 5 {
			wg.Go(func() {
				if err := get(); errors.Is(err, ErrBreakerOpen) {
					fast.Add(1)
				}
			})
		}
		wg.Wait()
		if got := calls.Load(); got != 4 {
			t.Errorf("half-open: got %d calls, want 4 (one probe)", got)
		}
		if got := fast.Load(); got != 4 {
			t.Errorf("half-open: %d callers refused, want 4", got)
		}
		if err := get(); !errors.Is(err, ErrBreakerOpen) {
			t.Errorf("after failed probe: error %v, want ErrBreakerOpen", err)
		}

		// Next probe succeeds and closes the breaker.
		failing.Store(false)
		time.Sleep(10 * time.Second)
		if err := get(); err != nil {
			t.Fatalf("probe: %v", err)
		}
		for range 3 {
			if err := get(); err != nil {
				t.Errorf("closed breaker: %v", err)
			}
		}
		if got := calls.Load(); got != 8 {
			t.Errorf("got %d calls, want 8", got)
		}
	})
}

// What counts: 5xx, timeouts and connection errors do; 4xx, 429 and the
// caller's own cancellation do not (and an answer resets the count).
func TestBreakerCounting(t *testing.T) {
	tests := []struct {
		name     string
		resps    []response
		wantOpen bool
	}{
		{"three 500s", []response{status(500, ``), status(502, ``), status(503, ``)}, true},
		{"timeouts", []response{{hang: true}}, true},
		{"404s", []response{status(404, `{"message":"x"}`)}, false},
		{"429s", []response{{status: 429, header: retryAfter0}}, false},
		{"success in between", []response{status(500, ``), status(500, ``), ok(endUserJSON), status(500, ``), status(500, ``)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder(tt.resps...)
				c := newMemClient(t, rec, WithBreaker(3, time.Minute), WithRetries(0), WithTimeout(time.Second))
				for range len(tt.resps) {
					_, _ = c.GetEndUser(t.Context(), userID)
				}
				if len(tt.resps) == 1 {
					_, _ = c.GetEndUser(t.Context(), userID)
					_, _ = c.GetEndUser(t.Context(), userID)
				}
				before := rec.count()
				_, err := c.GetEndUser(t.Context(), userID)
				if got := errors.Is(err, ErrBreakerOpen); got != tt.wantOpen {
					t.Errorf("breaker open = %v (err %v), want %v", got, err, tt.wantOpen)
				}
				if tt.wantOpen && rec.count() != before {
					t.Errorf("open breaker sent a request")
				}
			})
		})
	}
}

func TestBreakerIgnoresCallerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder(response{hang: true})
		c := newMemClient(t, rec, WithBreaker(2, time.Minute), WithRetries(0))
		for range 5 {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			_, err := c.GetEndUser(ctx, userID)
			cancel()
			if errors.Is(err, ErrBreakerOpen) {
				t.Fatalf("breaker opened on the caller's own deadlines")
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want context.DeadlineExceeded", err)
			}
		}
	})
}

// A probe that never gets an answer (its caller gave up in the limiter)
// does not wedge the breaker half-open.
func TestBreakerAbandonedProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failing atomic.Bool
		failing.Store(true)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() {
				w.WriteHeader(http.StatusInternalServerError)
			} else {
				_, _ = w.Write([]byte(endUserJSON))
			}
		})
		lim := NewLimiter(1000, 1000)
		c := newMemClient(t, h, WithBreaker(1, time.Second), WithRetries(0), WithLimiter(lim))
		_, _ = c.GetEndUser(t.Context(), userID) // opens
		time.Sleep(time.Second)
		failing.Store(false)

		lim.BlockUntil(time.Now().Add(time.Minute))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := c.GetEndUser(ctx, userID) // the probe, stuck in the limiter
		cancel()
		if !errors.Is(err, ErrRateLimited) {
			t.Fatalf("probe error = %v, want ErrRateLimited", err)
		}
		// Lift the block (a fresh limiter; BlockUntil never shortens).
		c.lim = NewLimiter(1000, 1000)
		if _, err := c.GetEndUser(t.Context(), userID); err != nil {
			t.Errorf("next call after abandoned probe: %v, want success", err)
		}
	})
}
