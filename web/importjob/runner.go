package importjob

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/example/dixa-console/apiclient"
)

// API is what the runner needs from Dixa; *apiclient.Client has it.
type API interface {
	ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error)
	GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error)
	CreateEndUsers(ctx context.Context, in []apiclient.CreateEndUserInput) ([]apiclient.BulkOutcome, error)
	PatchEndUsers(ctx context.Context, in []apiclient.BulkPatchEndUserInput) ([]apiclient.BulkOutcome, error)
	PatchEndUserCustomAttributes(ctx context.Context, id string, values map[string]apiclient.AttributeValue) ([]apiclient.CustomAttribute, error)
}

// DefaultRetention is how long a job that sits idle (ready, paused or
// finished) is kept before it is deleted with its rows.
const DefaultRetention = 30 * 24 * time.Hour

// Runner works through import jobs in the background: it finishes the dry
// run's checks against Dixa and sends the rows of started jobs in bulk
// requests. Every upstream call is made in the rate limiter's low-priority
// lane, so agents' requests go first.
//
// It is durable: each batch is marked "in flight" in the store before it is
// sent and its outcomes are stored with the job's counts in one
// transaction. A batch whose outcome is unknown (timeout, crash, shutdown
// mid-request) is re-checked by looking its rows up in Dixa before
// anything is resent, so no row is created twice. Jobs are leased, so
// that of several runners (replicas sharing a database) only one works on
// a job.
//
// It keeps no more personal data than the results need: a row's payload
// (what was sent) is cleared once the row has its outcome, the payloads of
// a cancelled or finished job are cleared when it ends, and a job idle for
// longer than Retention is deleted with its rows.
type Runner struct {
	Store Store
	API   API
	Log   *slog.Logger
	// OnFinish is called once when a job reaches a final state by the
	// runner's doing (done or failed), e.g. to write the audit log.
	OnFinish func(ctx context.Context, j Job)

	// LeaseTTL is how long a claim lasts without renewal (default
	// DefaultLeaseTTL). While it works on a job the runner renews the
	// lease every third of it (a heartbeat); a runner whose replica died
	// loses the job when it expires, and another runner takes it over.
	LeaseTTL time.Duration
	// Poll is how often the store is looked at without a Wake (default 2s).
	Poll time.Duration
	// Backoff is the first wait after Dixa could not take a request
	// (default 1s; doubles up to 30s).
	Backoff time.Duration
	// Settle is how long after sending a batch with an unknown outcome the
	// runner waits before looking its rows up (default 10s, the upstream
	// timeout): Dixa may still be applying a request the console gave up on.
	Settle time.Duration
	// Retention is how long a job that is ready, paused or finished is
	// kept after its last change before it is deleted with its rows
	// (zero: DefaultRetention).
	Retention time.Duration
	// SweepEvery is how often the runner deletes jobs past Retention
	// (default 1h; the first sweep is when Run starts).
	SweepEvery time.Duration
	// Now is the runner's clock (default time.Now).
	Now func() time.Time

	owner     string
	wake      chan struct{}
	lastSweep time.Time
}

// DefaultLeaseTTL is the lease of a job: a replica that dies loses its
// jobs within it.
const DefaultLeaseTTL = 12 * time.Second

// NewRunner returns a runner with the defaults.
func NewRunner(st Store, api API, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{Store: st, API: api, Log: log, LeaseTTL: DefaultLeaseTTL, Poll: 2 * time.Second,
		Backoff: time.Second, Settle: 10 * time.Second, Retention: DefaultRetention, SweepEvery: time.Hour,
		Now: time.Now, owner: uuid.NewString(), wake: make(chan struct{}, 1)}
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Runner) retention() time.Duration {
	if r.Retention <= 0 {
		return DefaultRetention
	}
	return r.Retention
}

// Wake tells the runner that a job was started or resumed.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx is cancelled; then it stops after the request in
// progress (whose rows stay marked in flight and are re-checked by the next
// runner) and returns.
func (r *Runner) Run(ctx context.Context) {
	r.Log.Info("import runner started", "owner", r.owner)
	defer r.Log.Info("import runner stopped", "owner", r.owner)
	for ctx.Err() == nil {
		r.sweepIfDue(ctx)
		j, ok, err := r.Store.Claim(ctx, r.owner, []State{StateChecking, StateRunning}, r.LeaseTTL)
		if err != nil && ctx.Err() == nil {
			r.Log.Error("import runner: claim", "err", err)
		}
		if ok {
			wctx, stop := r.heartbeat(ctx, j.ID)
			r.work(wctx, j)
			stop()
			r.Store.Release(context.WithoutCancel(ctx), j.ID, r.owner)
			continue
		}
		t := time.NewTimer(r.Poll)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// heartbeat renews the lease of job id every third of LeaseTTL until the
// returned stop is called. When the lease is lost (another runner took
// the job after a renewal failed for too long) the returned context is
// cancelled: the work stops as at shutdown, its request in flight is
// re-checked by the new owner.
func (r *Runner) heartbeat(ctx context.Context, id string) (context.Context, func()) {
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	ttl := r.LeaseTTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	go func() {
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
			}
			ok, err := r.Store.Renew(hctx, id, r.owner, ttl)
			if err == nil && !ok {
				r.Log.Warn("import runner: lease lost; another runner has the job", "job", id)
				cancel()
				return
			}
		}
	}()
	return hctx, func() { cancel(); <-done }
}

// Sweep deletes, with their rows, the jobs that are ready, paused or
// finished and have not changed for longer than Retention, and reports how
// many it deleted.
func (r *Runner) Sweep(ctx context.Context) (int, error) {
	return r.Store.PurgeJobs(ctx, Idle, r.now().Add(-r.retention()))
}

func (r *Runner) sweepIfDue(ctx context.Context) {
	now := r.now()
	every := r.SweepEvery
	if every <= 0 {
		every = time.Hour
	}
	if !r.lastSweep.IsZero() && now.Sub(r.lastSweep) < every {
		return
	}
	r.lastSweep = now
	n, err := r.Sweep(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		r.Log.Error("import runner: sweep", "err", err)
	case n > 0:
		r.Log.Info("import jobs past retention deleted", "jobs", n, "retention", r.retention().String())
	}
}

func (r *Runner) work(ctx context.Context, j Job) {
	var err error
	switch j.State {
	case StateChecking:
		err = r.check(ctx, j)
	case StateRunning:
		err = r.run(ctx, j)
	}
	switch {
	case err != nil && ctx.Err() == nil:
		r.fail(ctx, j.ID, err)
	case err == nil:
		r.clearIfOver(ctx, j.ID)
	}
}

// fail stops a job after an internal error; a person can resume it.
func (r *Runner) fail(ctx context.Context, id string, err error) {
	r.Log.Error("import job failed", "job", id, "err", err)
	j, _ := r.Store.Job(ctx, id)
	j.Error = "The job stopped because of an internal problem. It can be resumed."
	r.Store.SaveJob(ctx, j)
	if j, err := r.Store.SetState(ctx, id, []State{StateChecking, StateRunning}, StateFailed); err == nil && r.OnFinish != nil {
		r.OnFinish(ctx, j)
	}
}

// clearIfOver clears the payloads of a job that ended for good (done or
// cancelled): nothing of it is sent again, and its results do not need
// them. A cancel that happened while a batch was on the wire may have left
// rows written back with theirs.
func (r *Runner) clearIfOver(ctx context.Context, id string) {
	j, err := r.Store.Job(ctx, id)
	if err != nil || (j.State != StateDone && j.State != StateCancelled) {
		return
	}
	if err := r.Store.ClearPayloads(ctx, id); err != nil && ctx.Err() == nil {
		r.Log.Error("import runner: clear payloads", "job", id, "err", err)
	}
}

// stillMine reloads the job and renews the lease; false when the job left
// state or the lease was lost.
func (r *Runner) stillMine(ctx context.Context, id string, state State) (Job, bool, error) {
	j, err := r.Store.Job(ctx, id)
	if err != nil {
		return j, false, err
	}
	if j.State != state {
		return j, false, nil
	}
	ok, err := r.Store.Renew(ctx, id, r.owner, r.LeaseTTL)
	return j, ok, err
}

// saveRows stores rows (and the job when j is not nil), without the
// payload of each row that is finished.
func (r *Runner) saveRows(ctx context.Context, jobID string, rows []Row, j *Job) error {
	for i := range rows {
		if rows[i].Finished() {
			rows[i].Item = Item{Original: rows[i].Item.Original}
		}
	}
	return r.Store.UpdateRows(ctx, jobID, rows, j)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// retryable: Dixa did not process the request and may later.
func retryable(err error) bool {
	return errors.Is(err, apiclient.ErrRateLimited) || errors.Is(err, apiclient.ErrUpstream) ||
		errors.Is(err, apiclient.ErrOutcomeUnknown) ||
		(errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled))
}

// waitReason says why the runner waits after a retryable error, from its
// class only.
func waitReason(err error) string {
	if errors.Is(err, apiclient.ErrRateLimited) {
		return WaitRateLimited
	}
	return WaitFailing // ErrUpstream (5xx, unreachable), ErrBreakerOpen, timeouts
}

// markWaiting records that the job waits for Dixa since now, and why; the
// start of the wait is kept while it lasts (even when the reason changes).
// It reports whether anything changed.
func markWaiting(j *Job, why string, now time.Time) bool {
	if !j.WaitingSince.IsZero() && j.WaitingFor == why {
		return false
	}
	if j.WaitingSince.IsZero() {
		j.WaitingSince = now.UTC()
	}
	j.WaitingFor = why
	return true
}

// clearWaiting records that Dixa took a request again.
func clearWaiting(j *Job) { j.WaitingSince, j.WaitingFor = time.Time{}, "" }

// backoff is the wait after Dixa could not take a request: the error's
// RetryAfter when it has one, else doubling from first up to 30s.
type backoff struct {
	first, next time.Duration
}

func newBackoff(first time.Duration) *backoff {
	if first <= 0 {
		first = time.Second
	}
	return &backoff{first: first, next: first}
}

func (b *backoff) reset() { b.next = b.first }

func (b *backoff) sleep(ctx context.Context, err error) {
	d := b.next
	var ae *apiclient.Error
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		d = ae.RetryAfter
	}
	b.next = min(b.next*2, 30*time.Second)
	sleepCtx(ctx, d)
}

// pauseOn waits after an error Dixa may recover from and reports nil then;
// any other error is returned.
func (b *backoff) pauseOn(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if !retryable(err) {
		return err
	}
	b.sleep(ctx, err)
	return nil
}
