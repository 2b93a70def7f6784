package importjob

import (
	"context"

	"github.com/example/dixa-console/web/apperr"
)

// What a person can do to a job. Only the state changes here: the runner
// may be finishing a request and owns the counts; it stops at its next look
// at the state.

// Start starts a job whose dry run is complete, with batchSize rows per
// request when batchSize is above zero, or resumes a paused or failed job.
// It returns the job as it was before the start (its State tells a start
// from a resume); ErrStateChanged when the job can no longer be started.
// The dry run's preview of changes is dropped: it was for the decision.
func Start(ctx context.Context, st Store, j Job, batchSize int) (Job, error) {
	if j.State == StateReady {
		if batchSize > 0 {
			j.BatchSize = batchSize
		}
		j.Preview = nil
		if j.Eligible() == 0 {
			return j, apperr.New(apperr.Invalid, "Every row of this file has a problem: there is nothing to send.")
		}
		// Nobody else writes a job that has not started, so this cannot
		// undo a runner's counts.
		if err := st.SaveJob(ctx, j); err != nil {
			return j, err
		}
	}
	if _, err := st.SetState(ctx, j.ID, []State{StateReady, StatePaused, StateFailed}, StateRunning); err != nil {
		return j, err
	}
	return j, nil
}

// Pause stops a running job after the request in progress.
func Pause(ctx context.Context, st Store, id string) (Job, error) {
	return st.SetState(ctx, id, []State{StateRunning}, StatePaused)
}

// Cancel stops a job for good: rows not sent yet are skipped, rows already
// saved in Dixa stay saved. The rows' payloads are cleared, since nothing
// will be sent again, and so is the dry run's preview of a job that never
// started (one that started dropped it then; its counts are the runner's).
func Cancel(ctx context.Context, st Store, id string) (Job, error) {
	j, err := st.SetState(ctx, id, []State{StateChecking, StateReady, StateRunning, StatePaused, StateFailed}, StateCancelled)
	if err != nil {
		return j, err
	}
	if len(j.Preview) > 0 && j.StartedAt.IsZero() {
		j.Preview = nil
		if err := st.SaveJob(ctx, j); err != nil {
			return j, err
		}
	}
	return j, st.ClearPayloads(ctx, id)
}
