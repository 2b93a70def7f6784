package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// RateBucket is the Dixa rate limit shared by every replica on one
// PostgreSQL: a GCRA ("virtual scheduling") bucket in one row per API
// token. One UPDATE … RETURNING, timed by the database's clock (so clock
// skew between replicas does not matter), hands a caller the wait before
// its slot; no lock is held while the caller waits. It satisfies
// apiclient.Bucket.
type RateBucket struct {
	s       *Store
	keyHash string
	// interval is the time between slots (1/rps); tolerance how far ahead
	// of the schedule a slot may be (the burst).
	interval, tolerance time.Duration
}

// ErrNoSharedLimit is returned by RateBucket on a store that is not
// PostgreSQL: SQLite serves one process, which keeps its limit in memory.
var ErrNoSharedLimit = errors.New("store: a shared rate limit needs PostgreSQL")

// RateBucket returns the shared bucket of apiKey for a limit of rps
// requests a second with bursts of burst, creating its row if needed. It
// hands out at most burst-2 slots at once (never fewer than one): two slots
// of headroom absorb up to two intervals of jitter between the slots and
// the arrival times the upstream counts. Across replicas that jitter is
// larger than in one process: the answer to a reservation comes back after
// a round trip to the database, and the sends of several processes meet
// at the upstream. (The limiter drops a slot it would use more than half
// an interval late, which leaves the rest of the headroom for the way to
// the upstream.)
func (s *Store) RateBucket(ctx context.Context, apiKey string, rps float64, burst int) (*RateBucket, error) {
	if s.dialect != Postgres {
		return nil, ErrNoSharedLimit
	}
	if rps <= 0 {
		return nil, errors.New("store: a shared rate limit needs a positive rate")
	}
	sum := sha256.Sum256([]byte("dixa-rate-limit\x00" + apiKey))
	interval := time.Duration(float64(time.Second) / rps)
	b := &RateBucket{
		s:         s,
		keyHash:   hex.EncodeToString(sum[:]),
		interval:  interval,
		tolerance: time.Duration(max(burst-3, 0)) * interval,
	}
	if err := b.ensure(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *RateBucket) ensure(ctx context.Context) error {
	if _, err := b.s.db.ExecContext(ctx,
		`INSERT INTO rate_buckets (key_hash) VALUES ($1) ON CONFLICT (key_hash) DO NOTHING`, b.keyHash); err != nil {
		return fmt.Errorf("store: rate bucket: %w", err)
	}
	return nil
}

// sendAt is the earliest slot: not before now, not before the block, and
// not more than the tolerance ahead of the theoretical arrival time.
const sendAt = `GREATEST(clock_timestamp(), blocked_until, tat - $3::float8 * interval '1 second')`

// reserveOK says whether the slot is granted: an idle-only caller gets one
// only when nobody took a slot within the last interval and no block is in
// force; any other caller when the slot is at most maxWait ($4) away.
const reserveOK = `(CASE WHEN $5::boolean
	THEN tat <= clock_timestamp() AND blocked_until <= clock_timestamp()
	ELSE ` + sendAt + ` <= clock_timestamp() + $4::float8 * interval '1 second' END)`

// reserveSQL takes a slot (or records why not) in one statement. The SET
// expressions see the row as it was before this UPDATE, after any
// concurrent reservation committed: the row lock orders the callers. The
// grant is decided once, in the new tat; RETURNING reads it back as "tat
// changed" (a grant always moves tat forward), so that the answer cannot
// disagree with what was recorded.
const reserveSQL = `UPDATE rate_buckets SET
	tat = CASE WHEN ` + reserveOK + `
		THEN GREATEST(tat, clock_timestamp(), blocked_until) + $2::float8 * interval '1 second'
		ELSE tat END,
	prev_tat = tat,
	last_wait = EXTRACT(EPOCH FROM (CASE WHEN $5::boolean
		THEN GREATEST(tat, blocked_until, clock_timestamp())
		ELSE ` + sendAt + ` END) - clock_timestamp())
WHERE key_hash = $1
RETURNING last_wait, tat <> prev_tat`

// Reserve claims the next slot: see apiclient.Bucket. One round trip.
func (b *RateBucket) Reserve(ctx context.Context, idleOnly bool, maxWait time.Duration) (time.Duration, bool, error) {
	for range 2 {
		var wait float64
		var ok bool
		err := b.s.db.QueryRowContext(ctx, reserveSQL, b.keyHash,
			b.interval.Seconds(), b.tolerance.Seconds(), min(maxWait, 24*time.Hour).Seconds(), idleOnly).Scan(&wait, &ok)
		if errors.Is(err, sql.ErrNoRows) {
			// The row was deleted: make it again.
			if err := b.ensure(ctx); err != nil {
				return 0, false, err
			}
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("store: reserve rate slot: %w", err)
		}
		return max(time.Duration(wait*float64(time.Second)), 0), ok, nil
	}
	return 0, false, errors.New("store: rate bucket row keeps disappearing")
}

// Interval is the time between two slots.
func (b *RateBucket) Interval() time.Duration { return b.interval }

// Block stops every replica from getting a slot for d from now (database
// time). It never shortens a block in force.
func (b *RateBucket) Block(ctx context.Context, d time.Duration) error {
	_, err := b.s.db.ExecContext(ctx, `UPDATE rate_buckets
		SET blocked_until = GREATEST(blocked_until, clock_timestamp() + $2::float8 * interval '1 second')
		WHERE key_hash = $1`, b.keyHash, d.Seconds())
	if err != nil {
		return fmt.Errorf("store: block rate bucket: %w", err)
	}
	return nil
}

// Blocked returns how long the shared block still holds (0 when none).
func (b *RateBucket) Blocked(ctx context.Context) (time.Duration, error) {
	var secs float64
	err := b.s.db.QueryRowContext(ctx, `SELECT GREATEST(EXTRACT(EPOCH FROM blocked_until - clock_timestamp()), 0)::float8
		FROM rate_buckets WHERE key_hash = $1`, b.keyHash).Scan(&secs)
	if err != nil {
		return 0, fmt.Errorf("store: read rate block: %w", err)
	}
	return time.Duration(secs * float64(time.Second)), nil
}
