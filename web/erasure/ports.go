package erasure

import (
	"context"
	"errors"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// Store is what the workflow needs from the console's database. Every
// change of state goes through Transition, whose update is conditional on
// the state the caller saw: of several callers (goroutines or replicas)
// exactly one wins, and that is what lets the console call Dixa once.
type Store interface {
	// CreateErasure stores a new request with the keyed hashes of the
	// subject's identifiers (IdentifierDigest) and the identifiers
	// themselves for the scrub after verification, which the store must
	// keep sealed (encrypted with a key outside the database), never
	// readable.
	CreateErasure(ctx context.Context, e Erasure, digests, scrub []string) error
	// GetErasure returns one request, or an error matching ErrNotFound.
	GetErasure(ctx context.Context, id string) (Erasure, error)
	// ListErasures returns every request, newest first.
	ListErasures(ctx context.Context) ([]Erasure, error)
	// ErasuresOf returns the requests for one subject, newest first.
	ErasuresOf(ctx context.Context, subjectID string) ([]Erasure, error)
	// ErasureDigests returns the identifier digests recorded with a request.
	ErasureDigests(ctx context.Context, id string) ([]string, error)
	// ErasuresByIdentifier returns the ids of the requests whose subject
	// had the identifier (compared by its IdentifierDigest).
	ErasuresByIdentifier(ctx context.Context, kind, value string) ([]string, error)
	// CompleteDraft turns the draft e.ID into e (a lead's complete
	// request), with the identifier digests and the sealed identifiers as
	// CreateErasure stores them, if it is still a draft; otherwise it
	// returns an error matching ErrStateChanged.
	CompleteDraft(ctx context.Context, e Erasure, digests, scrub []string) error
	// CountAwaiting counts the requests waiting for the lead me: requested
	// by someone else (identities compared trimmed and without case), or
	// drafts to complete. One query.
	CountAwaiting(ctx context.Context, me string) (int, error)
	// Transition applies change to the request if it is still in state
	// from; otherwise it returns an error matching ErrStateChanged. An
	// error from change aborts the update and is returned.
	Transition(ctx context.Context, id string, from State, change func(*Erasure) error) (Erasure, error)
	// DueForPoll returns submitted and processed requests whose next check
	// is due at now.
	DueForPoll(ctx context.Context, now time.Time, limit int) ([]Erasure, error)
	// ApprovedBefore returns requests in state approved whose approval is
	// older than before: the call to Dixa has ended, one way or another.
	ApprovedBefore(ctx context.Context, before time.Time, limit int) ([]Erasure, error)
	// IdentifierDigest is the keyed hash of a normalised identifier.
	IdentifierDigest(kind, value string) string
	// ScrubList returns the sealed identifiers of a request, opened.
	ScrubList(ctx context.Context, id string) ([]string, error)
	// DropScrubList deletes them for good.
	DropScrubList(ctx context.Context, id string) error
	// PendingScrubs returns requests in a final state that still hold
	// sealed identifiers (the scrub after verification has not run, or
	// failed).
	PendingScrubs(ctx context.Context, limit int) ([]Erasure, error)
	// ErasureAuditHash returns the hash of the newest audit entry about the
	// request ("" when there is none).
	ErasureAuditHash(ctx context.Context, id string) (string, error)
}

// Dixa is what the workflow needs from Dixa (*apiclient.Client).
type Dixa interface {
	GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error)
	ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error)
	ListEndUserConversations(ctx context.Context, id string, o apiclient.PageOptions) (apiclient.Page[apiclient.Conversation], error)
	AnonymizeEndUser(ctx context.Context, id string, force bool) (apiclient.AnonymizationRequest, error)
	GetAnonymizationRequest(ctx context.Context, requestID string) (apiclient.AnonymizationRequest, error)
}

// Scrubber removes an erased person from the console's own records (import
// rows and their problem texts): every stored text containing one of
// values is blanked. It returns how many records it changed.
type Scrubber interface {
	ScrubImportRows(ctx context.Context, values []string) (int, error)
}

// Lease decides which of several trackers (one per replica) works: the
// holder of a named lease, which it renews while it works. A tracker that
// stops renewing (its replica died) loses the lease when it expires.
type Lease interface {
	// Hold takes or renews the lease name for holder for ttl; false when
	// another holder has it.
	Hold(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// Release gives the lease up.
	Release(ctx context.Context, name, holder string) error
}

// Auditor appends one entry to the audit log.
type Auditor interface {
	RecordErasure(ctx context.Context, ev Event) error
}

// Event is one audit-log entry of the workflow. It names fields and
// non-personal facts, never the customer's data.
type Event struct {
	Action     string
	TargetType string // "erasure" or "enduser"
	TargetID   string
	Outcome    string
	Details    map[string]string
	// System is set for steps the console takes on its own (the tracker);
	// otherwise the entry is the signed-in person's, taken from ctx.
	System bool
}

// Audit actions of the workflow.
const (
	ActHandedOver = "erasure.handed_over"
	ActRequested  = "erasure.requested"
	ActDenied     = "erasure.denied"
	ActApproved   = "erasure.approved"
	ActRejected   = "erasure.rejected"
	ActSubmitted  = "erasure.submitted"
	ActBlocked    = "erasure.blocked"
	ActProcessed  = "erasure.processed"
	ActVerified   = "erasure.verified"
	ActFailed     = "erasure.failed"
	ActExtended   = "erasure.extended"
	ActReconciled = "erasure.reconciled"
	ActScrubbed   = "erasure.scrubbed"
)

// Outcomes of audit entries.
const (
	OutcomeOK      = "ok"
	OutcomeDenied  = "denied"
	OutcomeFailed  = "failed"
	OutcomeBlocked = "blocked"
	OutcomeNotSent = "not_sent"
	OutcomeUnknown = "unknown"
)

// Errors the Store returns (wrapped or as they are).
var (
	ErrNotFound     = errors.New("erasure: not found")
	ErrStateChanged = errors.New("erasure: state changed meanwhile")
)

// Refusals that the web layer presents in its own words; each comes
// wrapped in an *apperr.Error whose message can be shown as it is.
var (
	// ErrOwnRequest: the requester tried to decide their own request.
	ErrOwnRequest = errors.New("erasure: requester may not decide their own request")
	// ErrDecided: another lead decided first.
	ErrDecided = errors.New("erasure: already decided")
	// ErrExtended: the deadline was extended before.
	ErrExtended = errors.New("erasure: already extended")
)
