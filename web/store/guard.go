package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"github.com/example/dixa-console/web/writeguard"
)

// Guard is writeguard.Shared in the database: one-time form tokens spent
// by one insert wherever they are posted, and, on PostgreSQL, a
// session-level advisory lock per key held on a connection of its own
// (SQLite serves one process, whose in-process lock is enough).
type Guard struct {
	s *Store

	mu        sync.Mutex
	lastSweep time.Time
}

// Guard returns the shared write guard.
func (s *Store) Guard() *Guard { return &Guard{s: s} }

var _ writeguard.Shared = (*Guard)(nil)

// guardLockSpace is the first key of the two-key advisory locks of saves,
// apart from the migration lock.
const guardLockSpace = 7243002

// SpendToken implements writeguard.Shared.
func (g *Guard) SpendToken(ctx context.Context, tok string, expires time.Time) (bool, writeguard.State, string, error) {
	g.sweep(ctx)
	key := rowKey("form", tok)
	now := g.s.clock()
	res, err := g.s.db.ExecContext(ctx, g.s.q(`INSERT INTO form_tokens (key, state, result, expires_at) VALUES (?, ?, '', ?)
		ON CONFLICT (key) DO NOTHING`), key, int(writeguard.TokenRunning), fmtTime(expires))
	if err != nil {
		return false, 0, "", fmt.Errorf("store: spend form token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, writeguard.TokenRunning, "", nil
	}
	// Released (nothing was written) or expired: the form may be sent again.
	res, err = g.s.db.ExecContext(ctx, g.s.q(`UPDATE form_tokens SET state = ?, result = '', expires_at = ?
		WHERE key = ? AND (state = ? OR expires_at <= ?)`),
		int(writeguard.TokenRunning), fmtTime(expires), key, int(writeguard.TokenFresh), fmtTime(now))
	if err != nil {
		return false, 0, "", fmt.Errorf("store: spend form token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, writeguard.TokenRunning, "", nil
	}
	var state int
	var result string
	err = g.s.db.QueryRowContext(ctx, g.s.q(`SELECT state, result FROM form_tokens WHERE key = ?`), key).Scan(&state, &result)
	if err != nil {
		return false, 0, "", fmt.Errorf("store: read form token: %w", err)
	}
	return false, writeguard.State(state), result, nil
}

// FinishToken implements writeguard.Shared.
func (g *Guard) FinishToken(ctx context.Context, tok string, state writeguard.State, result string) error {
	_, err := g.s.db.ExecContext(ctx, g.s.q(`UPDATE form_tokens SET state = ?, result = ? WHERE key = ?`),
		int(state), result, rowKey("form", tok))
	if err != nil {
		return fmt.Errorf("store: finish form token: %w", err)
	}
	return nil
}

// sweep deletes expired tokens at most once a minute.
func (g *Guard) sweep(ctx context.Context) {
	now := g.s.clock()
	g.mu.Lock()
	due := now.Sub(g.lastSweep) >= time.Minute
	if due {
		g.lastSweep = now
	}
	g.mu.Unlock()
	if due {
		g.s.db.ExecContext(ctx, g.s.q(`DELETE FROM form_tokens WHERE expires_at <= ? AND state <> ?`),
			fmtTime(now), int(writeguard.TokenRunning))
	}
}

// LockKey implements writeguard.Shared. On PostgreSQL the lock is taken
// on a dedicated connection; it is given back on release, and a
// connection whose unlock failed (or whose wait was cut short) is closed,
// which ends the lock with it.
func (g *Guard) LockKey(ctx context.Context, key string) (func(), error) {
	if g.s.dialect != Postgres {
		return func() {}, nil
	}
	conn, err := g.s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: lock %q: %w", key, err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, guardLockSpace, key); err != nil {
		discard(conn)
		return nil, fmt.Errorf("store: lock: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var ok bool
			err := conn.QueryRowContext(uctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, guardLockSpace, key).Scan(&ok)
			if err != nil || !ok {
				discard(conn)
				return
			}
			conn.Close()
		})
	}, nil
}

// discard closes conn's connection instead of returning it to the pool, so
// that whatever session state it holds (an advisory lock) ends.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
