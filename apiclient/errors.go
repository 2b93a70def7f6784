package apiclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors. Every error returned by the client is an *Error that
// matches one or more of these with errors.Is, so callers never have to look
// at status codes or strings.
var (
	// ErrNotFound: the resource does not exist (404).
	ErrNotFound = errors.New("dixa: not found")
	// ErrBadRequest: the request was invalid (400, 422, or refused locally
	// before any call was made).
	ErrBadRequest = errors.New("dixa: bad request")
	// ErrUnauthorized: the API key is missing, wrong, or not allowed to do
	// this (401, 403). Dixa uses 401 for both, so the two cannot be told apart.
	ErrUnauthorized = errors.New("dixa: unauthorized")
	// ErrConflict: the request conflicts with the resource's state (409),
	// e.g. anonymizing an end user with open conversations without force.
	ErrConflict = errors.New("dixa: conflict")
	// ErrRateLimited: Dixa answered 429, or no rate-limit slot became free
	// within the call's budget. The request was not processed; Error.RetryAfter
	// says when to try again.
	ErrRateLimited = errors.New("dixa: rate limited")
	// ErrBudgetUnknown: the shared rate limiter (the console's database)
	// could not be asked for a slot, so nothing was sent. Also matches
	// ErrRateLimited.
	ErrBudgetUnknown = errors.New("dixa: shared rate limiter unreachable")
	// ErrUpstream: Dixa failed or could not be reached (5xx, timeout,
	// connection error, unexpected redirect or body, circuit breaker open).
	ErrUpstream = errors.New("dixa: upstream unavailable")
	// ErrBreakerOpen: the call was refused locally because the circuit
	// breaker is open after repeated upstream failures. Also matches
	// ErrUpstream.
	ErrBreakerOpen = errors.New("dixa: circuit breaker open")
	// ErrOutcomeUnknown: a write may or may not have been applied (it failed
	// after the request may have been sent). Re-read the resource before
	// trying again. Also matches ErrUpstream.
	ErrOutcomeUnknown = errors.New("dixa: outcome of write unknown")
)

// Error is the error returned by every Client method.
//
// Status is the HTTP status Dixa answered with, or 0 when there was no
// answer (connection error, timeout, circuit breaker, rate-limit budget) or
// the request was refused locally (then Status is 400). Message is Dixa's
// `message`, sanitised and with the API key redacted; it is not meant for end
// users. Path is the request path without its query string (the query may
// hold an email or phone number). RetryAfter is set for rate-limit and
// breaker errors. Unknown is set when a write may have been applied.
type Error struct {
	Status     int
	Message    string
	Method     string
	Path       string
	RetryAfter time.Duration
	Unknown    bool

	// kind is the sentinel for errors without an HTTP status (and for local
	// rate limiting), cause an underlying context error.
	kind  error
	cause error
}

// Error formats the error as `dixa: METHOD PATH: STATUS TEXT: message`.
// It never contains the API key or the query string.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dixa: ")
	if e.Method != "" || e.Path != "" {
		b.WriteString(e.Method)
		b.WriteString(" ")
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		if e.Message != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Message)
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Unknown {
		b.WriteString(" (outcome unknown)")
	}
	return b.String()
}

// Is maps the error to the package's sentinels: 404→ErrNotFound,
// 400/422→ErrBadRequest, 401/403→ErrUnauthorized, 409→ErrConflict,
// 429→ErrRateLimited, 3xx/5xx→ErrUpstream. A write with Unknown set matches
// both ErrUpstream and ErrOutcomeUnknown; a breaker refusal matches both
// ErrBreakerOpen and ErrUpstream. Context errors (context.Canceled,
// context.DeadlineExceeded) behind the error match too.
func (e *Error) Is(target error) bool {
	switch {
	case target == ErrOutcomeUnknown:
		return e.Unknown
	case target == ErrUpstream && (e.Unknown || e.kind == ErrBreakerOpen):
		return true
	case e.kind != nil && target == e.kind:
		return true
	case e.cause != nil && errors.Is(e.cause, target):
		return true
	}
	return e.kind == nil && statusSentinel(e.Status) == target && target != nil
}

func statusSentinel(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusBadRequest, status == http.StatusUnprocessableEntity:
		return ErrBadRequest
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 300 && status < 400, status >= 500:
		return ErrUpstream
	}
	return nil
}

// badRequest is a local validation failure: no call was made.
func badRequest(method, path, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: msg, Method: method, Path: path}
}

// rateLimitedError is returned when no rate-limit slot is free before the
// deadline. The hint is rounded up to whole seconds (what a Retry-After
// header can carry) and is at least one second.
func rateLimitedError(hint time.Duration, cause error) *Error {
	return &Error{
		Message:    "rate limit: no request slot free before the deadline",
		RetryAfter: retryHint(hint),
		kind:       ErrRateLimited,
		cause:      cause,
	}
}

func retryHint(d time.Duration) time.Duration {
	if d < time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// maxMessageLen bounds Error.Message: Dixa's messages are one line, anything
// longer is noise (or an echo of the request) that should not reach logs.
const maxMessageLen = 512

// sanitizeMessage makes an upstream message safe to log: the API key is
// redacted first (a proxy or a buggy upstream may echo request headers, and
// redacting before truncating means no fragment of the key survives),
// control characters are replaced, and the length is bounded.
func sanitizeMessage(msg, key string) string {
	if key != "" {
		msg = strings.ReplaceAll(msg, key, "[REDACTED]")
	}
	msg = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	msg = strings.TrimSpace(msg)
	if len(msg) > maxMessageLen {
		cut := maxMessageLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
