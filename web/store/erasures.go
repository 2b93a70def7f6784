package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/example/dixa-console/web/erasure"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The erasure workflow (package erasure) defines the request and its
// states; the store keeps them. Errors match both the store's and the
// workflow's sentinels.
var (
	errErasureNotFound = fmt.Errorf("%w: %w", ErrNotFound, erasure.ErrNotFound)
	errErasureChanged  = fmt.Errorf("%w: %w", ErrStateChanged, erasure.ErrStateChanged)
)

const erasureColumns = `id, subject_id, state, reference, reason, received_at, deadline, force, force_reason,
	conversation_count, requested_by_id, requested_by_name, requested_at, decided_by_id, decided_by_name,
	decided_at, decision_comment, submitted_at, dixa_request_id, processed_at, verified_at,
	blocked_conversations, failure, extended_at, extended_by_id, extension_reason, poll_attempts,
	next_poll_at, last_checked_at, updated_at, maybe_sent, handed_over_by_id, handed_over_by_name,
	handed_over_at, handover_note`

func erasureArgs(e *erasure.Erasure) []any {
	force, maybeSent := 0, 0
	if e.Force {
		force = 1
	}
	if e.MaybeSent {
		maybeSent = 1
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
		fmtTime(e.LastCheckedAt), fmtTime(e.UpdatedAt), maybeSent, e.HandedOverByID, e.HandedOverByName,
		fmtTime(e.HandedOverAt), e.Note}
}

func scanErasure(r scanner) (erasure.Erasure, error) {
	var e erasure.Erasure
	var received, deadline, reqAt, decAt, subAt, procAt, verAt, blocked, extAt, nextPoll, lastChk, upd, handedAt string
	var force, maybeSent int
	err := r.Scan(&e.ID, &e.SubjectID, &e.State, &e.Reference, &e.Reason, &received, &deadline, &force, &e.ForceReason,
		&e.ConversationCount, &e.RequestedByID, &e.RequestedByName, &reqAt, &e.DecidedByID, &e.DecidedByName,
		&decAt, &e.DecisionComment, &subAt, &e.DixaRequestID, &procAt, &verAt, &blocked, &e.Failure,
		&extAt, &e.ExtendedByID, &e.ExtensionReason, &e.PollAttempts, &nextPoll, &lastChk, &upd, &maybeSent,
		&e.HandedOverByID, &e.HandedOverByName, &handedAt, &e.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return e, errErasureNotFound
	}
	if err != nil {
		return e, fmt.Errorf("store: scan erasure: %w", err)
	}
	e.Force, e.MaybeSent = force != 0, maybeSent != 0
	e.ReceivedAt, e.Deadline = parseDate(received), parseDate(deadline)
	e.RequestedAt, e.DecidedAt, e.SubmittedAt = parseTime(reqAt), parseTime(decAt), parseTime(subAt)
	e.ProcessedAt, e.VerifiedAt, e.ExtendedAt = parseTime(procAt), parseTime(verAt), parseTime(extAt)
	e.NextPollAt, e.LastCheckedAt, e.UpdatedAt = parseTime(nextPoll), parseTime(lastChk), parseTime(upd)
	e.HandedOverAt = parseTime(handedAt)
	for _, s := range strings.Split(blocked, ",") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			e.BlockedConversations = append(e.BlockedConversations, n)
		}
	}
	return e, nil
}

// CreateErasure stores a new erasure request together with the keyed
// hashes of the subject's identifiers (see IdentifierDigest) and, sealed,
// the identifiers to scrub after verification (see ScrubList). e.ID,
// e.State and the times must be set by the caller.
func (s *Store) CreateErasure(ctx context.Context, e erasure.Erasure, digests, scrub []string) error {
	if e.ID == "" || e.SubjectID == "" || e.State == "" {
		return errors.New("store: erasure without id, subject or state")
	}
	e.UpdatedAt = s.clock()
	return s.tx(ctx, func(tx *sql.Tx) error {
		args := erasureArgs(&e)
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO erasures (`+erasureColumns+`) VALUES (`+ph+`)`), args...); err != nil {
			return fmt.Errorf("store: insert erasure: %w", err)
		}
		if err := s.insertDigests(ctx, tx, e.ID, digests); err != nil {
			return err
		}
		return s.sealScrubList(ctx, tx, e.ID, scrub)
	})
}

// insertDigests records the identifier digests of erasure id, within tx.
func (s *Store) insertDigests(ctx context.Context, tx *sql.Tx, id string, digests []string) error {
	digests = slices.Clone(digests)
	slices.Sort(digests)
	for _, d := range slices.Compact(digests) {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO erasure_identifiers (erasure_id, digest) VALUES (?, ?)`), id, d); err != nil {
			return fmt.Errorf("store: insert identifier digest: %w", err)
		}
	}
	return nil
}

// GetErasure returns one erasure, or ErrNotFound.
func (s *Store) GetErasure(ctx context.Context, id string) (erasure.Erasure, error) {
	return scanErasure(s.db.QueryRowContext(ctx, s.q(`SELECT `+erasureColumns+` FROM erasures WHERE id = ?`), id))
}

// ListErasures returns every erasure, newest request first.
func (s *Store) ListErasures(ctx context.Context) ([]erasure.Erasure, error) {
	return s.queryErasures(ctx, `SELECT `+erasureColumns+` FROM erasures ORDER BY requested_at DESC, id`)
}

// ErasuresOf returns the erasures of one subject, newest first.
func (s *Store) ErasuresOf(ctx context.Context, subjectID string) ([]erasure.Erasure, error) {
	return s.queryErasures(ctx, `SELECT `+erasureColumns+` FROM erasures WHERE subject_id = ? ORDER BY requested_at DESC, id`, subjectID)
}

// ApprovedBefore returns erasures approved before the given instant that
// are still in state approved, oldest first.
func (s *Store) ApprovedBefore(ctx context.Context, before time.Time, limit int) ([]erasure.Erasure, error) {
	return s.queryErasures(ctx, `SELECT `+erasureColumns+` FROM erasures
		WHERE state = 'approved' AND decided_at <= ? ORDER BY decided_at LIMIT `+strconv.Itoa(limit), fmtTime(before))
}

// DueForPoll returns erasures submitted to Dixa (or processed and awaiting
// verification) whose next check is due at now.
func (s *Store) DueForPoll(ctx context.Context, now time.Time, limit int) ([]erasure.Erasure, error) {
	return s.queryErasures(ctx, `SELECT `+erasureColumns+` FROM erasures
		WHERE state IN ('submitted', 'processed') AND next_poll_at <= ? ORDER BY next_poll_at LIMIT `+strconv.Itoa(limit), fmtTime(now))
}

func (s *Store) queryErasures(ctx context.Context, q string, args ...any) ([]erasure.Erasure, error) {
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list erasures: %w", err)
	}
	defer rows.Close()
	var out []erasure.Erasure
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
// makes "call Dixa exactly once" hold across goroutines and replicas). An
// error from change is returned as it is and nothing is written.
func (s *Store) Transition(ctx context.Context, id string, from erasure.State, change func(*erasure.Erasure) error) (erasure.Erasure, error) {
	var out erasure.Erasure
	err := s.tx(ctx, func(tx *sql.Tx) error {
		e, err := scanErasure(tx.QueryRowContext(ctx, s.q(`SELECT `+erasureColumns+` FROM erasures WHERE id = ?`), id))
		if err != nil {
			return err
		}
		if e.State != from {
			return errErasureChanged
		}
		if err := change(&e); err != nil {
			return err
		}
		e.ID = id
		if err := s.updateErasure(ctx, tx, &e, from); err != nil {
			return err
		}
		out = e
		return nil
	})
	return out, err
}

// updateErasure writes e over the row of e.ID, within tx, if that row is
// still in state from; otherwise errErasureChanged. It sets e.UpdatedAt.
func (s *Store) updateErasure(ctx context.Context, tx *sql.Tx, e *erasure.Erasure, from erasure.State) error {
	e.UpdatedAt = s.clock()
	a := erasureArgs(e)
	cols := strings.Split(strings.Join(strings.Fields(erasureColumns), ""), ",")
	var b strings.Builder
	for i, c := range cols[1:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = ?")
	}
	args := append(a[1:], e.ID, from)
	res, err := tx.ExecContext(ctx, s.q(`UPDATE erasures SET `+b.String()+` WHERE id = ? AND state = ?`), args...)
	if err != nil {
		return fmt.Errorf("store: update erasure: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return errErasureChanged
	}
	return nil
}

// CompleteDraft turns a draft an agent handed over into the lead's
// request e (same id), storing the identifier digests and the sealed
// identifiers as CreateErasure does, in one transaction; ErrStateChanged
// when the row is no longer a draft.
func (s *Store) CompleteDraft(ctx context.Context, e erasure.Erasure, digests, scrub []string) error {
	if e.ID == "" || e.State == "" || e.State == erasure.Draft {
		return errors.New("store: a completed draft needs its id and a state other than draft")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.updateErasure(ctx, tx, &e, erasure.Draft); err != nil {
			return err
		}
		if err := s.insertDigests(ctx, tx, e.ID, digests); err != nil {
			return err
		}
		return s.sealScrubList(ctx, tx, e.ID, scrub)
	})
}

// CountAwaiting counts, in one query, the erasures waiting for the lead
// me: requested by someone else and not decided, or drafts handed over by
// an agent and not completed.
func (s *Store) CountAwaiting(ctx context.Context, me string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM erasures
		WHERE (state = 'requested' AND LOWER(TRIM(requested_by_id)) <> ?) OR state = 'draft'`),
		strings.ToLower(strings.TrimSpace(me))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count awaiting erasures: %w", err)
	}
	return n, nil
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
