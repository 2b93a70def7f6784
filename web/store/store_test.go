package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// eachDB runs fn against a fresh SQLite store, and against a fresh schema
// of the PostgreSQL at TEST_DATABASE_URL (see postgresURL).
func eachDB(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres(t, postgresURL(t))) })
}

// postgresURL returns the PostgreSQL server of the store tests,
// TEST_DATABASE_URL. Without one the test is skipped on a developer's
// machine; under CI (CI set, and not to a false value) it fails, so that a
// CI run without PostgreSQL cannot pass having tested SQLite only.
func postgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u != "" {
		return u
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal("TEST_DATABASE_URL is not set: under CI the store tests need PostgreSQL (.ci/postgres.sh starts one)")
	}
	t.Skip("TEST_DATABASE_URL not set")
	return ""
}

func openSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), t.TempDir(), "")
	if err != nil {
		t.Fatalf("Open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres opens the store in a schema of its own, dropped afterwards.
func openPostgres(t testing.TB, base string) *Store {
	t.Helper()
	s, err := Open(t.Context(), t.TempDir(), postgresSchema(t, base))
	if err != nil {
		t.Fatalf("Open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// postgresSchema creates a schema of its own for the test (dropped
// afterwards) and returns a database URL that uses it.
func postgresSchema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "t_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// latestMigration is the number of the newest embedded migration.
func latestMigration(t *testing.T, dialect string) int {
	entries, err := migrations.ReadDir("migrations/" + dialect)
	if err != nil || len(entries) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	var n int
	fmt.Sscanf(entries[len(entries)-1].Name(), "%d", &n)
	return n
}

func TestMigrationsApplyOnceAndReopen(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		s, err := Open(t.Context(), dir, "")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		v, err := s.SchemaVersion(t.Context())
		if want := latestMigration(t, SQLite); err != nil || v != want {
			t.Fatalf("schema version = %d, %v; want %d", v, err, want)
		}
		var mode string
		s.db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode)
		if mode != "wal" {
			t.Errorf("journal_mode = %q, want wal", mode)
		}
		s.Close()
	}
	eachDB(t, func(t *testing.T, s *Store) {
		v, err := s.SchemaVersion(t.Context())
		if want := latestMigration(t, s.dialect); err != nil || v != want {
			t.Fatalf("schema version = %d, %v; want %d", v, err, want)
		}
		if latestMigration(t, SQLite) != latestMigration(t, Postgres) {
			t.Error("the SQLite and PostgreSQL migrations differ in number")
		}
	})
}

func TestJobs(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		j, err := s.CreateJob(ctx, Job{ID: uuid.NewString(), Kind: "import.create", State: "uploaded", CreatedBy: "lea@example.com", Total: 3,
			Params: json.RawMessage(`{"mode":"create"}`)})
		if err != nil {
			t.Fatal(err)
		}
		j.State, j.StartedAt = "running", time.Now()
		if _, err := s.UpdateJob(ctx, j, "uploaded"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateJob(ctx, j, "uploaded"); !errors.Is(err, ErrStateChanged) {
			t.Errorf("second start: %v, want ErrStateChanged", err)
		}
		rows := []JobRow{{JobID: j.ID, RowNo: 1, Outcome: "created", DixaID: "d1"}, {JobID: j.ID, RowNo: 2, Outcome: "failed", Error: "phone in use"}}
		if err := s.PutJobRows(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if err := s.PutJobRows(ctx, []JobRow{{JobID: j.ID, RowNo: 2, Outcome: "skipped"}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.JobRows(ctx, j.ID)
		if err != nil || len(got) != 2 || got[1].Outcome != "skipped" || got[0].DixaID != "d1" {
			t.Fatalf("JobRows = %+v, %v", got, err)
		}
		back, err := s.GetJob(ctx, j.ID)
		if err != nil || back.State != "running" || string(back.Params) != `{"mode":"create"}` || back.StartedAt.IsZero() {
			t.Fatalf("GetJob = %+v, %v", back, err)
		}
		list, _ := s.ListJobs(ctx, 0)
		if len(list) != 1 {
			t.Errorf("ListJobs: %d", len(list))
		}
	})
}
