package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Leases are named leases of background work: of several replicas, the one
// holding a lease does the work, renews it while it does (a heartbeat), and
// a replica that dies loses it when it expires. On PostgreSQL the expiry is
// on the database's clock, so replicas whose clocks differ agree.
type Leases struct{ s *Store }

// Leases returns the lease table.
func (s *Store) Leases() *Leases { return &Leases{s: s} }

// Hold takes the lease name for holder for ttl, or renews it when holder
// has it already; false when another holder's lease has not expired. One
// statement: of several replicas asking at once, one gets it.
func (l *Leases) Hold(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var q string
	var args []any
	if l.s.dialect == Postgres {
		q = `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
			ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
			WHERE leases.expires_at < now() OR leases.holder = EXCLUDED.holder RETURNING holder`
		args = []any{name, holder, ttl.Milliseconds()}
	} else {
		now := l.s.clock()
		q = `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.expires_at < ? OR leases.holder = excluded.holder RETURNING holder`
		args = []any{name, holder, fmtTime(now.Add(ttl)), fmtTime(now)}
	}
	var got string
	err := l.s.db.QueryRowContext(ctx, q, args...).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: hold lease %s: %w", name, err)
	}
	return got == holder, nil
}

// Release gives up holder's lease name at once (a clean shutdown), so that
// another replica need not wait for it to expire.
func (l *Leases) Release(ctx context.Context, name, holder string) error {
	if _, err := l.s.db.ExecContext(ctx, l.s.q(`DELETE FROM leases WHERE name = ? AND holder = ?`), name, holder); err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}

// dbNow is the database's clock on PostgreSQL (replicas' clocks may
// differ) and the store's clock on SQLite (one process).
func (s *Store) dbNow(ctx context.Context) (time.Time, error) {
	if s.dialect != Postgres {
		return s.clock(), nil
	}
	var t time.Time
	if err := s.db.QueryRowContext(ctx, `SELECT now()`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("store: database clock: %w", err)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}
