package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/example/dixa-console/web/auth"
)

// Sessions is auth.Store in the database: every replica sees the same
// sessions, and a restart signs nobody out. A row is keyed by a hash of
// the session id (the cookie's secret), and the record (groups, the
// provider's tokens) is sealed with a key derived from the id, so the
// database alone neither names a cookie nor shows a token.
type Sessions struct {
	s *Store
	// MaxPending bounds the sign-ins in progress; zero:
	// auth.DefaultMaxPending.
	MaxPending int
}

// Sessions returns the session store.
func (s *Store) Sessions() *Sessions { return &Sessions{s: s} }

var _ auth.Store = (*Sessions)(nil)

// rowKey is the stored key of a secret id: a hash, never the id.
func rowKey(kind, id string) string {
	h := sha256.Sum256([]byte("dixa-console " + kind + " key\x00" + id))
	return hex.EncodeToString(h[:])
}

func idAEAD(kind, id string) cipher.AEAD {
	k := sha256.Sum256([]byte("dixa-console " + kind + " seal\x00" + id))
	b, _ := aes.NewCipher(k[:])
	g, _ := cipher.NewGCM(b)
	return g
}

// seal encrypts v (as JSON) with a key only the holder of id can derive.
func seal(kind, id string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	g := idAEAD(kind, id)
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return base64.RawStdEncoding.EncodeToString(g.Seal(nonce, nonce, b, []byte(kind))), nil
}

func unseal(kind, id, sealed string, v any) error {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	g := idAEAD(kind, id)
	if err != nil || len(b) < g.NonceSize() {
		return errors.New("store: sealed record is malformed")
	}
	plain, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], []byte(kind))
	if err != nil {
		return errors.New("store: sealed record does not open")
	}
	return json.Unmarshal(plain, v)
}

// Get implements auth.Store.
func (ss *Sessions) Get(ctx context.Context, id string) (auth.Record, bool, error) {
	var sealed string
	err := ss.s.db.QueryRowContext(ctx, ss.s.q(`SELECT sealed FROM sessions WHERE key = ?`), rowKey("session", id)).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Record{}, false, nil
	}
	if err != nil {
		return auth.Record{}, false, fmt.Errorf("store: read session: %w", err)
	}
	var rec auth.Record
	if err := unseal("session", id, sealed, &rec); err != nil {
		return auth.Record{}, false, err
	}
	return rec, true, nil
}

// Put implements auth.Store.
func (ss *Sessions) Put(ctx context.Context, rec auth.Record) error {
	sealed, err := seal("session", rec.ID, rec)
	if err != nil {
		return err
	}
	_, err = ss.s.db.ExecContext(ctx, ss.s.q(`INSERT INTO sessions (key, sealed, created_at, last_seen) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at, last_seen = excluded.last_seen`),
		rowKey("session", rec.ID), sealed, fmtTime(rec.Created), fmtTime(rec.LastSeen))
	if err != nil {
		return fmt.Errorf("store: put session: %w", err)
	}
	return nil
}

// Update implements auth.Store: the row is read and written in one
// transaction (locked on PostgreSQL), so no other change slips in between.
func (ss *Sessions) Update(ctx context.Context, id string, f func(*auth.Record)) (auth.Record, bool, error) {
	var rec auth.Record
	found := false
	key := rowKey("session", id)
	err := ss.s.tx(ctx, func(tx *sql.Tx) error {
		q := `SELECT sealed FROM sessions WHERE key = ?`
		if ss.s.dialect == Postgres {
			q += ` FOR UPDATE`
		}
		var sealed string
		err := tx.QueryRowContext(ctx, ss.s.q(q), key).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: read session: %w", err)
		}
		if err := unseal("session", id, sealed, &rec); err != nil {
			return err
		}
		f(&rec)
		if sealed, err = seal("session", id, rec); err != nil {
			return err
		}
		found = true
		_, err = tx.ExecContext(ctx, ss.s.q(`UPDATE sessions SET sealed = ?, created_at = ?, last_seen = ? WHERE key = ?`),
			sealed, fmtTime(rec.Created), fmtTime(rec.LastSeen), key)
		return err
	})
	if err != nil || !found {
		return auth.Record{}, false, err
	}
	return rec, true, nil
}

// Delete implements auth.Store.
func (ss *Sessions) Delete(ctx context.Context, id string) error {
	if _, err := ss.s.db.ExecContext(ctx, ss.s.q(`DELETE FROM sessions WHERE key = ?`), rowKey("session", id)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// PutPending implements auth.Store. When full it first forgets the expired
// sign-ins; only if none has expired is the new one refused.
func (ss *Sessions) PutPending(ctx context.Context, id string, p auth.Pending, expires time.Time) error {
	limit := ss.MaxPending
	if limit <= 0 {
		limit = auth.DefaultMaxPending
	}
	n, err := ss.pendingLen(ctx)
	if err != nil {
		return err
	}
	if n >= limit {
		if _, err := ss.s.db.ExecContext(ctx, ss.s.q(`DELETE FROM oidc_pending WHERE expires_at <= ?`), fmtTime(p.Started)); err != nil {
			return fmt.Errorf("store: sweep sign-ins: %w", err)
		}
		if n, err = ss.pendingLen(ctx); err != nil {
			return err
		}
		if n >= limit {
			return auth.ErrStoreFull
		}
	}
	sealed, err := seal("pending", id, p)
	if err != nil {
		return err
	}
	if _, err := ss.s.db.ExecContext(ctx, ss.s.q(`INSERT INTO oidc_pending (key, sealed, expires_at) VALUES (?, ?, ?)`),
		rowKey("pending", id), sealed, fmtTime(expires)); err != nil {
		return fmt.Errorf("store: put sign-in: %w", err)
	}
	return nil
}

func (ss *Sessions) pendingLen(ctx context.Context) (int, error) {
	var n int
	if err := ss.s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_pending`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count sign-ins: %w", err)
	}
	return n, nil
}

// PendingLen is the number of sign-ins in progress (tests).
func (ss *Sessions) PendingLen(ctx context.Context) (int, error) { return ss.pendingLen(ctx) }

// TakePending implements auth.Store: one DELETE … RETURNING, so of two
// takes of the same id (on any replicas) at most one finds it.
func (ss *Sessions) TakePending(ctx context.Context, id string, now time.Time) (auth.Pending, bool, error) {
	var sealed, expires string
	err := ss.s.db.QueryRowContext(ctx, ss.s.q(`DELETE FROM oidc_pending WHERE key = ? RETURNING sealed, expires_at`),
		rowKey("pending", id)).Scan(&sealed, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Pending{}, false, nil
	}
	if err != nil {
		return auth.Pending{}, false, fmt.Errorf("store: take sign-in: %w", err)
	}
	if !now.Before(parseTime(expires)) {
		return auth.Pending{}, false, nil
	}
	var p auth.Pending
	if err := unseal("pending", id, sealed, &p); err != nil {
		return auth.Pending{}, false, err
	}
	return p, true, nil
}

// Sweep implements auth.Store.
func (ss *Sessions) Sweep(ctx context.Context, seenBefore, createdBefore, now time.Time) error {
	return ss.s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, ss.s.q(`DELETE FROM sessions WHERE last_seen < ? OR created_at < ?`),
			fmtTime(seenBefore), fmtTime(createdBefore)); err != nil {
			return fmt.Errorf("store: sweep sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, ss.s.q(`DELETE FROM oidc_pending WHERE expires_at <= ?`), fmtTime(now)); err != nil {
			return fmt.Errorf("store: sweep sign-ins: %w", err)
		}
		return nil
	})
}

// Len implements auth.Store.
func (ss *Sessions) Len(ctx context.Context) (int, error) {
	var n int
	if err := ss.s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}
