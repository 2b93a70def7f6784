package apiclient

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestErrorIs(t *testing.T) {
	all := []error{ErrNotFound, ErrBadRequest, ErrUnauthorized, ErrConflict, ErrRateLimited, ErrUpstream, ErrBreakerOpen, ErrOutcomeUnknown}
	tests := []struct {
		name string
		err  *Error
		want []error
	}{
		{"404", &Error{Status: 404}, []error{ErrNotFound}},
		{"400", &Error{Status: 400}, []error{ErrBadRequest}},
		{"422", &Error{Status: 422}, []error{ErrBadRequest}},
		{"401", &Error{Status: 401}, []error{ErrUnauthorized}},
		{"403", &Error{Status: 403}, []error{ErrUnauthorized}},
		{"409", &Error{Status: 409}, []error{ErrConflict}},
		{"429", &Error{Status: 429}, []error{ErrRateLimited}},
		{"500", &Error{Status: 500}, []error{ErrUpstream}},
		{"503", &Error{Status: 503}, []error{ErrUpstream}},
		{"302", &Error{Status: 302}, []error{ErrUpstream}},
		{"418 maps to nothing", &Error{Status: 418}, nil},
		{"500 write", &Error{Status: 500, Unknown: true}, []error{ErrUpstream, ErrOutcomeUnknown}},
		{"timeout", &Error{kind: ErrUpstream}, []error{ErrUpstream}},
		{"timeout write", &Error{kind: ErrUpstream, Unknown: true}, []error{ErrUpstream, ErrOutcomeUnknown}},
		{"breaker", &Error{kind: ErrBreakerOpen}, []error{ErrBreakerOpen, ErrUpstream}},
		{"local rate limit", rateLimitedError(time.Second, context.DeadlineExceeded), []error{ErrRateLimited, context.DeadlineExceeded}},
		{"bad body on 200", &Error{Status: 200, kind: ErrUpstream}, []error{ErrUpstream}},
		{"cancelled", &Error{cause: context.Canceled}, []error{context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error = tt.err
			for _, s := range append(all, context.Canceled, context.DeadlineExceeded) {
				want := false
				for _, w := range tt.want {
					if w == s {
						want = true
					}
				}
				if got := errors.Is(err, s); got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, got, want)
				}
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Status: 409, Message: "open conversations", Method: "PATCH", Path: "/v1/endusers/" + userID},
			"dixa: PATCH /v1/endusers/" + userID + ": 409 Conflict: open conversations"},
		{&Error{Status: 500, Method: "POST", Path: "/v1/endusers", Unknown: true, Message: "oops"},
			"dixa: POST /v1/endusers: 500 Internal Server Error: oops (outcome unknown)"},
		{&Error{Status: 429, Method: "GET", Path: "/v1/endusers", Message: "Too Many Requests", RetryAfter: 3 * time.Second},
			"dixa: GET /v1/endusers: 429 Too Many Requests: Too Many Requests (retry after 3s)"},
		{&Error{Method: "GET", Path: "/v1/endusers", Message: "no answer within 10s", kind: ErrUpstream},
			"dixa: GET /v1/endusers: no answer within 10s"},
		{&Error{Message: "rate limit"}, "dixa: rate limit"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestSanitizeMessage(t *testing.T) {
	tests := []struct {
		name, in, key, want string
	}{
		{"plain", "The requested resource could not be found", "k3y-secret", "The requested resource could not be found"},
		{"key redacted", "bad header Authorization: k3y-secret!", "k3y-secret", "bad header Authorization: [REDACTED]!"},
		{"control chars", "line1\nline2\x00\x1b[31m", "", "line1 line2  [31m"},
		{"no key configured", "abc", "", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitizeMessage(tt.in, tt.key); got != tt.want {
				t.Errorf("sanitizeMessage(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// A long message with the key right at the cut keeps no part of it.
	key := "CANARY-0123456789abcdef"
	long := strings.Repeat("é", maxMessageLen/2-5) + key + strings.Repeat("x", 100)
	got := sanitizeMessage(long, key)
	if strings.Contains(got, "CANARY") || len(got) > maxMessageLen+len("…") {
		t.Errorf("long message: len %d, contains key fragment %v", len(got), strings.Contains(got, "CANARY"))
	}
	if !strings.HasSuffix(got, "…") {
		t.Errorf("long message %q not marked as truncated", got)
	}
}

func TestRetryHint(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{-time.Second, time.Second},
		{0, time.Second},
		{300 * time.Millisecond, time.Second},
		{time.Second, time.Second},
		{1001 * time.Millisecond, 2 * time.Second},
		{3 * time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		if got := retryHint(tt.in); got != tt.want {
			t.Errorf("retryHint(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"99999999", maxRetryAfter, true},
		{"Fri, 02 Jan 2026 03:04:10 GMT", 5 * time.Second, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true}, // in the past
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 12 {
		ceil := min(backoffCap, backoffBase<<attempt) + time.Millisecond
		for range 200 {
			if d := backoff(attempt); d <= 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v, want in (0, %v]", attempt, d, ceil)
			}
		}
	}
	// Full jitter: values spread over the range instead of clustering.
	lo, hi := backoffCap, time.Duration(0)
	for range 500 {
		d := backoff(5)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo > time.Second || hi < 4*time.Second {
		t.Errorf("backoff(5) range = [%v, %v], want spread over [0, 5s]", lo, hi)
	}
}
