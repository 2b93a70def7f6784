package audit

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/example/dixa-console/web/reqctx"
)

// Recorder appends entries to the log. An implementation completes the
// entry (Complete), chains it to the newest one (Seal) and keeps it, one
// append at a time so that the chain has exactly one head.
type Recorder interface {
	Audit(ctx context.Context, e Entry) error
}

// Lister returns the entries a filter selects, newest first unless
// f.Ascending.
type Lister interface {
	ListAudit(ctx context.Context, f Filter) ([]Entry, error)
}

// Chain walks the whole log in sequence order, handing fn each entry with
// the details text its hash covers, as stored.
type Chain interface {
	EachAudit(ctx context.Context, fn func(e Entry, details string) error) error
}

// Store is what the audit log needs from storage.
type Store interface {
	Recorder
	Lister
	Chain
}

// ErrNoAction refuses an entry that does not say what was done.
var ErrNoAction = errors.New("audit: entry without action")

// Complete returns e ready to be appended: actor fields left empty are
// filled from the signed-in identity in ctx ("anonymous" when nobody is
// signed in), the correlation id from the request id in ctx, an empty
// outcome becomes OutcomeOK, and the entry gets a fresh event id.
func Complete(ctx context.Context, e Entry) (Entry, error) {
	if e.Action == "" {
		return Entry{}, ErrNoAction
	}
	if id, ok := reqctx.IdentityFrom(ctx); ok && e.ActorID == "" {
		e.ActorID, e.ActorName, e.ActorRole, e.ActorVia = id.ID, id.Name, string(id.Role), id.Via
		e.SessionHash = HashSession(id.SessionID)
	}
	if e.ActorID == "" {
		e.ActorID = "anonymous"
	}
	if e.CorrelationID == "" {
		e.CorrelationID = reqctx.RequestID(ctx)
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	e.EventID = uuid.NewString()
	return e, nil
}

// Record appends one entry for the signed-in person of ctx; r may be nil
// (nothing is recorded). Code that changes anything records it after the
// change, with the action, the target, the outcome and details holding
// field NAMES or other non-personal facts, e.g. {"fields":
// "email,phoneNumber"}, never the values. A failure to write is logged as
// an error and returned; callers whose action already happened usually
// carry on.
func Record(ctx context.Context, r Recorder, action, targetType, targetID string, outcome Outcome, details map[string]string) error {
	if r == nil {
		return nil
	}
	err := r.Audit(ctx, Entry{Action: action, TargetType: targetType, TargetID: targetID, Outcome: outcome, Details: details})
	if err != nil {
		reqctx.Logger(ctx).Error("audit entry not written", "action", action, "target", targetType+"/"+targetID, "err", err)
	}
	return err
}
