package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestChain(t *testing.T) {
	cause := errors.New("sql: connection refused")
	err := fmt.Errorf("saving: %w", Wrap(cause, Unavailable, "The database is not answering."))
	if CodeOf(err) != Unavailable {
		t.Fatalf("CodeOf = %q", CodeOf(err))
	}
	if !errors.Is(err, cause) {
		t.Fatal("the cause is not in the chain")
	}
	if got := Message(err, "x"); got != "The database is not answering." {
		t.Fatalf("Message = %q", got)
	}
	if got := Message(cause, "fallback"); got != "fallback" {
		t.Fatalf("Message of a plain error = %q, want the fallback", got)
	}
	if CodeOf(cause) != "" {
		t.Fatal("a plain error has a code")
	}
	f := OnField("email", "Use one @.")
	if f.Code != Invalid || f.Field != "email" {
		t.Fatalf("OnField = %+v", f)
	}
}
