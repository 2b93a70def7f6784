package web

import (
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/reqctx"
)

// The signed-in person is who the Dixa client queues a request under, so
// that one person's many requests cannot starve another's.
func TestIdentityIsTheDixaCaller(t *testing.T) {
	ctx := withIdentity(t.Context(), reqctx.Identity{ID: "lea@example.com", Name: "Lea"})
	if got := apiclient.CallerOf(ctx); got != "lea@example.com" {
		t.Errorf("Dixa caller = %q, want the signed-in person", got)
	}
}
