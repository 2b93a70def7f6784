package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Erasure states (interface.md §6).
const (
	StateRequested = "requested"
	StateApproved  = "approved"
	StateRejected  = "rejected"
	StateSubmitted = "submitted"
	StateBlocked   = "blocked"
	StateProcessed = "processed"
	StateVerified  = "verified"
	StateFailed    = "failed"
)

// FinalState reports whether an erasure in state st will not change again
// on its own.
func FinalState(st string) bool {
	switch st {
	case StateRejected, StateBlocked, StateVerified, StateFailed:
		return true
	}
	return false
}

// Erasure is a request to anonymise one end user, from the lead's request
// through approval and Dixa's processing to verification. It holds no
// personal data of the customer: only their Dixa id.
type Erasure struct {
	ID        string
	SubjectID string // the Dixa end user id
	State     string

	Reference   string    // DSAR / ticket reference
	Reason      string    // legal ground
	ReceivedAt  time.Time // date the data subject's request arrived
	Deadline    time.Time // date; one month after ReceivedAt, or extended
	Force       bool
	ForceReason string
	// ConversationCount is how many conversations the preview showed.
	ConversationCount int

	RequestedByID, RequestedByName string
	RequestedAt                    time.Time

	DecidedByID, DecidedByName string // approver or rejecter
	DecidedAt                  time.Time
	DecisionComment            string

	SubmittedAt   time.Time
	DixaRequestID string
	ProcessedAt   time.Time
	VerifiedAt    time.Time
	// BlockedConversations are the open conversations Dixa's 409 was about.
	BlockedConversations []int64
	// Failure is a safe, non-personal description of what went wrong.
	Failure string

	ExtendedAt      time.Time
	ExtendedByID    string
	ExtensionReason string

	PollAttempts  int
	NextPollAt    time.Time
	LastCheckedAt time.Time
	UpdatedAt     time.Time
}

// Overdue reports whether the deadline has passed without the erasure
// being finished.
func (e Erasure) Overdue(now time.Time) bool {
	if e.State == StateVerified || e.State == StateRejected {
		return false
	}
	end := e.Deadline.AddDate(0, 0, 1) // the deadline day counts
	return !e.Deadline.IsZero() && !now.Before(end)
}

// Deadline is the GDPR Art. 12(3) deadline: one month after the request was
// received (clamped at month end: 31 January → 28/29 February).
func Deadline(received time.Time) time.Time {
	y, m, d := received.Date()
	first := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}

const erasureColumns = `id, subject_id, state, reference, reason, received_at, deadline, force, force_reason,
	conversation_count, requested_by_id, requested_by_name, requested_at, decided_by_id, decided_by_name,
	decided_at, decision_comment, submitted_at, dixa_request_id, processed_at, verified_at,
	blocked_conversations, failure, extended_at, extended_by_id, extension_reason, poll_attempts,
	next_poll_at, last_checked_at, updated_at`

func (e *Erasure) args() []any {
	force := 0
	if e.Force {
		force = 1
	}
	ids := make([]string, len(e.BlockedConversations))
	for i, c := range e.BlockedConversations {
		ids[i] = strconv.FormatInt(c, 10)
	}
	return []any{e.ID, e.SubjectID, e.State, e.Reference, e.Reason, fmtDate(e.ReceivedAt), fmtDate(e.Deadline),
		force, e.ForceReason, e.ConversationCount, e.RequestedByID, e.RequestedByName, fmtTime(e.RequestedAt),
		e.DecidedByID, e.DecidedByName, fmtTime(e.DecidedAt), e.DecisionComment, fmtTime(e.SubmittedAt),
		e.DixaRequestID, fmtTime(e.ProcessedAt), fmtTime(e.VerifiedAt), strings.Join(ids, ","), e.Failure,
		fmtTime(e.ExtendedAt), e.ExtendedByID, e.ExtensionReason, e.PollAttempts, fmtTime(e.NextPollAt),
		fmtTime(e.LastCheckedAt), fmtTime(e.UpdatedAt)}
}

func scanErasure(r scanner) (Erasure, error) {
	var e Erasure
	var received, deadline, reqAt, decAt, subAt, procAt, verAt, blocked, extAt, nextPoll, lastChk, upd string
	var force int
	err := r.Scan(&e.ID, &e.SubjectID, &e.State, &e.Reference, &e.Reason, &received, &deadline, &force, &e.ForceReason,
		&e.ConversationCount, &e.RequestedByID, &e.RequestedByName, &reqAt, &e.DecidedByID, &e.DecidedByName,
		&decAt, &e.DecisionComment, &subAt, &e.DixaRequestID, &procAt, &verAt, &blocked, &e.Failure,
		&extAt, &e.ExtendedByID, &e.ExtensionReason, &e.PollAttempts, &nextPoll, &lastChk, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("store: scan erasure: %w", err)
	}
	e.Force = force != 0
	e.ReceivedAt, e.Deadline = parseDate(received), parseDate(deadline)
	e.RequestedAt, e.DecidedAt, e.SubmittedAt = parseTime(reqAt), parseTime(decAt), parseTime(subAt)
	e.ProcessedAt, e.VerifiedAt, e.ExtendedAt = parseTime(procAt), parseTime(verAt), parseTime(extAt)
	e.NextPollAt, e.LastCheckedAt, e.UpdatedAt = parseTime(nextPoll), parseTime(lastChk), parseTime(upd)
	for _, s := range strings.Split(blocked, ",") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			e.BlockedConversations = append(e.BlockedConversations, n)
		}
	}
	return e, nil
}

// CreateErasure stores a new erasure request together with the keyed
// hashes of the subject's identifiers (see IdentifierDigest). e.ID,
// e.State and the times must be set by the caller.
func (s *Store) CreateErasure(ctx context.Context, e Erasure, digests []string) error {
	if e.ID == "" || e.SubjectID == "" || e.State == "" {
		return errors.New("store: erasure without id, subject or state")
	}
	e.UpdatedAt = s.clock()
	return s.tx(ctx, func(tx *sql.Tx) error {
		ph := strings.TrimSuffix(strings.Repeat("?, ", 30), ", ")
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO erasures (`+erasureColumns+`) VALUES (`+ph+`)`), e.args()...); err != nil {
			return fmt.Errorf("store: insert erasure: %w", err)
		}
		slices.Sort(digests)
		for _, d := range slices.Compact(digests) {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO erasure_identifiers (erasure_id, digest) VALUES (?, ?)`), e.ID, d); err != nil {
				return fmt.Errorf("store: insert identifier digest: %w", err)
			}
		}
		return nil
	})
}

// GetErasure returns one erasure, or ErrNotFound.
func (s *Store) GetErasure(ctx context.Context, id string) (Erasure, error) {
	return scanErasure(s.db.QueryRowContext(ctx, s.q(`SELECT `+erasureColumns+` FROM erasures WHERE id = ?`), id))
}

// ListErasures returns every erasure, newest request first.
func (s *Store) ListErasures(ctx context.Context) ([]Erasure, error) {
	return s.queryErasures(ctx, `SELECT `+erasureColumns+` FROM erasures ORDER BY requested_at DESC, id`)
}

// ErasuresOf returns the erasures of one subject, newest first.
func (s *Store) ErasuresOf(ctx context.Context, subjectID string) ([]Erasure, error) {
	return s.queryErasures(ctx, `SELECT `+erasureColumns+` FROM erasures WHERE subject_id = ? ORDER BY requested_at DESC, id`, subjectID)
}

// DueForPoll returns erasures submitted to Dixa (or processed and awaiting
// verification) whose next check is due at now.
func (s *Store) DueForPoll(ctx context.Context, now time.Time, limit int) ([]Erasure, error) {
	return s.queryErasures(ctx, `SELECT `+erasureColumns+` FROM erasures
		WHERE state IN ('submitted', 'processed') AND next_poll_at <= ? ORDER BY next_poll_at LIMIT `+strconv.Itoa(limit), fmtTime(now))
}

func (s *Store) queryErasures(ctx context.Context, q string, args ...any) ([]Erasure, error) {
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list erasures: %w", err)
	}
	defer rows.Close()
	var out []Erasure
	for rows.Next() {
		e, err := scanErasure(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ErrStateChanged is returned by Transition when the erasure is no longer
// in the expected state: someone else acted first.
var ErrStateChanged = errors.New("store: erasure state changed meanwhile")

// Transition moves an erasure from state `from` (the state the caller saw)
// by applying change, in one transaction whose UPDATE is conditional on the
// state still being `from`. Exactly one of several concurrent callers wins;
// the others get ErrStateChanged and must not act (this is the guard that
// makes "call Dixa exactly once" hold across goroutines and replicas).
func (s *Store) Transition(ctx context.Context, id, from string, change func(*Erasure) error) (Erasure, error) {
	var out Erasure
	err := s.tx(ctx, func(tx *sql.Tx) error {
		e, err := scanErasure(tx.QueryRowContext(ctx, s.q(`SELECT `+erasureColumns+` FROM erasures WHERE id = ?`), id))
		if err != nil {
			return err
		}
		if e.State != from {
			return ErrStateChanged
		}
		if err := change(&e); err != nil {
			return err
		}
		e.ID = id
		e.UpdatedAt = s.clock()
		a := e.args()
		cols := strings.Split(strings.Join(strings.Fields(erasureColumns), ""), ",")
		var b strings.Builder
		for i, c := range cols[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = ?")
		}
		args := append(a[1:], id, from)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE erasures SET `+b.String()+` WHERE id = ? AND state = ?`), args...)
		if err != nil {
			return fmt.Errorf("store: update erasure: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n != 1 {
			return ErrStateChanged
		}
		out = e
		return nil
	})
	return out, err
}

// IdentifierDigest is the keyed hash (HMAC-SHA-256, key outside the
// database) of a normalised identifier (email lower-cased, phone as
// stored, external id, Dixa id), prefixed with its kind so that equal
// strings of different kinds do not collide.
func (s *Store) IdentifierDigest(kind, value string) string {
	v := strings.TrimSpace(value)
	if kind == "email" {
		v = strings.ToLower(v)
	}
	m := hmac.New(sha256.New, s.idKey)
	m.Write([]byte(kind + ":" + v))
	return hex.EncodeToString(m.Sum(nil))
}

// ErasuresByIdentifier answers "was this person erased?": the ids of
// erasures whose subject had this identifier.
func (s *Store) ErasuresByIdentifier(ctx context.Context, kind, value string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT erasure_id FROM erasure_identifiers WHERE digest = ? ORDER BY erasure_id`),
		s.IdentifierDigest(kind, value))
	if err != nil {
		return nil, fmt.Errorf("store: erasures by identifier: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// FmtDate writes a calendar date as YYYY-MM-DD ("" for the zero time).
func FmtDate(t time.Time) string { return fmtDate(t) }

// ErasureDigests returns the identifier digests recorded with an erasure.
func (s *Store) ErasureDigests(ctx context.Context, id string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT digest FROM erasure_identifiers WHERE erasure_id = ? ORDER BY digest`), id)
	if err != nil {
		return nil, fmt.Errorf("store: erasure digests: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
