package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Job is a background job (a bulk import): what kind, its state, who
// created it, row counts, and its parameters as JSON. Its per-row results
// are JobRows.
type Job struct {
	ID        string
	Kind      string // e.g. "import.create", "import.update"
	State     string // free for the job's owner to define, e.g. "uploaded", "running", "done"
	CreatedBy string
	Total     int
	OK        int
	Failed    int
	Skipped   int
	Params    json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
	StartedAt time.Time
	// FinishedAt is zero while the job is not finished.
	FinishedAt time.Time
}

// JobRow is the result of one input row of a job.
type JobRow struct {
	JobID   string
	RowNo   int
	Outcome string // created, updated, failed, skipped
	DixaID  string
	Error   string // safe to show
}

const jobColumns = `id, kind, state, created_by, total_rows, ok_rows, failed_rows, skipped_rows, params,
	created_at, updated_at, started_at, finished_at`

func scanJob(r scanner) (Job, error) {
	var j Job
	var params, created, updated, started, finished string
	err := r.Scan(&j.ID, &j.Kind, &j.State, &j.CreatedBy, &j.Total, &j.OK, &j.Failed, &j.Skipped, &params,
		&created, &updated, &started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return j, ErrNotFound
	}
	if err != nil {
		return j, fmt.Errorf("store: scan job: %w", err)
	}
	j.Params = json.RawMessage(params)
	j.CreatedAt, j.UpdatedAt = parseTime(created), parseTime(updated)
	j.StartedAt, j.FinishedAt = parseTime(started), parseTime(finished)
	return j, nil
}

func params(p json.RawMessage) string {
	if len(p) == 0 {
		return "{}"
	}
	return string(p)
}

// CreateJob stores a new job. ID, Kind, State and CreatedBy must be set;
// CreatedAt defaults to now.
func (s *Store) CreateJob(ctx context.Context, j Job) (Job, error) {
	if j.ID == "" || j.Kind == "" || j.State == "" {
		return j, errors.New("store: job without id, kind or state")
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.clock()
	}
	j.UpdatedAt = s.clock()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO jobs (`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		j.ID, j.Kind, j.State, j.CreatedBy, j.Total, j.OK, j.Failed, j.Skipped, params(j.Params),
		fmtTime(j.CreatedAt), fmtTime(j.UpdatedAt), fmtTime(j.StartedAt), fmtTime(j.FinishedAt))
	if err != nil {
		return j, fmt.Errorf("store: insert job: %w", err)
	}
	return j, nil
}

// GetJob returns one job, or ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id string) (Job, error) {
	return scanJob(s.db.QueryRowContext(ctx, s.q(`SELECT `+jobColumns+` FROM jobs WHERE id = ?`), id))
}

// ListJobs returns the newest jobs first (limit 0: 100).
func (s *Store) ListJobs(ctx context.Context, limit int) ([]Job, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs ORDER BY created_at DESC, id LIMIT `+strconv.Itoa(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// UpdateJob writes a job's state, counts, params and start/finish times.
// With fromState set, the update only happens while the job is still in
// that state (ErrStateChanged otherwise), so two starts cannot both run it.
func (s *Store) UpdateJob(ctx context.Context, j Job, fromState string) (Job, error) {
	j.UpdatedAt = s.clock()
	q := `UPDATE jobs SET state = ?, total_rows = ?, ok_rows = ?, failed_rows = ?, skipped_rows = ?, params = ?,
		updated_at = ?, started_at = ?, finished_at = ? WHERE id = ?`
	args := []any{j.State, j.Total, j.OK, j.Failed, j.Skipped, params(j.Params),
		fmtTime(j.UpdatedAt), fmtTime(j.StartedAt), fmtTime(j.FinishedAt), j.ID}
	if fromState != "" {
		q += ` AND state = ?`
		args = append(args, fromState)
	}
	res, err := s.db.ExecContext(ctx, s.q(q), args...)
	if err != nil {
		return j, fmt.Errorf("store: update job: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return j, err
	}
	if n == 0 {
		if _, err := s.GetJob(ctx, j.ID); err != nil {
			return j, err
		}
		return j, ErrStateChanged
	}
	return j, nil
}

// PutJobRows inserts or replaces per-row results (keyed by job and row
// number), in one transaction.
func (s *Store) PutJobRows(ctx context.Context, rows []JobRow) error {
	if len(rows) == 0 {
		return nil
	}
	upsert := `INSERT INTO job_rows (job_id, row_no, outcome, dixa_id, error) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (job_id, row_no) DO UPDATE SET outcome = excluded.outcome, dixa_id = excluded.dixa_id, error = excluded.error`
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, s.q(upsert))
		if err != nil {
			return fmt.Errorf("store: prepare job rows: %w", err)
		}
		defer stmt.Close()
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, r.JobID, r.RowNo, r.Outcome, r.DixaID, r.Error); err != nil {
				return fmt.Errorf("store: put job row %d: %w", r.RowNo, err)
			}
		}
		return nil
	})
}

// JobRows returns a job's rows in row order.
func (s *Store) JobRows(ctx context.Context, jobID string) ([]JobRow, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT job_id, row_no, outcome, dixa_id, error FROM job_rows WHERE job_id = ? ORDER BY row_no`), jobID)
	if err != nil {
		return nil, fmt.Errorf("store: job rows: %w", err)
	}
	defer rows.Close()
	var out []JobRow
	for rows.Next() {
		var r JobRow
		if err := rows.Scan(&r.JobID, &r.RowNo, &r.Outcome, &r.DixaID, &r.Error); err != nil {
			return nil, fmt.Errorf("store: scan job row: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
