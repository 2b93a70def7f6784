package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/web/importjob"
)

// ImportJobs is the store of bulk import jobs (importjob.Store) on the jobs and
// job_rows tables (migration 0002 adds the lease and the per-row columns).
// A row's payload column is empty once the row is finished.
// A job's kind is "import.create" or "import.update"; its params hold the
// importjob.Job as JSON; the counts are mirrored into the table's columns.
type ImportJobs struct{ s *Store }

// ImportJobs returns the import job store.
func (s *Store) ImportJobs() *ImportJobs { return &ImportJobs{s: s} }

var _ importjob.Store = (*ImportJobs)(nil)

const importJobColumns = `id, state, params`

func (st *ImportJobs) scanJob(r scanner) (importjob.Job, error) {
	var j importjob.Job
	var id, state, params string
	err := r.Scan(&id, &state, &params)
	if errors.Is(err, sql.ErrNoRows) {
		return j, importjob.ErrNotFound
	}
	if err != nil {
		return j, fmt.Errorf("store: scan import job: %w", err)
	}
	if err := json.Unmarshal([]byte(params), &j); err != nil {
		return j, fmt.Errorf("store: import job %s params: %w", id, err)
	}
	j.ID, j.State = id, importjob.State(state)
	return j, nil
}

// CreateJob implements importjob.Store.
func (st *ImportJobs) CreateJob(ctx context.Context, j importjob.Job) error {
	p, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = st.s.CreateJob(ctx, Job{ID: j.ID, Kind: "import." + string(j.Mode), State: string(j.State), CreatedBy: j.CreatedBy,
		Total: j.Total, OK: j.OK, Failed: j.Failed, Skipped: j.Invalid, Params: p, CreatedAt: j.CreatedAt})
	return err
}

// DeleteJob implements importjob.Store.
func (st *ImportJobs) DeleteJob(ctx context.Context, id string) error {
	return st.s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, st.s.q(`DELETE FROM job_rows WHERE job_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete job rows: %w", err)
		}
		if _, err := tx.ExecContext(ctx, st.s.q(`DELETE FROM jobs WHERE id = ? AND kind LIKE 'import.%'`), id); err != nil {
			return fmt.Errorf("store: delete job: %w", err)
		}
		return nil
	})
}

// Job implements importjob.Store.
func (st *ImportJobs) Job(ctx context.Context, id string) (importjob.Job, error) {
	return st.scanJob(st.s.db.QueryRowContext(ctx, st.s.q(`SELECT `+importJobColumns+` FROM jobs WHERE id = ? AND kind LIKE 'import.%'`), id))
}

// Jobs implements importjob.Store.
func (st *ImportJobs) Jobs(ctx context.Context, limit int) ([]importjob.Job, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := st.s.db.QueryContext(ctx, `SELECT `+importJobColumns+` FROM jobs WHERE kind LIKE 'import.%' ORDER BY created_at DESC, id LIMIT `+strconv.Itoa(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list import jobs: %w", err)
	}
	defer rows.Close()
	var out []importjob.Job
	for rows.Next() {
		j, err := st.scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (st *ImportJobs) save(ctx context.Context, db execer, j importjob.Job) error {
	j.UpdatedAt = st.s.clock()
	p, err := json.Marshal(j)
	if err != nil {
		return err
	}
	res, err := db.ExecContext(ctx, st.s.q(`UPDATE jobs SET total_rows = ?, ok_rows = ?, failed_rows = ?, skipped_rows = ?, params = ?,
		updated_at = ?, started_at = ?, finished_at = ? WHERE id = ?`),
		j.Total, j.OK, j.Failed, j.Invalid, string(p), fmtTime(j.UpdatedAt), fmtTime(j.StartedAt), fmtTime(j.FinishedAt), j.ID)
	if err != nil {
		return fmt.Errorf("store: save import job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return importjob.ErrNotFound
	}
	return nil
}

// SaveJob implements importjob.Store.
func (st *ImportJobs) SaveJob(ctx context.Context, j importjob.Job) error {
	return st.save(ctx, st.s.db, j)
}

// SetState implements importjob.Store.
func (st *ImportJobs) SetState(ctx context.Context, id string, from []importjob.State, to importjob.State) (importjob.Job, error) {
	if len(from) == 0 {
		return importjob.Job{}, errors.New("store: SetState without from states")
	}
	args := append([]any{string(to), fmtTime(st.s.clock()), id}, stateArgs(from)...)
	res, err := st.s.db.ExecContext(ctx, st.s.q(`UPDATE jobs SET state = ?, updated_at = ? WHERE id = ? AND state IN (`+
		placeholders(len(from))+`)`), args...)
	if err != nil {
		return importjob.Job{}, fmt.Errorf("store: set import job state: %w", err)
	}
	n, _ := res.RowsAffected()
	j, err := st.Job(ctx, id)
	if err != nil {
		return j, err
	}
	if n == 0 {
		return j, importjob.ErrStateChanged
	}
	return j, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func stateArgs(states []importjob.State) []any {
	args := make([]any, len(states))
	for i, s := range states {
		args[i] = string(s)
	}
	return args
}

// payload is a row's item as stored: empty once it is cleared.
func payload(it importjob.Item) (string, error) {
	if it.IsZero() {
		return "", nil
	}
	p, err := json.Marshal(it)
	return string(p), err
}

// AddRows implements importjob.Store.
func (st *ImportJobs) AddRows(ctx context.Context, jobID string, rows []importjob.Row) error {
	if len(rows) == 0 {
		return nil
	}
	return st.s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, st.s.q(`INSERT INTO job_rows (job_id, row_no, outcome, dixa_id, error,
			payload, problem, problem_kind, batch, attrs_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return fmt.Errorf("store: prepare import rows: %w", err)
		}
		defer stmt.Close()
		for _, r := range rows {
			p, err := payload(r.Item)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, jobID, r.Num, r.Outcome, r.DixaID, r.Error, p, r.Problem, r.Kind,
				r.Batch, boolInt(r.AttrsPending)); err != nil {
				return fmt.Errorf("store: add import row %d: %w", r.Num, err)
			}
		}
		return nil
	})
}

var rowFilters = map[int]string{
	importjob.RowsAll:          ``,
	importjob.RowsPending:      ` AND outcome = '' AND problem = '' AND batch = 0`,
	importjob.RowsInFlight:     ` AND outcome = '' AND problem = '' AND batch > 0`,
	importjob.RowsProblems:     ` AND problem <> ''`,
	importjob.RowsAttrsPending: ` AND attrs_pending = 1`,
	importjob.RowsCheckable:    ` AND problem = ''`,
}

// Rows implements importjob.Store.
func (st *ImportJobs) Rows(ctx context.Context, jobID string, q importjob.RowQuery) ([]importjob.Row, error) {
	query := `SELECT row_no, outcome, dixa_id, error, payload, problem, problem_kind, batch, attrs_pending
		FROM job_rows WHERE job_id = ? AND row_no > ?` + rowFilters[q.Filter] + ` ORDER BY row_no`
	if q.Limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(q.Limit)
	}
	rows, err := st.s.db.QueryContext(ctx, st.s.q(query), jobID, q.After)
	if err != nil {
		return nil, fmt.Errorf("store: import rows: %w", err)
	}
	defer rows.Close()
	var out []importjob.Row
	for rows.Next() {
		var r importjob.Row
		var payload string
		var attrs int
		if err := rows.Scan(&r.Num, &r.Outcome, &r.DixaID, &r.Error, &payload, &r.Problem, &r.Kind, &r.Batch, &attrs); err != nil {
			return nil, fmt.Errorf("store: scan import row: %w", err)
		}
		if payload != "" {
			if err := json.Unmarshal([]byte(payload), &r.Item); err != nil {
				return nil, fmt.Errorf("store: import row %d payload: %w", r.Num, err)
			}
		}
		r.AttrsPending = attrs != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateRows implements importjob.Store.
func (st *ImportJobs) UpdateRows(ctx context.Context, jobID string, rows []importjob.Row, j *importjob.Job) error {
	return st.s.tx(ctx, func(tx *sql.Tx) error {
		if len(rows) > 0 {
			stmt, err := tx.PrepareContext(ctx, st.s.q(`UPDATE job_rows SET outcome = ?, dixa_id = ?, error = ?, payload = ?,
				problem = ?, problem_kind = ?, batch = ?, attrs_pending = ? WHERE job_id = ? AND row_no = ?`))
			if err != nil {
				return fmt.Errorf("store: prepare import row update: %w", err)
			}
			defer stmt.Close()
			for _, r := range rows {
				p, err := payload(r.Item)
				if err != nil {
					return err
				}
				res, err := stmt.ExecContext(ctx, r.Outcome, r.DixaID, r.Error, p, r.Problem, r.Kind, r.Batch,
					boolInt(r.AttrsPending), jobID, r.Num)
				if err != nil {
					return fmt.Errorf("store: update import row %d: %w", r.Num, err)
				}
				if n, _ := res.RowsAffected(); n == 0 {
					return importjob.ErrNotFound
				}
			}
		}
		if j != nil {
			return st.save(ctx, tx, *j)
		}
		return nil
	})
}

// Claim implements importjob.Store.
func (st *ImportJobs) Claim(ctx context.Context, owner string, states []importjob.State, ttl time.Duration) (importjob.Job, bool, error) {
	var id string
	now, err := st.s.dbNow(ctx)
	if err != nil {
		return importjob.Job{}, false, err
	}
	err = st.s.tx(ctx, func(tx *sql.Tx) error {
		args := append(stateArgs(states), owner, fmtTime(now))
		q := `SELECT id FROM jobs WHERE kind LIKE 'import.%' AND state IN (` + placeholders(len(states)) + `)
			AND (lease_owner = '' OR lease_owner = ? OR lease_until < ?) ORDER BY created_at, id LIMIT 1`
		if st.s.dialect == Postgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		err := tx.QueryRowContext(ctx, st.s.q(q), args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = ""
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: claim import job: %w", err)
		}
		_, err = tx.ExecContext(ctx, st.s.q(`UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id = ?`),
			owner, fmtTime(now.Add(ttl)), id)
		return err
	})
	if err != nil || id == "" {
		return importjob.Job{}, false, err
	}
	j, err := st.Job(ctx, id)
	return j, err == nil, err
}

// Renew implements importjob.Store.
func (st *ImportJobs) Renew(ctx context.Context, id, owner string, ttl time.Duration) (bool, error) {
	now, err := st.s.dbNow(ctx)
	if err != nil {
		return false, err
	}
	res, err := st.s.db.ExecContext(ctx, st.s.q(`UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?`),
		fmtTime(now.Add(ttl)), id, owner)
	if err != nil {
		return false, fmt.Errorf("store: renew import job lease: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Release implements importjob.Store.
func (st *ImportJobs) Release(ctx context.Context, id, owner string) error {
	_, err := st.s.db.ExecContext(ctx, st.s.q(`UPDATE jobs SET lease_owner = '', lease_until = '' WHERE id = ? AND lease_owner = ?`), id, owner)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ClearPayloads implements importjob.Store.
func (st *ImportJobs) ClearPayloads(ctx context.Context, jobID string) error {
	_, err := st.s.db.ExecContext(ctx, st.s.q(`UPDATE job_rows SET payload = '' WHERE job_id = ? AND payload <> '' AND problem = ''`), jobID)
	if err != nil {
		return fmt.Errorf("store: clear import payloads: %w", err)
	}
	return nil
}

// PurgeJobs implements importjob.Store. The jobs are locked before their
// rows go, so that a job cannot be started half deleted.
func (st *ImportJobs) PurgeJobs(ctx context.Context, states []importjob.State, changedBefore time.Time) (int, error) {
	if len(states) == 0 {
		return 0, nil
	}
	var n int
	err := st.s.tx(ctx, func(tx *sql.Tx) error {
		q := `SELECT id FROM jobs WHERE kind LIKE 'import.%' AND state IN (` + placeholders(len(states)) + `) AND updated_at < ?`
		if st.s.dialect == Postgres {
			q += ` FOR UPDATE`
		}
		ids, err := queryStrings(ctx, tx, st.s.q(q), append(stateArgs(states), fmtTime(changedBefore))...)
		if err != nil {
			return fmt.Errorf("store: import jobs past retention: %w", err)
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, st.s.q(`DELETE FROM job_rows WHERE job_id = ?`), id); err != nil {
				return fmt.Errorf("store: purge import rows: %w", err)
			}
			if _, err := tx.ExecContext(ctx, st.s.q(`DELETE FROM jobs WHERE id = ?`), id); err != nil {
				return fmt.Errorf("store: purge import job: %w", err)
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ScrubImportRows blanks, in every import job, the rows whose payload,
// problem or error holds any of values (a person's email, phone numbers,
// names, external ID), as importjob.Scrub does, drops the dry-run
// previews of rows that hold one, and reports how many rows and previews
// it changed. A payload matches a whole value, compared without regard to
// case; a problem or error text matches a value of at least
// importjob.MinScrubText characters anywhere in it (SQLite folds the case
// of ASCII letters only; an exact match is always found).
func (s *Store) ScrubImportRows(ctx context.Context, values []string) (int, error) {
	ns := importjob.NeedlesFor(values)
	if ns.Empty() {
		return 0, nil
	}
	var conds []string
	var args []any
	match := func(col string, needles []importjob.Needle) {
		for _, n := range needles {
			conds = append(conds, s.contains("lower("+col+")"), s.contains(col))
			args = append(args, n.Lower, n.Raw)
		}
	}
	match("payload", ns.Payload)
	match("problem", ns.Text)
	match("error", ns.Text)
	q := `UPDATE job_rows SET payload = '', attrs_pending = 0,
		problem = CASE WHEN problem <> '' OR outcome = '' THEN ? ELSE problem END,
		problem_kind = CASE WHEN problem = '' AND outcome = '' THEN ? ELSE problem_kind END,
		error = CASE WHEN error <> '' THEN ? ELSE error END
		WHERE job_id IN (SELECT id FROM jobs WHERE kind LIKE 'import.%') AND (` + strings.Join(conds, " OR ") + `)`
	args = append([]any{importjob.ErasedNote, importjob.KindErased, importjob.ErasedNote}, args...)
	res, err := s.db.ExecContext(ctx, s.q(q), args...)
	if err != nil {
		return 0, fmt.Errorf("store: scrub import rows: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	p, err := s.scrubPreviews(ctx, ns)
	return int(n) + p, err
}

// scrubPreviews drops, from every import job's dry-run preview, the rows'
// previews that hold one of ns (importjob.ScrubPreview), and reports how
// many it dropped. The jobs with a preview are few (it is dropped when a
// job starts), so they are read and matched here rather than in SQL, where
// JSON escapes would hide a value.
func (s *Store) scrubPreviews(ctx context.Context, ns importjob.Needles) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		q := `SELECT id, params FROM jobs WHERE kind LIKE 'import.%' AND ` + s.contains("params")
		if s.dialect == Postgres {
			q += ` FOR UPDATE`
		}
		rows, err := tx.QueryContext(ctx, s.q(q), `"preview":`)
		if err != nil {
			return fmt.Errorf("store: import jobs with a preview: %w", err)
		}
		changed := map[string][]byte{}
		for rows.Next() {
			var id, params string
			var j importjob.Job
			if err := rows.Scan(&id, &params); err != nil {
				rows.Close()
				return fmt.Errorf("store: scan import job: %w", err)
			}
			if err := json.Unmarshal([]byte(params), &j); err != nil {
				rows.Close()
				return fmt.Errorf("store: import job %s params: %w", id, err)
			}
			if k := importjob.ScrubPreview(&j, ns); k > 0 {
				n += k
				if changed[id], err = json.Marshal(j); err != nil {
					rows.Close()
					return err
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for id, p := range changed {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET params = ? WHERE id = ?`), string(p), id); err != nil {
				return fmt.Errorf("store: scrub import preview: %w", err)
			}
		}
		return nil
	})
	return n, err
}

// contains is the dialect's test that the text expression expr holds the
// next argument.
func (s *Store) contains(expr string) string {
	if s.dialect == Postgres {
		return `strpos(` + expr + `, ?) > 0`
	}
	return `instr(` + expr + `, ?) > 0`
}
