package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/store"
)

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(t.Context(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"signin", "erasure.requested", "erasure.approved"} {
		if err := db.Audit(t.Context(), store.AuditEntry{Action: a, ActorID: "lea@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	env := func(k string) string { return map[string]string{"DATA_DIR": dir}[k] }
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"verify"}, env, &out, &errb); err != nil {
		t.Fatalf("verify of a clean log: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "audit log OK: 3 entries; head 3:") {
		t.Errorf("output = %q", out.String())
	}
	head := strings.TrimSpace(out.String()[strings.Index(out.String(), "head ")+5:])

	// Someone with write access edits an entry behind the trigger's back.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor_id = 'someone@else' WHERE seq = 2`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	errb.Reset()
	err = run(t.Context(), []string{"verify", "-head", head}, env, &out, &errb)
	if err == nil || !strings.Contains(errb.String(), "entry 2") {
		t.Fatalf("tampered log: err %v, stderr %q", err, errb.String())
	}
	if err := run(t.Context(), []string{"verify", "-head", "nonsense"}, env, &out, &errb); err == nil {
		t.Error("bad -head accepted")
	}
}

// verify reads the database it is pointed at and nothing else: a missing
// database, a directory without one and a log without entries all fail,
// and nothing is created on the way (a new, empty database would pass).
func TestVerifyRefusesAMissingOrEmptyLog(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "data")
	empty := t.TempDir()
	migrated := t.TempDir()
	db, err := store.Open(t.Context(), migrated, "")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"missing directory", missing, "no database"},
		{"empty directory", empty, "no database"},
		{"empty log", migrated, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dataFiles(tc.dir)
			var out, errb bytes.Buffer
			err := run(t.Context(), []string{"verify"}, func(k string) string { return map[string]string{"DATA_DIR": tc.dir}[k] }, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (stdout %q), want an error saying %q", err, out.String(), tc.want)
			}
			if strings.Contains(out.String(), "OK") {
				t.Errorf("stdout says OK: %q", out.String())
			}
			if after := dataFiles(tc.dir); after != before {
				t.Errorf("verify changed the data directory: before %s, after %s", before, after)
			}
		})
	}
}

// dataFiles describes the files in dir and their contents, leaving out
// the -wal and -shm files SQLite keeps beside a database in WAL mode
// (every reader, a read-only one too, may create them).
func dataFiles(dir string) string {
	entries, _ := os.ReadDir(dir)
	var b strings.Builder
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-wal") || strings.HasSuffix(e.Name(), "-shm") {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s:%x ", e.Name(), sha256.Sum256(data))
	}
	return b.String()
}
