// Package reqctx carries what the web layer learns about a request (its
// correlation id, logger and the signed-in person) to the handlers, with
// typed keys.
package reqctx

import (
	"context"
	"github.com/example/dixa-console/web/role"
	"log/slog"
	"time"
)

// Identity is the signed-in person.
type Identity struct {
	// ID is the person's one canonical identity: "issuer|subject" from a
	// verified token (oidc, a proxy's signed assertion), else the trimmed,
	// lower-cased email (plain proxy headers, demo sign-in). Compare
	// people by it: the four-eyes rule, the audit log's actor, the
	// per-person limit and step-up all do.
	ID     string
	Email  string    // lower-cased email address, for display ("" when unknown)
	Name   string    // display name
	Role   role.Role // viewer, agent, lead
	Groups []string  // the groups the identity provider gave
	// Via says how the role was granted, e.g. "group support-leads" or "dev sign-in".
	Via string
	// SessionID is an opaque id of the session, for the audit log (hashed there).
	SessionID string
	// AuthTime is when the person last signed in (zero in header mode, where
	// the proxy decides), for step-up checks before an erasure.
	AuthTime time.Time
}

// Allows reports whether the identity's role is at least min.
func (id Identity) Allows(min role.Role) bool { return id.Role.AtLeast(min) }

type (
	idKey     struct{}
	reqIDKey  struct{}
	loggerKey struct{}
)

// WithIdentity returns ctx carrying the signed-in identity.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, idKey{}, id)
}

// IdentityFrom returns the signed-in identity, and false when nobody is.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(idKey{}).(Identity)
	return id, ok && id.ID != ""
}

// WithRequestID returns ctx carrying the correlation id of the request.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, reqIDKey{}, id)
}

// RequestID returns the correlation id of the request, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(reqIDKey{}).(string)
	return s
}

// WithLogger returns ctx carrying a request-scoped logger.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the request-scoped logger, or slog.Default when none is set
// (tests that call handlers directly).
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
