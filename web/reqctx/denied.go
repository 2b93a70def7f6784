package reqctx

import (
	"context"
	"net/http"
)

type denialAuditedKey struct{}

// WithDenialAudited marks ctx: a middleware before the role check has
// written the audit entry for refusing this request, so the role check
// writes no second one.
func WithDenialAudited(ctx context.Context) context.Context {
	return context.WithValue(ctx, denialAuditedKey{}, true)
}

// DenialAudited reports whether a middleware before the role check has
// already written the audit entry for refusing this request.
func DenialAudited(ctx context.Context) bool {
	v, _ := ctx.Value(denialAuditedKey{}).(bool)
	return v
}

// RoutePattern is the pattern of the route a request matched, else its
// path.
func RoutePattern(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.URL.Path
}
