package store

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A read-only open of a database that is not there fails, and leaves
// nothing behind: no directory, no database, no key file.
func TestOpenReadOnlyRefusesAMissingDatabase(t *testing.T) {
	t.Run("sqlite missing directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if s, err := OpenReadOnly(t.Context(), dir, ""); err == nil {
			s.Close()
			t.Fatal("got a store for a missing directory, want an error")
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the data directory was created (%v)", err)
		}
	})
	t.Run("sqlite empty directory", func(t *testing.T) {
		dir := t.TempDir()
		if s, err := OpenReadOnly(t.Context(), dir, ""); err == nil {
			s.Close()
			t.Fatal("got a store for an empty directory, want an error")
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("files were created: %v", left)
		}
	})
	t.Run("sqlite file without the schema", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "console.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := OpenReadOnly(t.Context(), dir, ""); err == nil {
			s.Close()
			t.Fatal("got a store for an empty file, want an error")
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
			t.Errorf("the empty file was written to (%v)", err)
		}
	})
	t.Run("postgres schema without tables", func(t *testing.T) {
		u := postgresSchema(t, postgresURL(t))
		if s, err := OpenReadOnly(t.Context(), t.TempDir(), u); err == nil {
			s.Close()
			t.Fatal("got a store for an empty schema, want an error")
		}
		raw, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRowContext(t.Context(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil || n != 0 {
			t.Errorf("tables in the schema after a read-only open: %d, %v", n, err)
		}
	})
}

// A read-only store reads the audit log and cannot change anything.
func TestOpenReadOnlyReadsButNeverWrites(t *testing.T) {
	check := func(t *testing.T, dir, dbURL string) {
		rw, err := Open(t.Context(), dir, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		if err := rw.Audit(t.Context(), AuditEntry{Action: "signin", ActorID: "lea@example.com"}); err != nil {
			t.Fatal(err)
		}
		rw.Close()

		ro, err := OpenReadOnly(t.Context(), dir, dbURL)
		if err != nil {
			t.Fatalf("OpenReadOnly: %v", err)
		}
		defer ro.Close()
		res, err := ro.Verify(t.Context())
		if err != nil || !res.OK() || res.Entries != 1 {
			t.Fatalf("Verify: %+v, %v; want 1 entry, OK", res, err)
		}
		if err := ro.Audit(t.Context(), AuditEntry{Action: "signin", ActorID: "eve@example.com"}); err == nil {
			t.Error("a read-only store appended to the audit log")
		}
		if _, err := ro.db.ExecContext(t.Context(), `CREATE TABLE ro_probe (x INTEGER)`); err == nil {
			t.Error("a read-only store created a table")
		}
	}
	t.Run("sqlite", func(t *testing.T) { check(t, t.TempDir(), "") })
	t.Run("postgres", func(t *testing.T) { check(t, t.TempDir(), postgresSchema(t, postgresURL(t))) })
}

// A key file shorter than a key stops Open with ErrKeyFile, promptly,
// and is left as it was: it is never replaced by a new key.
func TestOpenRefusesAShortKeyFile(t *testing.T) {
	for _, n := range []int{0, 1, 31} {
		dir := t.TempDir()
		path := filepath.Join(dir, keyFile)
		short := bytes.Repeat([]byte{'k'}, n)
		if err := os.WriteFile(path, short, 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		s, err := Open(t.Context(), dir, "")
		if err == nil {
			s.Close()
			t.Fatalf("%d-byte key file: got a store, want ErrKeyFile", n)
		}
		if !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), path) {
			t.Errorf("%d-byte key file: got %v, want ErrKeyFile naming %s", n, err, path)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%d-byte key file: refused after %v", n, d)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, short) {
			t.Errorf("%d-byte key file was changed to %d bytes", n, len(got))
		}
		if s, err := OpenReadOnly(t.Context(), dir, ""); !errors.Is(err, ErrKeyFile) {
			if s != nil {
				s.Close()
			}
			t.Errorf("%d-byte key file, read-only: got %v, want ErrKeyFile", n, err)
		}
	}
}
