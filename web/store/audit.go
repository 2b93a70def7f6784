package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/example/dixa-console/web/audit"
)

// The names below keep code written before the audit domain moved to
// web/audit compiling; new code uses web/audit directly.
type (
	// Deprecated: use audit.Entry.
	AuditEntry = audit.Entry
	// Deprecated: use audit.Filter.
	AuditFilter = audit.Filter
	// Deprecated: use audit.Head.
	Head = audit.Head
	// Deprecated: use audit.Result.
	VerifyResult = audit.Result
)

// Outcomes, untyped so that code passing them as plain strings keeps
// compiling. Deprecated: use audit.OutcomeOK and the others.
const (
	OutcomeOK      = "ok"
	OutcomeDenied  = "denied"
	OutcomeFailed  = "failed"
	OutcomeBlocked = "blocked"
)

// GenesisHash is the prev_hash of the first entry.
//
// Deprecated: use audit.GenesisHash.
const GenesisHash = audit.GenesisHash

// HashSession is how a session id appears in the log.
//
// Deprecated: use audit.HashSession.
func HashSession(id string) string { return audit.HashSession(id) }

// ParseHead parses "seq:hash".
//
// Deprecated: use audit.ParseHead.
func ParseHead(s string) (Head, error) { return audit.ParseHead(s) }

var _ audit.Store = (*Store)(nil)

// Audit appends e to the log (audit.Recorder).
func (s *Store) Audit(ctx context.Context, e audit.Entry) error {
	_, err := s.AppendAudit(ctx, e)
	return err
}

// AppendAudit completes e (audit.Complete), chains it to the newest entry
// (audit.Seal) and stores it, returning it as stored. Appends are
// serialised (a process mutex plus BEGIN IMMEDIATE on SQLite, a
// transaction-scoped advisory lock on PostgreSQL) so that the chain has
// exactly one head.
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	e, err := audit.Complete(ctx, e)
	if err != nil {
		return audit.Entry{}, err
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	// The entry must be written even if the person's request was cancelled
	// after the action happened.
	ctx = context.WithoutCancel(ctx)
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7243002)`); err != nil {
				return fmt.Errorf("store: audit lock: %w", err)
			}
		}
		var head audit.Head
		err := tx.QueryRowContext(ctx, `SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&head.Seq, &head.Hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: audit head: %w", err)
		}
		e.Time = s.clock()
		var details string
		e, details = audit.Seal(e, head)
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO audit_log (seq, event_id, ts, actor_id, actor_name, actor_role,
			actor_via, session_hash, action, target_type, target_id, outcome, correlation_id, details, prev_hash, entry_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.Seq, e.EventID, fmtTime(e.Time), e.ActorID, e.ActorName, e.ActorRole, e.ActorVia, e.SessionHash,
			e.Action, e.TargetType, e.TargetID, string(e.Outcome), e.CorrelationID, details, e.PrevHash, e.Hash)
		if err != nil {
			return fmt.Errorf("store: audit insert: %w", err)
		}
		return nil
	})
	if err != nil {
		return audit.Entry{}, err
	}
	return e, nil
}

const auditColumns = `seq, event_id, ts, actor_id, actor_name, actor_role, actor_via, session_hash,
	action, target_type, target_id, outcome, correlation_id, details, prev_hash, entry_hash`

// ListAudit returns entries matching f, newest first unless f.Ascending
// (audit.Lister).
func (s *Store) ListAudit(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Actor != "" {
		// A case-insensitive part of the actor's id or name; % and _ in
		// the text are matched literally.
		pat := "%" + likeEscape(strings.ToLower(f.Actor)) + "%"
		where = append(where, `(LOWER(actor_id) LIKE ? ESCAPE '\' OR LOWER(actor_name) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat)
	}
	if prefix, ok := f.ActionPrefix(); ok {
		add("action LIKE ?", prefix+"%")
	} else if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.TargetType != "" {
		add("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if !f.From.IsZero() {
		add("ts >= ?", fmtTime(f.From))
	}
	if !f.To.IsZero() {
		add("ts < ?", fmtTime(f.To))
	}
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	if f.AfterSeq > 0 {
		add("seq > ?", f.AfterSeq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = audit.DefaultLimit
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if f.Ascending {
		q += ` ORDER BY seq ASC`
	} else {
		q += ` ORDER BY seq DESC`
	}
	q += fmt.Sprintf(` LIMIT %d`, limit)
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		e, _, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// likeEscape escapes the LIKE wildcards % and _ (and the escape character
// \ itself) so that s matches only itself.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

type scanner interface{ Scan(...any) error }

// scanAudit reads one row of auditColumns, returning the details as
// stored, which is the text the entry's hash covers.
func scanAudit(r scanner) (audit.Entry, string, error) {
	var e audit.Entry
	var ts, outcome, details string
	if err := r.Scan(&e.Seq, &e.EventID, &ts, &e.ActorID, &e.ActorName, &e.ActorRole, &e.ActorVia, &e.SessionHash,
		&e.Action, &e.TargetType, &e.TargetID, &outcome, &e.CorrelationID, &details, &e.PrevHash, &e.Hash); err != nil {
		return e, "", fmt.Errorf("store: scan audit: %w", err)
	}
	e.Time, e.Outcome = parseTime(ts), audit.Outcome(outcome)
	if details != "" && details != "{}" {
		json.Unmarshal([]byte(details), &e.Details)
	}
	return e, details, nil
}

// LatestAudit returns the newest entry about a target, or ErrNotFound.
func (s *Store) LatestAudit(ctx context.Context, targetType, targetID string) (audit.Entry, error) {
	es, err := s.ListAudit(ctx, audit.Filter{TargetType: targetType, TargetID: targetID, Limit: 1})
	if err != nil {
		return audit.Entry{}, err
	}
	if len(es) == 0 {
		return audit.Entry{}, ErrNotFound
	}
	return es[0], nil
}

// EachAudit calls fn for every entry in sequence order, with the details
// text as stored (audit.Chain). It stops at fn's first error.
func (s *Store) EachAudit(ctx context.Context, fn func(e audit.Entry, details string) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq ASC`)
	if err != nil {
		return fmt.Errorf("store: read audit chain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, details, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := fn(e, details); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Verify checks the whole chain against the rules of audit.Verify, and
// against anchors (heads recorded earlier, outside the database).
func (s *Store) Verify(ctx context.Context, anchors ...audit.Head) (audit.Result, error) {
	return audit.Verify(ctx, s, anchors...)
}
