package apiclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

var retryAfter0 = map[string]string{"Retry-After": "0"}

func TestGETRetries(t *testing.T) {
	tests := []struct {
		name      string
		resps     []response
		retries   int
		wantCalls int
		wantErr   error // nil: success
	}{
		{"500 then ok", []response{status(500, `{"message":"x"}`), status(502, ``), ok(endUserJSON)}, 3, 3, nil},
		{"always 503", []response{status(503, ``)}, 3, 4, ErrUpstream},
		{"retries off", []response{status(500, ``)}, 0, 1, ErrUpstream},
		{"429 then ok", []response{{status: 429, header: retryAfter0}, ok(endUserJSON)}, 3, 2, nil},
		{"always 429", []response{{status: 429, header: retryAfter0}}, 2, 3, ErrRateLimited},
		{"404 not retried", []response{status(404, `{"message":"x"}`)}, 3, 1, ErrNotFound},
		{"400 not retried", []response{status(400, `{"message":"x"}`)}, 3, 1, ErrBadRequest},
		{"401 not retried", []response{status(401, `{"message":"x"}`)}, 3, 1, ErrUnauthorized},
		{"timeout then ok", []response{{hang: true}, ok(endUserJSON)}, 3, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder(tt.resps...)
				c := newMemClient(t, rec, WithRetries(tt.retries), WithTimeout(time.Second), WithMaxWait(time.Minute))
				_, err := c.GetEndUser(t.Context(), userID)
				if tt.wantErr == nil && err != nil {
					t.Fatalf("got error %v, want success", err)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
				if errors.Is(err, ErrOutcomeUnknown) {
					t.Errorf("GET error %v matches ErrOutcomeUnknown", err)
				}
				if got := rec.count(); got != tt.wantCalls {
					t.Errorf("got %d calls, want %d", got, tt.wantCalls)
				}
			})
		})
	}
}

// Retries are spaced by jittered exponential back-off, within the ceilings.
func TestGETRetryBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder(status(500, ``))
		c := newMemClient(t, rec, WithRetries(3), WithMaxWait(time.Minute))
		_, _ = c.GetEndUser(t.Context(), userID)
		reqs := rec.requests()
		if len(reqs) != 4 {
			t.Fatalf("got %d calls, want 4", len(reqs))
		}
		for i := 1; i < len(reqs); i++ {
			gap := reqs[i].At.Sub(reqs[i-1].At)
			ceil := backoffBase<<(i-1) + time.Millisecond
			if gap <= 0 || gap > ceil {
				t.Errorf("gap before retry %d = %v, want in (0, %v]", i, gap, ceil)
			}
		}
	})
}

// Connection errors: a GET is retried; a write is not, and since nothing
// was written its outcome is known (not applied).
func TestConnectionErrorBeforeSend(t *testing.T) {
	tests := []struct {
		name      string
		call      func(ctx context.Context, c *Client) error
		wantCalls int32
	}{
		{"GET retried", func(ctx context.Context, c *Client) error { _, err := c.GetEndUser(ctx, userID); return err }, 4},
		{"POST not retried", func(ctx context.Context, c *Client) error {
			_, err := c.CreateEndUser(ctx, CreateEndUserInput{})
			return err
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int32
				rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
					calls.Add(1)
					return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
				})
				c := newMemClient(t, nil, WithHTTPClient(&http.Client{Transport: rt}), WithMaxWait(time.Minute))
				err := tt.call(t.Context(), c)
				if !errors.Is(err, ErrUpstream) {
					t.Errorf("errors.Is(%v, ErrUpstream) = false, want true", err)
				}
				if errors.Is(err, ErrOutcomeUnknown) {
					t.Errorf("error %v matches ErrOutcomeUnknown, want not: nothing was sent", err)
				}
				if got := calls.Load(); got != tt.wantCalls {
					t.Errorf("got %d attempts, want %d", got, tt.wantCalls)
				}
			})
		})
	}
}

// A write that failed after it was sent is never repeated and reports an
// unknown outcome; a write refused with 429 is retried.
func TestWritesNotRetried(t *testing.T) {
	name := "x"
	// Calls answered with a list; the others get a single object.
	listAnswer := map[string]bool{"bulk create": true, "bulk update": true, "bulk patch": true, "custom attributes": true}
	calls := map[string]func(ctx context.Context, c *Client) error{
		"create": func(ctx context.Context, c *Client) error {
			_, err := c.CreateEndUser(ctx, CreateEndUserInput{DisplayName: "x"})
			return err
		},
		"bulk create": func(ctx context.Context, c *Client) error {
			_, err := c.CreateEndUsers(ctx, []CreateEndUserInput{{DisplayName: "x"}})
			return err
		},
		"update": func(ctx context.Context, c *Client) error {
			_, err := c.UpdateEndUser(ctx, userID, UpdateEndUserInput{DisplayName: "x"})
			return err
		},
		"bulk update": func(ctx context.Context, c *Client) error {
			_, err := c.UpdateEndUsers(ctx, []BulkUpdateEndUserInput{{ID: userID}})
			return err
		},
		"patch": func(ctx context.Context, c *Client) error {
			_, err := c.PatchEndUser(ctx, userID, PatchEndUserInput{DisplayName: &name})
			return err
		},
		"bulk patch": func(ctx context.Context, c *Client) error {
			_, err := c.PatchEndUsers(ctx, []BulkPatchEndUserInput{{ID: userID}})
			return err
		},
		"anonymize": func(ctx context.Context, c *Client) error {
			_, err := c.AnonymizeEndUser(ctx, userID, true)
			return err
		},
		"custom attributes": func(ctx context.Context, c *Client) error {
			_, err := c.PatchEndUserCustomAttributes(ctx, userID, map[string]AttributeValue{attrID: TextValue("a")})
			return err
		},
	}
	scenarios := []struct {
		name        string
		resps       []response
		wantCalls   int
		wantErr     error // nil: success
		wantUnknown bool
	}{
		{"500", []response{status(500, `{"message":"x"}`), ok(`{"data":{}}`)}, 1, ErrUpstream, true},
		{"503", []response{status(503, ``), ok(`{"data":{}}`)}, 1, ErrUpstream, true},
		{"timeout", []response{{hang: true}, ok(`{"data":{}}`)}, 1, ErrUpstream, true},
		{"429 then ok", []response{{status: 429, header: map[string]string{"Retry-After": "1"}}, ok(`{"data":{}}`)}, 2, nil, false},
		{"409", []response{status(409, `{"message":"open conversations"}`), ok(`{"data":{}}`)}, 1, ErrConflict, false},
		{"400", []response{status(400, `{"message":"x"}`), ok(`{"data":{}}`)}, 1, ErrBadRequest, false},
	}
	for name, call := range calls {
		for _, sc := range scenarios {
			t.Run(name+"/"+sc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					resps := append([]response(nil), sc.resps...)
					if listAnswer[name] {
						resps[len(resps)-1] = ok(`{"data":[]}`)
					}
					rec := newRecorder(resps...)
					c := newMemClient(t, rec, WithTimeout(2*time.Second), WithMaxWait(time.Minute))
					err := call(t.Context(), c)
					if sc.wantErr == nil && err != nil {
						t.Fatalf("got error %v, want success", err)
					}
					if sc.wantErr != nil && !errors.Is(err, sc.wantErr) {
						t.Fatalf("got error %v, want %v", err, sc.wantErr)
					}
					if got := errors.Is(err, ErrOutcomeUnknown); got != sc.wantUnknown {
						t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, sc.wantUnknown)
					}
					var e *Error
					if sc.wantUnknown && (!errors.As(err, &e) || !e.Unknown) {
						t.Errorf("error %v: want *Error with Unknown set", err)
					}
					if got := rec.count(); got != sc.wantCalls {
						t.Errorf("got %d calls, want %d", got, sc.wantCalls)
					}
				})
			})
		}
	}
}

// A connection reset after the request was sent: the write is sent exactly
// once and reported as unknown; a GET is retried. Over a real connection.
func TestConnectionResetAfterSend(t *testing.T) {
	tests := []struct {
		name        string
		call        func(c *Client) error
		wantCalls   int32
		wantUnknown bool
	}{
		{"POST", func(c *Client) error {
			_, err := c.CreateEndUser(t.Context(), CreateEndUserInput{DisplayName: "x"})
			return err
		}, 1, true},
		{"PATCH anonymize", func(c *Client) error { _, err := c.AnonymizeEndUser(t.Context(), userID, false); return err }, 1, true},
		{"GET", func(c *Client) error { _, err := c.GetEndUser(t.Context(), userID); return err }, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				_, _ = io.ReadAll(r.Body)
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST instead of FIN
				}
				_ = conn.Close()
			}), WithRetries(2), WithMaxWait(5*time.Second))
			err := tt.call(c)
			if !errors.Is(err, ErrUpstream) {
				t.Errorf("errors.Is(%v, ErrUpstream) = false, want true", err)
			}
			if got := errors.Is(err, ErrOutcomeUnknown); got != tt.wantUnknown {
				t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, tt.wantUnknown)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("upstream saw %d requests, want %d", got, tt.wantCalls)
			}
		})
	}
}

// After a 429 with Retry-After: 3, no request reaches the upstream for 3s,
// from any goroutine, whether the header holds seconds or an HTTP date.
func TestRetryAfterBlocksEveryone(t *testing.T) {
	tests := []struct {
		name   string
		header func(now time.Time) string
	}{
		{"seconds", func(time.Time) string { return "3" }},
		{"http date", func(now time.Time) string { return now.Add(3 * time.Second).UTC().Format(http.TimeFormat) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var (
					mu      sync.Mutex
					arrived []time.Time
				)
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					first := len(arrived) == 0
					arrived = append(arrived, time.Now())
					mu.Unlock()
					if first {
						w.Header().Set("Retry-After", tt.header(time.Now()))
						w.WriteHeader(http.StatusTooManyRequests)
						_, _ = io.WriteString(w, `{"message":"Too Many Requests"}`)
						return
					}
					_, _ = io.WriteString(w, endUserJSON)
				})
				lim := NewLimiter(10, 4)
				// Two clients sharing one limiter: the block is per process.
				c1 := newMemClient(t, h, WithLimiter(lim), WithMaxWait(10*time.Second))
				c2 := newMemClient(t, h, WithLimiter(lim), WithMaxWait(10*time.Second))
				start := time.Now()

				var wg sync.WaitGroup
				errs := make(chan error, 10)
				wg.Go(func() {
					_, err := c1.GetEndUser(t.Context(), userID)
					errs <- err
				})
				synctest.Wait() // the first call has its 429 and is waiting
				if got, want := lim.BlockedUntil(), start.Add(3*time.Second); !got.Equal(want) {
					t.Errorf("BlockedUntil = %v, want %v", got, want)
				}
				for i := range 9 {
					c := c1
					if i%2 == 1 {
						c = c2
					}
					wg.Go(func() {
						_, err := c.GetEndUser(t.Context(), userID)
						errs <- err
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Errorf("call failed: %v", err)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if len(arrived) != 11 {
					t.Fatalf("upstream saw %d requests, want 11 (one 429 + 10)", len(arrived))
				}
				for i, at := range arrived[1:] {
					if d := at.Sub(start); d < 3*time.Second {
						t.Errorf("request %d arrived %v after the 429, want ≥ 3s", i+1, d)
					}
				}
			})
		})
	}
}

// Without Retry-After the shared block is a jittered back-off.
func Test429WithoutRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder(status(429, `{"message":"Too Many Requests"}`))
		lim := NewLimiter(1000, 1000)
		c := newMemClient(t, rec, WithLimiter(lim), WithRetries(0))
		start := time.Now()
		_, err := c.GetEndUser(t.Context(), userID)
		var e *Error
		if !errors.As(err, &e) || e.Status != 429 || !errors.Is(err, ErrRateLimited) {
			t.Fatalf("error = %v, want a 429 *Error", err)
		}
		if e.RetryAfter < time.Second {
			t.Errorf("RetryAfter = %v, want ≥ 1s", e.RetryAfter)
		}
		if d := lim.BlockedUntil().Sub(start); d <= 0 || d > backoffBase+time.Millisecond {
			t.Errorf("blocked for %v, want in (0, %v]", d, backoffBase)
		}
	})
}

// A call that would wait past its budget fails at once with ErrRateLimited
// and a hint, without sending anything.
func TestRateLimitBudget(t *testing.T) {
	t.Run("blocked past budget", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder(response{status: 429, header: map[string]string{"Retry-After": "60"}, body: `{"message":"Limit Exceeded"}`})
			lim := NewLimiter(10, 4)
			c := newMemClient(t, rec, WithLimiter(lim), WithMaxWait(10*time.Second))
			start := time.Now()
			_, err := c.GetEndUser(t.Context(), userID)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) {
				t.Fatalf("error = %v, want ErrRateLimited", err)
			}
			if e.RetryAfter != 60*time.Second {
				t.Errorf("RetryAfter = %v, want 60s", e.RetryAfter)
			}
			if d := time.Since(start); d != 0 {
				t.Errorf("call took %v, want 0 (fail fast)", d)
			}
			if n := rec.count(); n != 1 {
				t.Errorf("got %d calls, want 1", n)
			}
			// Every later call fails fast too, without a request.
			_, err = c.CreateEndUser(t.Context(), CreateEndUserInput{})
			if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.RetryAfter != 60*time.Second || e.Status != 0 {
				t.Errorf("later call error = %v, want local ErrRateLimited with RetryAfter 60s", err)
			}
			if errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("unsent write %v matches ErrOutcomeUnknown", err)
			}
			if n := rec.count(); n != 1 {
				t.Errorf("got %d calls, want 1", n)
			}
		})
	})
	t.Run("tokens past budget", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder(ok(endUserJSON))
			c := newMemClient(t, rec, WithLimiter(NewLimiter(1, 1)), WithMaxWait(2*time.Second))
			var wg sync.WaitGroup
			var okN, limited atomic.Int32
			for range 6 {
				wg.Go(func() {
					_, err := c.GetEndUser(t.Context(), userID)
					var e *Error
					switch {
					case err == nil:
						okN.Add(1)
					case errors.As(err, &e) && errors.Is(err, ErrRateLimited) && e.RetryAfter >= time.Second:
						limited.Add(1)
					default:
						t.Errorf("unexpected error %v", err)
					}
				})
			}
			wg.Wait()
			// 1 token now, 1 per second: slots at 0s and 1s fit in 2s.
			if okN.Load() != 2 || limited.Load() != 4 {
				t.Errorf("got %d ok, %d rate limited, want 2 and 4", okN.Load(), limited.Load())
			}
		})
	})
	t.Run("caller deadline shorter than budget", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lim := NewLimiter(10, 4)
			lim.BlockUntil(time.Now().Add(5 * time.Second))
			c := newMemClient(t, newRecorder(), WithLimiter(lim), WithMaxWait(time.Minute))
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			_, err := c.GetEndUser(ctx, userID)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.RetryAfter != 5*time.Second {
				t.Errorf("error = %v, want ErrRateLimited with RetryAfter 5s", err)
			}
		})
	})
}

// A hanging upstream: each attempt ends at the timeout, and no retry starts
// once the wait budget is spent.
func TestHangingUpstreamBudget(t *testing.T) {
	tests := []struct {
		name             string
		timeout, maxWait time.Duration
		call             func(ctx context.Context, c *Client) error
		wantCalls        int
		wantMaxDur       time.Duration
	}{
		{"GET default budget", 10 * time.Second, 0, func(ctx context.Context, c *Client) error {
			_, err := c.GetEndUser(ctx, userID)
			return err
		}, 1, 10 * time.Second},
		{"GET with room for retries", time.Second, 3 * time.Second, func(ctx context.Context, c *Client) error {
			_, err := c.GetEndUser(ctx, userID)
			return err
		}, 3, 4 * time.Second},
		{"PATCH", 10 * time.Second, time.Minute, func(ctx context.Context, c *Client) error {
			_, err := c.AnonymizeEndUser(ctx, userID, false)
			return err
		}, 1, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder(response{hang: true})
				c := newMemClient(t, rec, WithTimeout(tt.timeout), WithMaxWait(tt.maxWait))
				start := time.Now()
				err := tt.call(t.Context(), c)
				if !errors.Is(err, ErrUpstream) {
					t.Errorf("errors.Is(%v, ErrUpstream) = false, want true", err)
				}
				if d := time.Since(start); d > tt.wantMaxDur {
					t.Errorf("call took %v, want ≤ %v", d, tt.wantMaxDur)
				}
				if got := rec.count(); got < 1 || got > tt.wantCalls {
					t.Errorf("got %d calls, want 1..%d", got, tt.wantCalls)
				}
			})
		})
	}
}
