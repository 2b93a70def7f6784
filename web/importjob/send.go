package importjob

import (
	"context"
	"errors"
	"strings"

	"github.com/example/dixa-console/apiclient"
)

// run sends the rows of a running job, one step at a time, until the job
// is done, leaves the running state or the lease is lost.
func (r *Runner) run(ctx context.Context, j Job) error {
	wait := newBackoff(r.Backoff)
	// Throughput (for the ETA) counts from this (re)start.
	j.StartedAt, j.LastDone, j.Error = r.now(), j.OK+j.Failed, ""
	clearWaiting(&j) // a wait from before a pause or a restart is over
	if err := r.Store.SaveJob(ctx, j); err != nil {
		return err
	}
	for ctx.Err() == nil {
		cur, mine, err := r.stillMine(ctx, j.ID, StateRunning)
		if err != nil || !mine {
			return err
		}
		more, err := r.step(ctx, cur, wait)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// step does the next thing a running job needs, in this order: settle the
// rows of a batch whose outcome is unknown, set the custom attributes of
// rows already saved, send the next batch, or finish the job. It reports
// false when the job is over for this runner.
func (r *Runner) step(ctx context.Context, j Job, wait *backoff) (bool, error) {
	lctx := apiclient.WithLowPriority(ctx)
	if j.BatchSize <= 0 {
		j.BatchSize = DefaultBatchSize
	}
	inflight, err := r.Store.Rows(ctx, j.ID, RowQuery{Filter: RowsInFlight, Limit: MaxBatchSize})
	if err != nil {
		return false, err
	}
	if len(inflight) > 0 {
		return true, r.settleInFlight(ctx, &j, inflight, wait)
	}
	ap, err := r.Store.Rows(ctx, j.ID, RowQuery{Filter: RowsAttrsPending, Limit: 10})
	if err != nil {
		return false, err
	}
	if len(ap) > 0 {
		return true, wait.pauseOn(ctx, r.attrs(lctx, &j, ap))
	}
	rows, err := r.Store.Rows(ctx, j.ID, RowQuery{Filter: RowsPending, Limit: j.BatchSize})
	if err != nil {
		return false, err
	}
	if len(rows) == 0 {
		return false, r.finish(ctx, j)
	}
	return r.sendBatch(ctx, &j, rows, wait)
}

// settleInFlight re-checks the rows of a batch whose outcome is unknown. A
// create is looked up only once Settle has passed since it was sent: Dixa
// may still be applying it.
func (r *Runner) settleInFlight(ctx context.Context, j *Job, rows []Row, wait *backoff) error {
	now := r.now()
	if left := j.InFlightAt.Add(r.Settle).Sub(now); left > 0 && j.Mode == ModeCreate {
		if markWaiting(j, WaitRechecking, now) {
			if err := r.Store.SaveJob(ctx, *j); err != nil {
				return err
			}
		}
		sleepCtx(ctx, min(left, r.LeaseTTL/2))
		return nil
	}
	return wait.pauseOn(ctx, r.recheck(apiclient.WithLowPriority(ctx), j, rows))
}

// finish marks a job whose rows all have an outcome as done.
func (r *Runner) finish(ctx context.Context, j Job) error {
	j.FinishedAt = r.now()
	clearWaiting(&j)
	if err := r.Store.SaveJob(ctx, j); err != nil {
		return err
	}
	done, err := r.Store.SetState(ctx, j.ID, []State{StateRunning}, StateDone)
	if err == nil && r.OnFinish != nil {
		r.OnFinish(ctx, done)
	}
	if errors.Is(err, ErrStateChanged) {
		return nil
	}
	return err
}

// sendBatch marks rows as in flight in a new batch, sends them in one bulk
// request and records what Dixa answered. It reports false when the job
// stopped.
func (r *Runner) sendBatch(ctx context.Context, j *Job, rows []Row, wait *backoff) (bool, error) {
	lctx := apiclient.WithLowPriority(ctx)
	j.NextBatch++
	j.InFlightAt = r.now()
	for i := range rows {
		rows[i].Batch = j.NextBatch
	}
	// Write-ahead: from here on a crash leaves the rows in flight.
	if err := r.Store.UpdateRows(ctx, j.ID, rows, j); err != nil {
		return false, err
	}
	outcomes, err := r.send(lctx, *j, rows)
	j.Requests++
	switch {
	case err == nil && len(outcomes) == len(rows) && r.matches(*j, rows, outcomes):
		wait.reset()
		clearWaiting(j)
		r.apply(j, rows, outcomes)
		r.settleResent(lctx, j, rows, outcomes)
		return true, r.saveRows(ctx, j.ID, rows, j)
	case err == nil || errors.Is(err, apiclient.ErrOutcomeUnknown) || ctx.Err() != nil:
		return true, r.batchUnknown(ctx, j, rows, err)
	case retryable(err):
		return true, r.batchNotTaken(ctx, j, rows, err, wait)
	}
	return r.batchRefused(ctx, j, rows, err)
}

// batchUnknown: the batch was sent, but what happened is unknown (or the
// answer does not line up with the request). The rows stay in flight and
// are re-checked on the next step; on shutdown the next runner does it.
func (r *Runner) batchUnknown(ctx context.Context, j *Job, rows []Row, err error) error {
	r.Log.Warn("import batch outcome unknown; re-checking", "job", j.ID, "batch", j.NextBatch, "rows", len(rows), "err", err)
	markWaiting(j, WaitRechecking, r.now())
	return r.Store.SaveJob(context.WithoutCancel(ctx), *j)
}

// batchNotTaken: Dixa did not process the batch (rate limited, breaker
// open, refused before sending). Its rows go back to pending and the
// runner waits before trying again.
func (r *Runner) batchNotTaken(ctx context.Context, j *Job, rows []Row, err error, wait *backoff) error {
	if errors.Is(err, apiclient.ErrRateLimited) {
		j.RateLimited++
	}
	markWaiting(j, waitReason(err), r.now())
	for i := range rows {
		rows[i].Batch = 0
	}
	if err := r.Store.UpdateRows(ctx, j.ID, rows, j); err != nil {
		return err
	}
	wait.sleep(ctx, err)
	return nil
}

// batchRefused: Dixa refused the whole request (400, 401). The rows fail,
// or, when the key itself is refused, the job stops (false) with the rows
// back to pending, to be sent when a person resumes it.
func (r *Runner) batchRefused(ctx context.Context, j *Job, rows []Row, err error) (bool, error) {
	clearWaiting(j) // Dixa answered
	if errors.Is(err, apiclient.ErrUnauthorized) {
		for i := range rows {
			rows[i].Batch = 0
		}
		j.Error = "Dixa refused the console's API key. An administrator needs to check it; then resume the job."
		if err := r.Store.UpdateRows(ctx, j.ID, rows, j); err != nil {
			return false, err
		}
		failed, err := r.Store.SetState(ctx, j.ID, []State{StateRunning}, StateFailed)
		if err == nil && r.OnFinish != nil {
			r.OnFinish(ctx, failed)
		}
		return false, nil
	}
	for i := range rows {
		rows[i].Batch = 0
		rows[i].Outcome = OutcomeFailed
		rows[i].Error = "Dixa refused the whole batch this row was in, as a bad request."
		j.Failed++
	}
	return true, r.saveRows(ctx, j.ID, rows, j)
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
// (Dixa does not document their order). Create outcomes carry no
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
				markWaiting(j, waitReason(err), r.now())
			}
			if serr := r.saveRows(context.WithoutCancel(ctx), j.ID, rows[:i], j); serr != nil {
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
	return r.saveRows(context.WithoutCancel(ctx), j.ID, rows, j)
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
			markWaiting(j, waitReason(err), r.now())
			r.Store.SaveJob(ctx, *j)
			return err
		case retryable(err):
			if errors.Is(err, apiclient.ErrRateLimited) {
				j.RateLimited++
			}
			markWaiting(j, waitReason(err), r.now())
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
		if err := r.saveRows(ctx, j.ID, []Row{row}, j); err != nil {
			return err
		}
	}
	return nil
}
