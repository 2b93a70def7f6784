package importjob

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/example/dixa-console/apiclient"
)

// API is what the runner needs from Dixa; *apiclient.Client has it.
type API interface {
	ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error)
	CreateEndUsers(ctx context.Context, in []apiclient.CreateEndUserInput) ([]apiclient.BulkOutcome, error)
	PatchEndUsers(ctx context.Context, in []apiclient.BulkPatchEndUserInput) ([]apiclient.BulkOutcome, error)
	PatchEndUserCustomAttributes(ctx context.Context, id string, values map[string]apiclient.AttributeValue) ([]apiclient.CustomAttribute, error)
}

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
type Runner struct {
	Store Store
	API   API
	Log   *slog.Logger
	// OnFinish is called once when a job reaches a final state by the
	// runner's doing (done or failed), e.g. to write the audit log.
	OnFinish func(ctx context.Context, j Job)

	// LeaseTTL is how long a claim lasts without renewal (default 30s).
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

	owner string
	wake  chan struct{}
}

// NewRunner returns a runner with the defaults.
func NewRunner(st Store, api API, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{Store: st, API: api, Log: log, LeaseTTL: 30 * time.Second, Poll: 2 * time.Second,
		Backoff: time.Second, Settle: 10 * time.Second, owner: uuid.NewString(), wake: make(chan struct{}, 1)}
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
		j, ok, err := r.Store.Claim(ctx, r.owner, []string{StateChecking, StateRunning}, r.LeaseTTL)
		if err != nil && ctx.Err() == nil {
			r.Log.Error("import runner: claim", "err", err)
		}
		if ok {
			r.work(ctx, j)
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

func (r *Runner) work(ctx context.Context, j Job) {
	log := r.Log.With("job", j.ID)
	var err error
	switch j.State {
	case StateChecking:
		err = r.check(ctx, j)
	case StateRunning:
		err = r.run(ctx, j)
	}
	if err != nil && ctx.Err() == nil {
		log.Error("import job failed", "err", err)
		j, _ = r.Store.Job(ctx, j.ID)
		j.Error = "The job stopped because of an internal problem. It can be resumed."
		r.Store.SaveJob(ctx, j)
		if j, err := r.Store.SetState(ctx, j.ID, []string{StateChecking, StateRunning}, StateFailed); err == nil && r.OnFinish != nil {
			r.OnFinish(ctx, j)
		}
	}
}

// stillMine reloads the job and renews the lease; false when the job left
// state or the lease was lost.
func (r *Runner) stillMine(ctx context.Context, id, state string) (Job, bool, error) {
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

// run sends the rows of a running job.
func (r *Runner) run(ctx context.Context, j Job) error {
	lctx := apiclient.WithLowPriority(ctx)
	wait := newBackoff(r.Backoff)
	// Throughput (for the ETA) counts from this (re)start.
	j.StartedAt, j.LastDone, j.Error = time.Now(), j.OK+j.Failed, ""
	clearWaiting(&j) // a wait from before a pause or a restart is over
	if err := r.Store.SaveJob(ctx, j); err != nil {
		return err
	}
	for ctx.Err() == nil {
		j, mine, err := r.stillMine(ctx, j.ID, StateRunning)
		if err != nil || !mine {
			return err
		}
		if j.BatchSize <= 0 {
			j.BatchSize = DefaultBatchSize
		}
		// 1. Rows of a batch whose outcome is unknown: re-check first.
		inflight, err := r.Store.Rows(ctx, j.ID, RowQuery{Filter: RowsInFlight, Limit: MaxBatchSize})
		if err != nil {
			return err
		}
		if len(inflight) > 0 {
			if wait := time.Until(j.InFlightAt.Add(r.Settle)); wait > 0 && j.Mode == ModeCreate {
				if markWaiting(&j, WaitRechecking) {
					if err := r.Store.SaveJob(ctx, j); err != nil {
						return err
					}
				}
				sleepCtx(ctx, min(wait, r.LeaseTTL/2))
				continue
			}
			if err := r.recheck(lctx, &j, inflight); err != nil {
				if !retryable(err) {
					return err
				}
				wait.sleep(ctx, err)
			}
			continue
		}
		// 2. Custom attributes of rows already created or updated.
		ap, err := r.Store.Rows(ctx, j.ID, RowQuery{Filter: RowsAttrsPending, Limit: 10})
		if err != nil {
			return err
		}
		if len(ap) > 0 {
			if err := r.attrs(lctx, &j, ap); err != nil {
				if !retryable(err) {
					return err
				}
				wait.sleep(ctx, err)
			}
			continue
		}
		// 3. The next batch.
		rows, err := r.Store.Rows(ctx, j.ID, RowQuery{Filter: RowsPending, Limit: j.BatchSize})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			j.FinishedAt = time.Now()
			clearWaiting(&j)
			if err := r.Store.SaveJob(ctx, j); err != nil {
				return err
			}
			done, err := r.Store.SetState(ctx, j.ID, []string{StateRunning}, StateDone)
			if err == nil && r.OnFinish != nil {
				r.OnFinish(ctx, done)
			}
			if errors.Is(err, ErrStateChanged) {
				return nil
			}
			return err
		}
		j.NextBatch++
		j.InFlightAt = time.Now()
		for i := range rows {
			rows[i].Batch = j.NextBatch
		}
		// Write-ahead: from here on a crash leaves the rows in flight.
		if err := r.Store.UpdateRows(ctx, j.ID, rows, &j); err != nil {
			return err
		}
		outcomes, err := r.send(lctx, j, rows)
		j.Requests++
		switch {
		case err == nil && len(outcomes) == len(rows) && r.matches(j, rows, outcomes):
			wait.reset()
			clearWaiting(&j)
			r.apply(&j, rows, outcomes)
			r.settleResent(lctx, &j, rows, outcomes)
			if err := r.Store.UpdateRows(ctx, j.ID, rows, &j); err != nil {
				return err
			}
		case err == nil || errors.Is(err, apiclient.ErrOutcomeUnknown) || ctx.Err() != nil:
			// Sent, but what happened is unknown (or the answer does not
			// line up with the request): the rows stay in flight and are
			// re-checked on the next turn. On shutdown the next runner does it.
			r.Log.Warn("import batch outcome unknown; re-checking", "job", j.ID, "batch", j.NextBatch, "rows", len(rows), "err", err)
			markWaiting(&j, WaitRechecking)
			if err := r.Store.SaveJob(context.WithoutCancel(ctx), j); err != nil {
				return err
			}
		case retryable(err):
			// Not processed by Dixa (rate limited, breaker open, refused
			// before sending): back to pending, wait, try again.
			if errors.Is(err, apiclient.ErrRateLimited) {
				j.RateLimited++
			}
			markWaiting(&j, waitReason(err))
			for i := range rows {
				rows[i].Batch = 0
			}
			if err := r.Store.UpdateRows(ctx, j.ID, rows, &j); err != nil {
				return err
			}
			wait.sleep(ctx, err)
		default:
			// Dixa refused the whole request (400, 401): the rows fail,
			// or, when the key itself is refused, the job stops.
			clearWaiting(&j) // Dixa answered
			if errors.Is(err, apiclient.ErrUnauthorized) {
				for i := range rows {
					rows[i].Batch = 0
				}
				j.Error = "Dixa refused the console's API key. An administrator needs to check it; then resume the job."
				if err := r.Store.UpdateRows(ctx, j.ID, rows, &j); err != nil {
					return err
				}
				failed, err := r.Store.SetState(ctx, j.ID, []string{StateRunning}, StateFailed)
				if err == nil && r.OnFinish != nil {
					r.OnFinish(ctx, failed)
				}
				return nil
			}
			for i := range rows {
				rows[i].Batch = 0
				rows[i].Outcome = OutcomeFailed
				rows[i].Error = "Dixa refused the whole batch this row was in, as a bad request."
				j.Failed++
			}
			if err := r.Store.UpdateRows(ctx, j.ID, rows, &j); err != nil {
				return err
			}
		}
	}
	return nil
}

// send makes the bulk request of one batch.
func (r *Runner) send(ctx context.Context, j Job, rows []Row) ([]apiclient.BulkOutcome, error) {
	if j.Mode == ModeCreate {
		in := make([]apiclient.CreateEndUserInput, len(rows))
		for i, row := range rows {
			in[i] = createInput(row.Item.Patch)
		}
		return r.API.CreateEndUsers(ctx, in)
	}
	in := make([]apiclient.BulkPatchEndUserInput, len(rows))
	for i, row := range rows {
		in[i] = apiclient.BulkPatchEndUserInput{ID: row.Item.ID, PatchEndUserInput: row.Item.Patch}
	}
	return r.API.PatchEndUsers(ctx, in)
}

// matches checks that an update's outcomes name the rows' ids in order
// (Dixa's order is not documented; NOTES §6.3). Create outcomes carry no
// input id and are taken in order.
func (r *Runner) matches(j Job, rows []Row, out []apiclient.BulkOutcome) bool {
	if j.Mode != ModeUpdate {
		return true
	}
	for i, o := range out {
		id := ""
		switch {
		case o.OK():
			id = o.Data.ID
		case o.Error != nil:
			id = o.Error.ID
		}
		if id != "" && !strings.EqualFold(id, rows[i].Item.ID) {
			return false
		}
	}
	return true
}

// apply records a batch's outcomes on its rows and in the job's counts.
func (r *Runner) apply(j *Job, rows []Row, out []apiclient.BulkOutcome) {
	ok := OutcomeCreated
	if j.Mode == ModeUpdate {
		ok = OutcomeUpdated
	}
	for i, o := range out {
		row := &rows[i]
		row.Batch = 0
		if o.OK() {
			row.Outcome, row.DixaID = ok, o.Data.ID
			row.AttrsPending = len(row.Item.Attrs) > 0
			j.OK++
			continue
		}
		row.Outcome, row.Error = OutcomeFailed, DescribeBulkError(o.Error)
		j.Failed++
	}
}

// recheck settles rows whose batch has an unknown outcome. An update is
// idempotent (the same PATCH again), so its rows are simply sent again. A
// created customer is looked up by the row's email, phone or external ID:
// found means created (the dry run made sure no such customer existed
// before), not found means it was not created and is sent again. A row
// without any identifier cannot be checked and is not resent.
func (r *Runner) recheck(ctx context.Context, j *Job, rows []Row) error {
	for i := range rows {
		row := &rows[i]
		if j.Mode == ModeUpdate {
			row.Batch = 0
			continue
		}
		p := row.Item.Patch
		var o apiclient.ListOptions
		switch {
		case p.Email != nil && *p.Email != "":
			o.Email = *p.Email
		case p.PhoneNumber != nil && *p.PhoneNumber != "":
			o.Phone = *p.PhoneNumber
		case p.ExternalID != nil && *p.ExternalID != "":
			o.ExternalID = *p.ExternalID
		default:
			row.Batch = 0
			row.Outcome = OutcomeFailed
			row.Error = "Dixa did not confirm whether this row was created, and it has no email, phone number or external ID to check with. It was not sent again so that it cannot be created twice: look for it in Dixa."
			j.Failed++
			continue
		}
		o.PageLimit = 2
		page, err := r.API.ListEndUsers(ctx, o)
		j.Requests++
		if err != nil {
			// Save what was settled so far; the rest stays in flight.
			if retryable(err) {
				markWaiting(j, waitReason(err))
			}
			if serr := r.Store.UpdateRows(context.WithoutCancel(ctx), j.ID, rows[:i], j); serr != nil {
				return serr
			}
			return err
		}
		j.Rechecked++
		if len(page.Items) > 0 {
			row.Batch = 0
			row.Outcome, row.DixaID = OutcomeCreated, page.Items[0].ID
			row.AttrsPending = len(row.Item.Attrs) > 0
			j.OK++
			continue
		}
		row.Batch = 0 // not created: send again
		row.Item.Resent = true
	}
	clearWaiting(j) // every row of the batch is settled
	return r.Store.UpdateRows(context.WithoutCancel(ctx), j.ID, rows, j)
}

// settleResent is the second safety net of a resend: a row sent again
// after a re-check found nothing, which Dixa now refuses because its email
// or phone number exists, was created by the first request after all (Dixa
// applied it late). It is looked up and recorded as created. Lookup
// failures leave the row failed with Dixa's reason.
func (r *Runner) settleResent(ctx context.Context, j *Job, rows []Row, out []apiclient.BulkOutcome) {
	if j.Mode != ModeCreate {
		return
	}
	for i := range rows {
		row := &rows[i]
		if !row.Item.Resent || row.Outcome != OutcomeFailed || out[i].Error == nil ||
			!strings.Contains(out[i].Error.Message, "Exists") {
			continue
		}
		p := row.Item.Patch
		o := apiclient.ListOptions{PageLimit: 2}
		switch {
		case p.Email != nil && *p.Email != "":
			o.Email = *p.Email
		case p.PhoneNumber != nil && *p.PhoneNumber != "":
			o.Phone = *p.PhoneNumber
		default:
			continue
		}
		page, err := r.API.ListEndUsers(ctx, o)
		j.Requests++
		if err != nil || len(page.Items) == 0 {
			continue
		}
		row.Outcome, row.DixaID, row.Error = OutcomeCreated, page.Items[0].ID, ""
		row.AttrsPending = len(row.Item.Attrs) > 0
		j.Failed--
		j.OK++
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// attrs sets the custom attributes of rows already created or updated:
// one request per row (the bulk endpoints take no attributes).
func (r *Runner) attrs(ctx context.Context, j *Job, rows []Row) error {
	for _, row := range rows {
		if _, mine, err := r.stillMine(ctx, j.ID, StateRunning); err != nil || !mine {
			return err
		}
		_, err := r.API.PatchEndUserCustomAttributes(ctx, row.DixaID, row.Item.Attrs)
		j.Requests++
		switch {
		case err == nil:
		case errors.Is(err, apiclient.ErrOutcomeUnknown):
			// Setting the same values again is harmless.
			markWaiting(j, waitReason(err))
			r.Store.SaveJob(ctx, *j)
			return err
		case retryable(err):
			if errors.Is(err, apiclient.ErrRateLimited) {
				j.RateLimited++
			}
			markWaiting(j, waitReason(err))
			r.Store.SaveJob(ctx, *j)
			return err
		default:
			row.Error = "The customer was saved, but Dixa refused its custom attribute values."
			if errors.Is(err, apiclient.ErrNotFound) {
				row.Error = "The customer was saved, but Dixa did not find it when setting its custom attributes."
			}
		}
		row.AttrsPending = false
		clearWaiting(j) // Dixa answered
		if err := r.Store.UpdateRows(ctx, j.ID, []Row{row}, j); err != nil {
			return err
		}
	}
	return nil
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

// markWaiting records that the job waits for Dixa, and why; the start of
// the wait is kept while it lasts (even when the reason changes). It reports
// whether anything changed.
func markWaiting(j *Job, why string) bool {
	if !j.WaitingSince.IsZero() && j.WaitingFor == why {
		return false
	}
	if j.WaitingSince.IsZero() {
		j.WaitingSince = time.Now().UTC()
	}
	j.WaitingFor = why
	return true
}

// clearWaiting records that Dixa took a request again.
func clearWaiting(j *Job) { j.WaitingSince, j.WaitingFor = time.Time{}, "" }

var errorCodes = regexp.MustCompile(`errors[=:]\s*([A-Za-z, ]+)`)

// codeText says what Dixa's validation codes mean.
var codeText = map[string]string{
	"PhoneNumberExists": "a customer with this phone number already exists in Dixa",
	"EmailExists":       "a customer with this email already exists in Dixa",
	"InvalidEmail":      "Dixa did not accept an email address",
	"InvalidPhone":      "Dixa did not accept a phone number",
	"DuplicatePhone":    "a phone number is given twice",
	"DuplicateEmail":    "an email address is given twice",
	"DisplayNameEmpty":  "the display name is empty",
}

// DescribeBulkError turns a failed bulk item into a sentence that is safe
// to show: the kind and Dixa's validation codes, never the raw message.
func DescribeBulkError(e *apiclient.BulkError) string {
	if e == nil {
		return "Dixa refused this row without saying why."
	}
	switch e.Type {
	case apiclient.BulkErrNotFound:
		return "Dixa has no customer with this id."
	case apiclient.BulkErrEmptyPatchSet:
		return "Nothing to change."
	case apiclient.BulkErrInfrastructure:
		return "Dixa had an internal problem with this row; try it again later."
	}
	var parts []string
	if m := errorCodes.FindStringSubmatch(e.Message); m != nil {
		for _, c := range strings.Split(m[1], ",") {
			c = strings.TrimSpace(c)
			if t, ok := codeText[c]; ok {
				parts = append(parts, t)
			} else if c != "" {
				parts = append(parts, c)
			}
		}
	}
	kind := e.Type
	if kind == "" {
		kind = "Error"
	}
	if len(parts) == 0 {
		return "Dixa refused this row (" + kind + ")."
	}
	s := strings.Join(parts, "; ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// createInput turns a patch into a create body (nil fields are left out).
func createInput(p apiclient.PatchEndUserInput) apiclient.CreateEndUserInput {
	s := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	l := func(v *[]string) []string {
		if v == nil {
			return nil
		}
		return *v
	}
	return apiclient.CreateEndUserInput{
		DisplayName: s(p.DisplayName), Email: s(p.Email), PhoneNumber: s(p.PhoneNumber),
		AdditionalEmails: l(p.AdditionalEmails), AdditionalPhoneNumbers: l(p.AdditionalPhoneNumbers),
		FirstName: s(p.FirstName), LastName: s(p.LastName), MiddleNames: l(p.MiddleNames),
		AvatarURL: s(p.AvatarURL), ExternalID: s(p.ExternalID),
	}
}

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
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
