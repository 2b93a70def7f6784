// Package store is the console's own database: erasure requests, the
// hash-chained audit log, and bulk import jobs.
//
// The zero-configuration default is an embedded SQLite file in DATA_DIR
// (modernc.org/sqlite: pure Go, WAL, busy timeout, foreign keys, and every
// transaction BEGIN IMMEDIATE so that writers serialise); with DATABASE_URL
// set it is PostgreSQL (pgx through database/sql), for several replicas
// sharing one database. Both get the same tables from embedded, versioned
// SQL migrations applied at start-up (schema_migrations records them).
//
// Queries are written once with ? placeholders and rebound to $n for
// PostgreSQL. Times are stored as fixed-width UTC text so that they sort
// and hash the same in both databases.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

//go:embed migrations
var migrations embed.FS

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrKeyFile is returned when the identifier key file exists but does not
// hold a whole key. The store refuses to start rather than make a new key:
// erased people's identifiers are kept keyed with the old one.
var ErrKeyFile = errors.New("store: bad key file")

// keyFile is the identifier HMAC key's file in the data directory, and
// keyLen its length.
const (
	keyFile = "erasure-hmac.key"
	keyLen  = 32
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Store is the database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect string
	// appendMu serialises audit appends within the process (the database
	// serialises them across processes).
	appendMu sync.Mutex
	// idKey keys the HMAC of erased identifiers.
	idKey []byte
	now   func() time.Time
}

// Open opens (creating if needed) the database and applies pending
// migrations: PostgreSQL when databaseURL is set, otherwise SQLite in
// dataDir/console.db. With SQLite the identifier HMAC key lives in
// dataDir/erasure-hmac.key (created on first start), outside the database;
// with PostgreSQL it is kept in the database, so that every replica keys
// erased identifiers and receipts alike (see sharedKey).
func Open(ctx context.Context, dataDir, databaseURL string) (*Store, error) {
	s := &Store{now: time.Now}
	var err error
	if dataDir == "" {
		dataDir = "."
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	if databaseURL == "" {
		if s.idKey, err = loadKey(filepath.Join(dataDir, keyFile)); err != nil {
			return nil, err
		}
	}
	if databaseURL != "" {
		s.dialect = Postgres
		s.db, err = sql.Open("pgx", databaseURL)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		s.db.SetMaxOpenConns(10)
		s.db.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		s.dialect = SQLite
		path := filepath.Join(dataDir, "console.db")
		dsn := "file:" + path + "?_txlock=immediate" +
			"&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
		s.db, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		s.db.SetMaxOpenConns(4)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", s.dialect, err)
	}
	if err := s.migrate(pctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if s.dialect == Postgres {
		if s.idKey, err = s.sharedKey(pctx, filepath.Join(dataDir, keyFile)); err != nil {
			s.db.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect is SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

// OpenReadOnly opens an existing database for reading only, as the audit
// log check does: it creates nothing (no data directory, database or key
// file; SQLite may add the -wal and -shm files any reader of a WAL
// database uses), applies no migration, changes no row, and fails when the
// database is missing or holds no console schema. SQLite opens the file with mode=ro and
// query_only; on PostgreSQL every transaction is read-only
// (default_transaction_read_only). The key file is read when present;
// without it, look-ups of erased identifiers find nothing.
func OpenReadOnly(ctx context.Context, dataDir, databaseURL string) (*Store, error) {
	s := &Store{now: time.Now}
	if dataDir == "" {
		dataDir = "."
	}
	key, err := readKey(filepath.Join(dataDir, keyFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	s.idKey = key
	where := "PostgreSQL"
	if databaseURL != "" {
		s.dialect = Postgres
		u, err := url.Parse(databaseURL)
		if err != nil {
			return nil, errors.New("store: DATABASE_URL is not a URL") // not echoed: it may hold a password
		}
		q := u.Query()
		q.Set("default_transaction_read_only", "on")
		u.RawQuery = q.Encode()
		if s.db, err = sql.Open("pgx", u.String()); err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
	} else {
		s.dialect = SQLite
		where = filepath.Join(dataDir, "console.db")
		if _, err := os.Stat(where); err != nil {
			return nil, fmt.Errorf("store: no database at %s: %w", where, err)
		}
		if s.db, err = sql.Open("sqlite", "file:"+where+"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(10000)"); err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
	}
	s.db.SetMaxOpenConns(2)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", s.dialect, err)
	}
	if v, err := s.SchemaVersion(pctx); err != nil || v == 0 {
		s.db.Close()
		return nil, fmt.Errorf("store: %s holds no console database (no applied migrations): %v", where, err)
	}
	if s.dialect == Postgres {
		// The key shared by the replicas, when the schema has one.
		var key []byte
		if s.db.QueryRowContext(pctx, `SELECT value FROM shared_keys WHERE name = $1`, idKeyName).Scan(&key) == nil && len(key) == keyLen {
			s.idKey = key
		}
	}
	return s, nil
}

// q rebinds a query written with ? placeholders for the dialect.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// tx runs fn in a transaction (BEGIN IMMEDIATE on SQLite), committing when
// it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction. On PostgreSQL an advisory
// lock keeps replicas starting together from racing.
func (s *Store) migrate(ctx context.Context) error {
	dir := "migrations/" + s.dialect
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7243001)`); err != nil {
				return fmt.Errorf("store: migration lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
			return fmt.Errorf("store: schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("store: read schema_migrations: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			applied[v] = true
		}
		rows.Close()
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".sql") {
				continue
			}
			num, _, ok := strings.Cut(name, "_")
			v, err := strconv.Atoi(num)
			if !ok || err != nil {
				return fmt.Errorf("store: migration %s: name must start with a version number", name)
			}
			if applied[v] {
				continue
			}
			body, err := migrations.ReadFile(dir + "/" + name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("store: migration %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				v, name, fmtTime(s.now())); err != nil {
				return fmt.Errorf("store: record migration %s: %w", name, err)
			}
		}
		return nil
	})
}

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// timeFormat is the stored form of instants: fixed width, so text order is
// time order.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// dateFormat is the stored form of calendar dates.
const dateFormat = "2006-01-02"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateFormat)
}

func parseDate(s string) time.Time {
	t, _ := time.Parse(dateFormat, s)
	return t
}

// now is the store's clock, truncated to what is stored.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
