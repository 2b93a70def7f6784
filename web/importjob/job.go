package importjob

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/apperr"
)

// Mode says whether an import creates customers or updates existing ones.
type Mode string

// Modes of an import.
const (
	ModeCreate Mode = "create"
	ModeUpdate Mode = "update"
)

// ParseMode reads a mode as a form sends it.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeCreate, ModeUpdate:
		return m, nil
	}
	return "", apperr.OnField("mode", "Choose whether the file creates or updates customers.")
}

// Label names the mode for people.
func (m Mode) Label() string {
	switch m {
	case ModeCreate:
		return "Create"
	case ModeUpdate:
		return "Update"
	}
	return string(m)
}

// ParseBatchSize reads the rows per request a person typed.
func ParseBatchSize(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxBatchSize {
		return 0, apperr.Newf(apperr.Invalid, "Rows per request must be a whole number from 1 to %d.", MaxBatchSize)
	}
	return n, nil
}

// State is where a job is in its life. The upload creates a job in
// StateReading while it stores the rows (no runner touches it then), and
// moves it to StateChecking when rows must be checked against Dixa, else
// to StateReady; Start moves it to StateRunning. Pause and cancel are allowed
// while it is checking, ready, running or paused.
type State string

// Job states.
const (
	StateReading   State = "reading"   // the upload is storing the rows; nothing else touches the job
	StateChecking  State = "checking"  // the dry run is looking rows up in Dixa
	StateReady     State = "ready"     // the dry run is complete; nothing sent yet
	StateRunning   State = "running"   // rows are being sent
	StatePaused    State = "paused"    // stopped by a person; resumable
	StateCancelled State = "cancelled" // stopped for good; unsent rows are skipped
	StateDone      State = "done"      // every row has an outcome
	StateFailed    State = "failed"    // stopped by an error that needs a person; resumable
)

var stateLabels = map[State]string{
	StateReading: "Reading the file", StateChecking: "Checking against Dixa", StateReady: "Dry run complete", StateRunning: "Running",
	StatePaused: "Paused", StateCancelled: "Cancelled", StateDone: "Done", StateFailed: "Stopped",
}

// Label names the state for people.
func (s State) Label() string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return string(s)
}

// Active reports whether the runner works on jobs in this state.
func Active(state State) bool { return state == StateChecking || state == StateRunning }

// Finished reports whether the state is final.
func Finished(state State) bool {
	return state == StateDone || state == StateCancelled || state == StateFailed
}

// Idle lists the states in which nothing happens to a job until a person
// acts: once such a job has not changed for the retention time, it is
// deleted with its rows. A job still reading after that long is an upload
// whose replica stopped half way.
var Idle = []State{StateReading, StateReady, StatePaused, StateCancelled, StateDone, StateFailed}

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
	CheckPreview = "preview" // update by id: read the first rows' customers only, to show what would change
)

// Job is an import: what was uploaded, how far it got, and its counts. The
// rows are stored separately (Row).
type Job struct {
	ID            string    `json:"id"`
	Mode          Mode      `json:"mode"`
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
	State State `json:"-"`

	Columns []string `json:"columns"` // matched columns: "email", "attr.tier"
	// Header is the file's header row as uploaded; problems.csv names the
	// original cells of problem rows with it.
	Header    []string `json:"header,omitempty"`
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

	// Preview is what the first rows of an update would change, as the
	// dry run found their customers in Dixa (at most PreviewRows);
	// PreviewReads counts the requests that read customers for it. It is
	// dropped when the job starts or is cancelled before starting.
	Preview      []RowPreview `json:"preview,omitempty"`
	PreviewReads int          `json:"previewReads,omitempty"`
	// AttrNames names the custom attributes of the file's columns, by
	// definition id.
	AttrNames map[string]string `json:"attrNames,omitempty"`
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

// CanStart reports whether the dry run is complete with rows to send.
func (j Job) CanStart() bool { return j.State == StateReady && j.Eligible() > 0 }

// CanResume reports whether a paused job, or a failed one that had started
// and has rows left, may run again.
func (j Job) CanResume() bool {
	return j.State == StatePaused || (j.State == StateFailed && j.Remaining() > 0 && !j.StartedAt.IsZero())
}

// CanPause reports whether the job is sending rows.
func (j Job) CanPause() bool { return j.State == StateRunning }

// CanCancel reports whether the job has not ended yet.
func (j Job) CanCancel() bool { return !Finished(j.State) }

// Started reports whether the job got past its dry run, so that it has
// progress and results.
func (j Job) Started() bool {
	return j.State != StateReading && j.State != StateChecking && j.State != StateReady
}

// Percent is how much of the eligible rows have an outcome.
func (j Job) Percent() int {
	if e := j.Eligible(); e > 0 {
		return (j.OK + j.Failed) * 100 / e
	}
	if Finished(j.State) {
		return 100
	}
	return 0
}

// RequestsLeft is how many upstream requests the remaining rows need: one
// per batch, plus one per row with custom attributes.
func (j Job) RequestsLeft() int {
	bs := max(j.BatchSize, 1)
	return (j.Remaining()+bs-1)/bs + j.AttrRows
}

// SecondsLeft is the time left: the throughput measured since the job
// last (re)started once it has run a few seconds, never below floor (the
// rate limit's own bound).
func (j Job) SecondsLeft(now time.Time, floor float64) float64 {
	elapsed := now.Sub(j.StartedAt).Seconds()
	done := float64(j.OK + j.Failed - j.LastDone)
	if j.StartedAt.IsZero() || elapsed < 3 || done <= 0 {
		return floor
	}
	return max(float64(j.Remaining())/(done/elapsed), floor)
}

// Item is what a row asks Dixa to do: the fields to set (PATCH semantics:
// nil means leave unchanged) and custom attribute values by definition id.
type Item struct {
	ID    string                              `json:"id,omitempty"`  // update: the Dixa id, given or looked up
	Key   string                              `json:"key,omitempty"` // update by email/externalId: the value matched
	Patch apiclient.PatchEndUserInput         `json:"patch"`
	Attrs map[string]apiclient.AttributeValue `json:"attrs,omitempty"`
	// Resent marks a create sent again after a re-check found nothing.
	Resent bool `json:"resent,omitempty"`
	// Original is the cells of a row the file check refused, as uploaded,
	// for problems.csv. Only problem rows keep it; it is blanked when the
	// person is erased (Scrub, ScrubImportRows) and goes with the job at
	// retention (PurgeJobs).
	Original []string `json:"original,omitempty"`
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

// Finished reports whether nothing more will be sent for the row: it has a
// problem (it is skipped), or it has an outcome and no custom attributes
// left to set. A finished row needs no payload: results.csv and
// problems.csv are made of the row number, outcome, Dixa id, error and
// problem alone.
func (r Row) Finished() bool {
	return r.Problem != "" || (r.Outcome != OutcomePending && !r.AttrsPending)
}

// IsZero reports whether the item holds nothing (a cleared payload).
func (it Item) IsZero() bool {
	return it.ID == "" && it.Key == "" && it.Patch.IsEmpty() && len(it.Attrs) == 0 && !it.Resent && len(it.Original) == 0
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
	SetState(ctx context.Context, id string, from []State, to State) (Job, error)
	// AddRows stores new rows.
	AddRows(ctx context.Context, jobID string, rows []Row) error
	// Rows returns rows in input order.
	Rows(ctx context.Context, jobID string, q RowQuery) ([]Row, error)
	// UpdateRows overwrites the given rows (by Num) and, when j is not nil,
	// saves the job (as SaveJob) in the same transaction.
	UpdateRows(ctx context.Context, jobID string, rows []Row, j *Job) error
	// Claim gives the caller (owner) the oldest job in one of states whose
	// lease is free or expired, or already the owner's, leased for ttl.
	Claim(ctx context.Context, owner string, states []State, ttl time.Duration) (Job, bool, error)
	// Renew extends the owner's lease; false when the lease was lost.
	Renew(ctx context.Context, id, owner string, ttl time.Duration) (bool, error)
	// Release gives up the owner's lease.
	Release(ctx context.Context, id, owner string) error
	// ClearPayloads blanks the payload (Item) of every row of a job.
	ClearPayloads(ctx context.Context, jobID string) error
	// PurgeJobs deletes, with their rows, the jobs in one of states whose
	// last change was before the given time, and reports how many.
	PurgeJobs(ctx context.Context, states []State, changedBefore time.Time) (int, error)
}
