package importjob

import (
	"context"
	"errors"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// Modes of an import.
const (
	ModeCreate = "create"
	ModeUpdate = "update"
)

// Job states. A job is created by the upload (dry run) in StateChecking
// when rows must be checked against Dixa, else in StateReady; Start moves it
// to StateRunning. Pause and cancel are allowed while it is checking, ready,
// running or paused.
const (
	StateChecking  = "checking"  // the dry run is looking rows up in Dixa
	StateReady     = "ready"     // the dry run is complete; nothing sent yet
	StateRunning   = "running"   // rows are being sent
	StatePaused    = "paused"    // stopped by a person; resumable
	StateCancelled = "cancelled" // stopped for good; unsent rows are skipped
	StateDone      = "done"      // every row has an outcome
	StateFailed    = "failed"    // stopped by an error that needs a person
)

// Active reports whether the runner works on jobs in this state.
func Active(state string) bool { return state == StateChecking || state == StateRunning }

// Finished reports whether the state is final.
func Finished(state string) bool {
	return state == StateDone || state == StateCancelled || state == StateFailed
}

// Outcomes of a row, as in results.csv.
const (
	OutcomePending = ""
	OutcomeCreated = "created"
	OutcomeUpdated = "updated"
	OutcomeFailed  = "failed"
	OutcomeSkipped = "skipped"
)

// Match keys of an update.
const (
	MatchID         = "id"
	MatchEmail      = "email"
	MatchExternalID = "externalId"
)

// Check methods of the dry run against Dixa.
const (
	CheckNone    = ""
	CheckLookups = "lookups" // one filtered list request per identifier
	CheckScan    = "scan"    // read the whole customer list, 100 per request
)

// Job is an import: what was uploaded, how far it got, and its counts. The
// rows are stored separately (Row).
type Job struct {
	ID            string    `json:"id"`
	Mode          string    `json:"mode"`
	MatchBy       string    `json:"matchBy,omitempty"`
	FileName      string    `json:"fileName"`
	FileBytes     int64     `json:"fileBytes"`
	CreatedBy     string    `json:"createdBy"`
	CreatedByName string    `json:"createdByName"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	StartedAt     time.Time `json:"startedAt"`
	FinishedAt    time.Time `json:"finishedAt"`
	// State is kept apart from the rest (compare-and-set, SetState).
	State string `json:"-"`

	Columns   []string `json:"columns"` // matched columns: "email", "attr.tier"
	Unknown   []string `json:"unknown,omitempty"`
	Ignored   []string `json:"ignored,omitempty"`
	Separator string   `json:"separator"`
	BatchSize int      `json:"batchSize"`

	Total    int            `json:"total"`    // data rows in the file
	Invalid  int            `json:"invalid"`  // rows with a problem (skipped)
	Problems map[string]int `json:"problems"` // problem kind → rows
	OK       int            `json:"ok"`       // created or updated
	Failed   int            `json:"failed"`   // refused by Dixa
	AttrRows int            `json:"attrRows"` // rows with custom attributes (one extra request each)

	CheckMethod string `json:"checkMethod,omitempty"`
	CheckCost   int    `json:"checkCost"` // requests the check needs (estimate for a scan)
	CheckDone   int    `json:"checkDone"` // requests the check made
	Rechecked   int    `json:"rechecked"` // rows re-checked after an unknown outcome
	Requests    int    `json:"requests"`  // upstream requests the run made
	RateLimited int    `json:"rateLimited"`
	NextBatch   int    `json:"nextBatch"`
	// InFlightAt is when the last batch was sent; a batch with an unknown
	// outcome is re-checked only once Runner.Settle has passed since, so
	// that a request Dixa is still working on is not taken for lost.
	InFlightAt time.Time `json:"inFlightAt"`
	// LastDone is OK+Failed when the runner last (re)started the job, for
	// the throughput behind the ETA.
	LastDone int    `json:"lastDone"`
	Error    string `json:"error,omitempty"`
	// WaitingSince is when the runner began waiting for Dixa (rate limited,
	// Dixa failing, a batch's outcome being re-checked) with nothing going
	// through since; zero when it is not waiting. WaitingFor says why
	// (Wait*). Both are cleared when Dixa takes a request again.
	WaitingSince time.Time `json:"waitingSince,omitzero"`
	WaitingFor   string    `json:"waitingFor,omitempty"`
}

// Reasons the runner waits for Dixa (Job.WaitingFor), from the class of the
// error only, never from what Dixa answered.
const (
	WaitRateLimited = "rate-limited" // 429s, or the request budget is used up
	WaitFailing     = "failing"      // 5xx, timeouts, unreachable, circuit breaker open
	WaitRechecking  = "rechecking"   // a batch's outcome is unknown and is being re-checked
)

// Waiting reports whether the job is moving but held up by Dixa.
func (j Job) Waiting() bool { return Active(j.State) && !j.WaitingSince.IsZero() }

// Eligible is the number of rows that will be sent (rows without problem).
func (j Job) Eligible() int { return j.Total - j.Invalid }

// Remaining is the number of eligible rows without an outcome yet.
func (j Job) Remaining() int { return max(j.Eligible()-j.OK-j.Failed, 0) }

// Item is what a row asks Dixa to do: the fields to set (PATCH semantics:
// nil means leave unchanged) and custom attribute values by definition id.
type Item struct {
	ID    string                              `json:"id,omitempty"`  // update: the Dixa id, given or looked up
	Key   string                              `json:"key,omitempty"` // update by email/externalId: the value matched
	Patch apiclient.PatchEndUserInput         `json:"patch"`
	Attrs map[string]apiclient.AttributeValue `json:"attrs,omitempty"`
	// Resent marks a create sent again after a re-check found nothing.
	Resent bool `json:"resent,omitempty"`
}

// Row is one data row of an import file and its outcome.
type Row struct {
	Num     int    // spreadsheet row number (the header is row 1); the key within a job
	Item    Item   // what to send
	Problem string // why the row is skipped (validation, dry-run check); safe to show
	Kind    string // problem kind, for counts
	Outcome string // OutcomePending, created, updated, failed
	DixaID  string
	Error   string // why Dixa refused the row, or a note on a partial success
	// Batch > 0 marks a row as sent (or about to be) in that batch with no
	// recorded outcome: after a crash or an unknown outcome it is re-checked
	// before anything is resent.
	Batch int
	// AttrsPending: the row was created/updated and its custom attributes
	// still have to be set.
	AttrsPending bool
}

// Filters of RowQuery.
const (
	RowsAll          = iota
	RowsPending      // no problem, no outcome, not in flight
	RowsInFlight     // Batch > 0 and no outcome
	RowsProblems     // rows with a problem
	RowsAttrsPending // AttrsPending
	RowsCheckable    // no problem (for the dry-run checks)
)

// RowQuery selects rows in input order: those after row number After,
// at most Limit of them (0: no limit).
type RowQuery struct {
	Filter int
	After  int
	Limit  int
}

// ErrNotFound is returned by a Store for an unknown job.
var ErrNotFound = errors.New("importjob: job not found")

// ErrStateChanged is returned by SetState when the job is not in one of the
// expected states.
var ErrStateChanged = errors.New("importjob: job state changed")

// Store keeps jobs and their rows durably. Implementations: MemStore (tests)
// and the console's database (web/store).
type Store interface {
	// CreateJob stores a new job (with its State).
	CreateJob(ctx context.Context, j Job) error
	// DeleteJob removes a job and its rows (an upload that failed half way).
	DeleteJob(ctx context.Context, id string) error
	// Job returns a job, or ErrNotFound.
	Job(ctx context.Context, id string) (Job, error)
	// Jobs returns the newest jobs first.
	Jobs(ctx context.Context, limit int) ([]Job, error)
	// SaveJob writes everything about the job except its state and lease.
	SaveJob(ctx context.Context, j Job) error
	// SetState moves the job to state `to` if it is in one of `from`, and
	// returns the job as it is afterwards; ErrStateChanged otherwise.
	SetState(ctx context.Context, id string, from []string, to string) (Job, error)
	// AddRows stores new rows.
	AddRows(ctx context.Context, jobID string, rows []Row) error
	// Rows returns rows in input order.
	Rows(ctx context.Context, jobID string, q RowQuery) ([]Row, error)
	// UpdateRows overwrites the given rows (by Num) and, when j is not nil,
	// saves the job (as SaveJob) in the same transaction.
	UpdateRows(ctx context.Context, jobID string, rows []Row, j *Job) error
	// Claim gives the caller (owner) the oldest job in one of states whose
	// lease is free or expired, or already the owner's, leased for ttl.
	Claim(ctx context.Context, owner string, states []string, ttl time.Duration) (Job, bool, error)
	// Renew extends the owner's lease; false when the lease was lost.
	Renew(ctx context.Context, id, owner string, ttl time.Duration) (bool, error)
	// Release gives up the owner's lease.
	Release(ctx context.Context, id, owner string) error
}
