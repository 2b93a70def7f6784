package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/example/dixa-console/web/dixacache"
)

// cacheChannel is the PostgreSQL NOTIFY channel of cache invalidations.
const cacheChannel = "dixa_console_cache"

// CacheBus carries the read cache's invalidations between replicas. It is
// dixacache.Versions: Publish counts the write in cache_versions and
// notifies the other replicas in the same statement (PostgreSQL sends the
// notification when the count commits); every replica's cached reads check
// the count with Version, so the notification, which arrives when it
// arrives, only frees their memory sooner. Listen holds one dedicated
// connection and reconnects when it is lost.
type CacheBus struct {
	s      *Store
	url    string
	origin string // this replica: its own events are already applied
	log    *slog.Logger
}

var (
	_ dixacache.Versions = (*CacheBus)(nil)
	_ dixacache.Listener = (*CacheBus)(nil)
)

type cacheNote struct {
	Origin string          `json:"o"`
	Event  dixacache.Event `json:"e"`
}

// CacheBus returns the bus of a PostgreSQL store (databaseURL is the one it
// was opened with), or nil with SQLite: one process needs none.
func (s *Store) CacheBus(databaseURL string, log *slog.Logger) *CacheBus {
	if s.dialect != Postgres || databaseURL == "" {
		return nil
	}
	b := make([]byte, 8)
	rand.Read(b)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CacheBus{s: s, url: databaseURL, origin: hex.EncodeToString(b), log: log}
}

// bumpAndNotify counts one write of each owner ($1, with $2 marking an
// erasure; in a fixed order, so that concurrent writers lock rows alike)
// and notifies $3 with $4 when that commits.
const bumpAndNotify = `WITH bumped AS (
	INSERT INTO cache_versions (owner, version, erased)
	SELECT o, 1, e FROM unnest($1::text[], $2::boolean[]) AS u(o, e) ORDER BY o
	ON CONFLICT (owner) DO UPDATE SET version = cache_versions.version + 1,
		erased = cache_versions.erased OR EXCLUDED.erased
	RETURNING 1)
SELECT pg_notify($3, $4), (SELECT count(*) FROM bumped)`

// Publish counts the write e stands for, where every replica's reads check
// it, and sends e to every replica listening; when it returns without an
// error no replica serves what e touches as it was before.
func (b *CacheBus) Publish(ctx context.Context, e dixacache.Event) error {
	payload, _ := json.Marshal(cacheNote{Origin: b.origin, Event: e})
	owners, erased := touched(e)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := b.s.db.ExecContext(ctx, bumpAndNotify, owners, erased, cacheChannel, string(payload))
	if err != nil {
		b.log.Warn("cache invalidation not recorded for the other replicas", "err", err)
	}
	return err
}

// touched is the owners whose write count e bumps ("" for the lists and
// searches, which every write drops), and which of them it erases.
func touched(e dixacache.Event) ([]string, []bool) {
	switch e.Kind {
	case dixacache.KindUser:
		return []string{"", e.ID}, []bool{false, false}
	case dixacache.KindErased:
		return []string{"", e.ID}, []bool{false, true}
	case dixacache.KindLists:
		return []string{""}, []bool{false}
	}
	return []string{}, []bool{}
}

// Version returns the write count of owner and whether it was erased; an
// owner never written has count 0.
func (b *CacheBus) Version(ctx context.Context, owner string) (dixacache.Version, error) {
	var v dixacache.Version
	err := b.s.db.QueryRowContext(ctx, `SELECT version, erased FROM cache_versions WHERE owner = $1`, owner).Scan(&v.N, &v.Erased)
	if errors.Is(err, sql.ErrNoRows) {
		return dixacache.Version{}, nil
	}
	return v, err
}

// Listen applies the other replicas' events until ctx ends. Each time it
// (re)connects it first drops the whole cache: events sent while it was
// away are lost.
func (b *CacheBus) Listen(ctx context.Context, apply func(dixacache.Event)) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.listenOnce(ctx, apply)
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("cache invalidation listener lost its connection; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (b *CacheBus) listenOnce(ctx context.Context, apply func(dixacache.Event)) error {
	conn, err := pgx.Connect(ctx, b.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+cacheChannel); err != nil {
		return err
	}
	apply(dixacache.Event{Kind: dixacache.KindAll})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var note cacheNote
		if json.Unmarshal([]byte(n.Payload), &note) != nil || note.Origin == b.origin {
			continue
		}
		apply(note.Event)
	}
}
