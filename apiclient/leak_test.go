package apiclient

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// A hanging upstream (over a real connection): calls return within their
// budget and no goroutine outlives them.
func TestHangingUpstreamNoLeak(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	tr := &http.Transport{}
	const timeout = 300 * time.Millisecond
	c, err := New(srv.URL, WithAPIKey(testKey), WithHTTPClient(&http.Client{Transport: tr}),
		WithTimeout(timeout), WithRetries(3), WithBreaker(0, 0))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		call        func() error
		wantUnknown bool
	}{
		{"GET", func() error { _, err := c.GetEndUser(t.Context(), userID); return err }, false},
		{"iterator", func() error {
			for _, err := range c.EndUsers(t.Context(), ListOptions{}) {
				return err
			}
			return nil
		}, false},
		{"PATCH", func() error { _, err := c.AnonymizeEndUser(t.Context(), userID, true); return err }, true},
		{"POST", func() error { _, err := c.CreateEndUser(t.Context(), CreateEndUserInput{}); return err }, true},
	}
	for _, tt := range tests {
		start := time.Now()
		err := tt.call()
		elapsed := time.Since(start)
		if !errors.Is(err, ErrUpstream) {
			t.Errorf("%s: errors.Is(%v, ErrUpstream) = false, want true", tt.name, err)
		}
		if got := errors.Is(err, ErrOutcomeUnknown); got != tt.wantUnknown {
			t.Errorf("%s: errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", tt.name, err, got, tt.wantUnknown)
		}
		// Budget: the wait budget defaults to the timeout, so no retry fits.
		if elapsed > timeout+200*time.Millisecond {
			t.Errorf("%s took %v, want ≤ %v", tt.name, elapsed, timeout)
		}
	}

	close(release)
	tr.CloseIdleConnections()
	srv.Close()
	goleak.VerifyNone(t, ignore)
}
