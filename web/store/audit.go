package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/example/dixa-console/web/reqctx"
)

// AuditEntry is one line of the audit log: who (actor), did what (action)
// to what (target), with which outcome, when, under which correlation id.
// Details carries field NAMES and other non-personal facts (a DSAR
// reference, a Dixa request id, a force flag) — never the values of a
// customer's personal fields.
type AuditEntry struct {
	Seq     int64
	EventID string
	Time    time.Time // UTC, set by Audit

	ActorID     string // the SSO identity
	ActorName   string
	ActorRole   string // viewer, agent, lead ("" when not signed in)
	ActorVia    string // how the role was granted, e.g. "group support-leads"
	SessionHash string // SHA-256 prefix of the session id, never the id

	Action        string // e.g. "erasure.approved", "enduser.updated"
	TargetType    string // e.g. "enduser", "erasure", "job"
	TargetID      string
	Outcome       string // "ok", "denied", "failed", "blocked", …
	CorrelationID string // reqctx.RequestID of the request

	Details map[string]string

	PrevHash string
	Hash     string
}

// Outcomes used across the console.
const (
	OutcomeOK      = "ok"
	OutcomeDenied  = "denied"
	OutcomeFailed  = "failed"
	OutcomeBlocked = "blocked"
)

// GenesisHash is the prev_hash of the first entry.
var GenesisHash = strings.Repeat("0", 64)

// canonical is the byte string an entry's hash covers: every stored field
// but the hashes, in a fixed order, as a JSON array (details as the stored
// JSON text, whose keys are sorted).
func canonical(e AuditEntry, details string) []byte {
	b, _ := json.Marshal([]any{
		e.Seq, e.EventID, fmtTime(e.Time),
		e.ActorID, e.ActorName, e.ActorRole, e.ActorVia, e.SessionHash,
		e.Action, e.TargetType, e.TargetID, e.Outcome, e.CorrelationID,
		details,
	})
	return b
}

// entryHash is SHA-256(canonical(entry) || prev_hash).
func entryHash(e AuditEntry, details, prev string) string {
	h := sha256.New()
	h.Write(canonical(e, details))
	h.Write([]byte(prev))
	return hex.EncodeToString(h.Sum(nil))
}

func encodeDetails(d map[string]string) string {
	if len(d) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(d) // map keys are sorted
	return string(b)
}

// HashSession is how a session id appears in the log.
func HashSession(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("session:" + id))
	return hex.EncodeToString(sum[:8])
}

// Audit appends e to the log and returns it as stored (with Seq, Time and
// hashes). Actor fields left empty are filled from the signed-in identity
// in ctx, the correlation id from the request id in ctx; Outcome defaults
// to "ok". Appends are serialised (a process mutex plus BEGIN IMMEDIATE on
// SQLite, a transaction-scoped advisory lock on PostgreSQL) so that the
// chain has exactly one head.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	_, err := s.AppendAudit(ctx, e)
	return err
}

// AppendAudit is Audit returning the stored entry.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.Action == "" {
		return AuditEntry{}, errors.New("store: audit entry without action")
	}
	if id, ok := reqctx.IdentityFrom(ctx); ok && e.ActorID == "" {
		e.ActorID, e.ActorName, e.ActorRole, e.ActorVia = id.ID, id.Name, string(id.Role), id.Via
		e.SessionHash = HashSession(id.SessionID)
	}
	if e.ActorID == "" {
		e.ActorID = "anonymous"
	}
	if e.CorrelationID == "" {
		e.CorrelationID = reqctx.RequestID(ctx)
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	e.EventID = uuid.NewString()
	details := encodeDetails(e.Details)

	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	// The entry must be written even if the person's request was cancelled
	// after the action happened.
	ctx = context.WithoutCancel(ctx)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7243002)`); err != nil {
				return fmt.Errorf("store: audit lock: %w", err)
			}
		}
		var lastSeq int64
		prev := GenesisHash
		err := tx.QueryRowContext(ctx, `SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&lastSeq, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: audit head: %w", err)
		}
		e.Seq = lastSeq + 1
		e.Time = s.clock()
		e.PrevHash = prev
		e.Hash = entryHash(e, details, prev)
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO audit_log (seq, event_id, ts, actor_id, actor_name, actor_role,
			actor_via, session_hash, action, target_type, target_id, outcome, correlation_id, details, prev_hash, entry_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.Seq, e.EventID, fmtTime(e.Time), e.ActorID, e.ActorName, e.ActorRole, e.ActorVia, e.SessionHash,
			e.Action, e.TargetType, e.TargetID, e.Outcome, e.CorrelationID, details, e.PrevHash, e.Hash)
		if err != nil {
			return fmt.Errorf("store: audit insert: %w", err)
		}
		return nil
	})
	if err != nil {
		return AuditEntry{}, err
	}
	return e, nil
}

// AuditFilter selects audit entries. Empty fields match everything. Action
// ending in "." or "*" matches a prefix ("erasure." = every erasure step).
type AuditFilter struct {
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	From, To   time.Time // To is exclusive
	// BeforeSeq pages backwards: only entries with seq < BeforeSeq.
	BeforeSeq int64
	// AfterSeq pages forwards: only entries with seq > AfterSeq.
	AfterSeq int64
	// Limit caps the result (0: 100). Ascending orders oldest first.
	Limit     int
	Ascending bool
}

const auditColumns = `seq, event_id, ts, actor_id, actor_name, actor_role, actor_via, session_hash,
	action, target_type, target_id, outcome, correlation_id, details, prev_hash, entry_hash`

// ListAudit returns entries matching f, newest first unless f.Ascending.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Actor != "" {
		add("actor_id = ?", f.Actor)
	}
	if a := f.Action; a != "" {
		if strings.HasSuffix(a, "*") || strings.HasSuffix(a, ".") {
			add("action LIKE ?", strings.TrimSuffix(a, "*")+"%")
		} else {
			add("action = ?", a)
		}
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
		limit = 100
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
	var out []AuditEntry
	for rows.Next() {
		e, _, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

func scanAudit(r scanner) (AuditEntry, string, error) {
	var e AuditEntry
	var ts, details string
	if err := r.Scan(&e.Seq, &e.EventID, &ts, &e.ActorID, &e.ActorName, &e.ActorRole, &e.ActorVia, &e.SessionHash,
		&e.Action, &e.TargetType, &e.TargetID, &e.Outcome, &e.CorrelationID, &details, &e.PrevHash, &e.Hash); err != nil {
		return e, "", fmt.Errorf("store: scan audit: %w", err)
	}
	e.Time = parseTime(ts)
	if details != "" && details != "{}" {
		json.Unmarshal([]byte(details), &e.Details)
	}
	return e, details, nil
}

// LatestAudit returns the newest entry about a target, or ErrNotFound.
func (s *Store) LatestAudit(ctx context.Context, targetType, targetID string) (AuditEntry, error) {
	es, err := s.ListAudit(ctx, AuditFilter{TargetType: targetType, TargetID: targetID, Limit: 1})
	if err != nil {
		return AuditEntry{}, err
	}
	if len(es) == 0 {
		return AuditEntry{}, ErrNotFound
	}
	return es[0], nil
}

// Head is the position of the newest entry of the chain. Anchored outside
// the database (logged, printed by `console verify`, kept by the DPO), it
// lets a later verification detect entries cut off the end of the log,
// which a hash chain alone cannot.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// String is "seq:hash", the form `console verify -head` accepts.
func (h Head) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// ParseHead parses "seq:hash".
func ParseHead(s string) (Head, error) {
	n, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	var h Head
	if _, err := fmt.Sscan(n, &h.Seq); !ok || err != nil || len(hash) != 64 {
		return Head{}, fmt.Errorf("head %q: want seq:sha256hex", s)
	}
	h.Hash = hash
	return h, nil
}

// VerifyResult is the outcome of a chain verification.
type VerifyResult struct {
	Entries int64
	Head    Head
	// Problems lists every inconsistency found, first ones first (capped).
	Problems []string
}

// OK reports whether the chain verified.
func (v VerifyResult) OK() bool { return len(v.Problems) == 0 }

// Verify re-reads the whole log in seq order and checks that sequence
// numbers run 1, 2, 3… without gaps, that each entry's prev_hash is the
// previous entry's hash, and that each entry's hash is SHA-256 of its
// canonical form and prev_hash. A changed entry breaks its own hash; a
// deleted one leaves a gap and a broken link; an inserted or reordered one
// breaks links or sequence. When anchors are given (heads recorded earlier,
// outside the database), each must still be in the chain with the same
// hash, which also catches entries cut off the end.
func (s *Store) Verify(ctx context.Context, anchors ...Head) (VerifyResult, error) {
	var res VerifyResult
	rows, err := s.db.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq ASC`)
	if err != nil {
		return res, fmt.Errorf("store: verify: %w", err)
	}
	defer rows.Close()
	want := map[int64]string{}
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
	problem := func(format string, args ...any) {
		if len(res.Problems) < 100 {
			res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
		}
	}
	prev := GenesisHash
	var expect int64 = 1
	seen := map[int64]string{}
	for rows.Next() {
		e, details, err := scanAudit(rows)
		if err != nil {
			return res, err
		}
		res.Entries++
		if e.Seq != expect {
			problem("entry %d: expected sequence number %d (entries missing or inserted)", e.Seq, expect)
		}
		if e.PrevHash != prev {
			problem("entry %d: prev_hash does not match the previous entry's hash (entry deleted, inserted or reordered before it)", e.Seq)
		}
		if got := entryHash(e, details, e.PrevHash); got != e.Hash {
			problem("entry %d: content does not match its hash (entry changed)", e.Seq)
		}
		seen[e.Seq] = e.Hash
		prev = e.Hash
		expect = e.Seq + 1
		res.Head = Head{Seq: e.Seq, Hash: e.Hash}
	}
	if err := rows.Err(); err != nil {
		return res, err
	}
	for _, a := range anchors {
		got, ok := seen[a.Seq]
		switch {
		case !ok:
			problem("anchor %d: entry no longer exists (log truncated)", a.Seq)
		case got != want[a.Seq]:
			problem("anchor %d: hash differs from the anchored one (log rewritten)", a.Seq)
		}
	}
	return res, nil
}
