package main

import (
	"bytes"
	"database/sql"
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
