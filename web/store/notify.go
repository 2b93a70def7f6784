package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/example/dixa-console/web/dixacache"
)

// cacheChannel is the PostgreSQL NOTIFY channel of cache invalidations.
const cacheChannel = "dixa_console_cache"

// CacheBus carries the read cache's invalidations between replicas with
// PostgreSQL LISTEN/NOTIFY: Publish notifies through the store's pool;
// Listen holds one dedicated connection and reconnects when it is lost.
type CacheBus struct {
	s      *Store
	url    string
	origin string // this replica: its own events are already applied
	log    *slog.Logger
}

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

// Publish sends e to every replica listening.
func (b *CacheBus) Publish(ctx context.Context, e dixacache.Event) error {
	payload, _ := json.Marshal(cacheNote{Origin: b.origin, Event: e})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := b.s.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", cacheChannel, string(payload))
	if err != nil {
		b.log.Warn("cache invalidation not sent to the other replicas", "err", err)
	}
	return err
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
