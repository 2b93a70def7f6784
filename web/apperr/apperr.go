// Package apperr is the one error type for what may be shown to a person:
// a code that says what kind of refusal it is, and a message written for
// the person reading the page. Domain packages return it; the web layer's
// error funnel turns the code into an HTTP status and shows the message.
// Anything else that goes wrong is logged and shown as a generic failure,
// so a Go error string never reaches a page.
package apperr

import (
	"errors"
	"fmt"
)

// Code says what kind of refusal an error is.
type Code string

// The codes. Each maps to one HTTP status in the web layer.
const (
	Invalid     Code = "invalid"     // the input breaks a rule (422)
	NotFound    Code = "not_found"   // no such record (404)
	Conflict    Code = "conflict"    // the record's state does not allow it (409)
	Forbidden   Code = "forbidden"   // the person may not do this (403)
	Unavailable Code = "unavailable" // try again later (503)
)

// Error is an error whose message is safe to show to a person.
type Error struct {
	Code Code
	// Field names the input the message is about, when there is one.
	Field string
	// Msg is the sentence shown to the person.
	Msg string
	// Cause is logged, never shown.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Msg, e.Cause)
	}
	return string(e.Code) + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with code and a message for people.
func New(code Code, msg string) *Error { return &Error{Code: code, Msg: msg} }

// Newf is New with a formatted message.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with code and message whose cause is err.
func Wrap(err error, code Code, msg string) *Error { return &Error{Code: code, Msg: msg, Cause: err} }

// OnField returns an Invalid error about one input field.
func OnField(field, msg string) *Error { return &Error{Code: Invalid, Field: field, Msg: msg} }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the code of the *Error in err's chain, or "" when there is none.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return ""
}

// Message returns the safe message of err, or fallback when err carries none.
func Message(err error, fallback string) string {
	if e, ok := As(err); ok && e.Msg != "" {
		return e.Msg
	}
	return fallback
}
