package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/role"
)

func leadCtx(t *testing.T) context.Context {
	ctx := reqctx.WithIdentity(t.Context(), reqctx.Identity{ID: "lead@example.com", Name: "Lea Lead", Role: role.Lead, Via: "group support-leads", SessionID: "sess-1"})
	return reqctx.WithRequestID(ctx, "req-123")
}

func TestAuditFillsActorAndChains(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		ctx := leadCtx(t)
		e1, err := s.AppendAudit(ctx, audit.Entry{Action: "enduser.updated", TargetType: "enduser", TargetID: "u1", Details: map[string]string{"fields": "email,phoneNumber"}})
		if err != nil {
			t.Fatal(err)
		}
		if e1.ActorID != "lead@example.com" || e1.ActorRole != "lead" || e1.ActorVia != "group support-leads" || e1.CorrelationID != "req-123" {
			t.Errorf("actor not filled from context: %+v", e1)
		}
		if e1.SessionHash == "" || strings.Contains(e1.SessionHash, "sess-1") {
			t.Errorf("session hash = %q", e1.SessionHash)
		}
		if e1.Seq != 1 || e1.PrevHash != audit.GenesisHash || len(e1.Hash) != 64 {
			t.Errorf("first entry seq %d prev %s hash %s", e1.Seq, e1.PrevHash, e1.Hash)
		}
		e2, err := s.AppendAudit(t.Context(), audit.Entry{Action: "signin", Outcome: audit.OutcomeDenied})
		if err != nil {
			t.Fatal(err)
		}
		if e2.Seq != 2 || e2.PrevHash != e1.Hash || e2.ActorID != "anonymous" {
			t.Errorf("second entry: %+v", e2)
		}
		got, err := s.ListAudit(t.Context(), audit.Filter{Action: "enduser."})
		if err != nil || len(got) != 1 || got[0].Details["fields"] != "email,phoneNumber" || !got[0].Time.Equal(e1.Time) {
			t.Fatalf("ListAudit = %+v, %v", got, err)
		}
		res, err := s.Verify(t.Context())
		if err != nil || !res.OK() || res.Entries != 2 || res.Head.Hash != e2.Hash {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
	})
}

func TestAuditConcurrentAppendsFormOneChain(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		const n = 40
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := s.Audit(t.Context(), audit.Entry{Action: "test.append", TargetID: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		res, err := s.Verify(t.Context())
		if err != nil || !res.OK() || res.Entries != n {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
	})
}

func TestAuditRejectsUpdateAndDelete(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		if err := s.Audit(t.Context(), audit.Entry{Action: "x"}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`UPDATE audit_log SET outcome = 'forged'`, `DELETE FROM audit_log`} {
			if _, err := s.db.ExecContext(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want the append-only refusal", q, err)
			}
		}
		if s.dialect == Postgres {
			if _, err := s.db.ExecContext(t.Context(), `TRUNCATE audit_log`); err == nil {
				t.Error("TRUNCATE audit_log succeeded")
			}
		}
	})
}

func TestAuditFilterAndPaging(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		ctx := leadCtx(t)
		for i := range 7 {
			act := "erasure.requested"
			if i%2 == 1 {
				act = "enduser.updated"
			}
			s.Audit(ctx, audit.Entry{Action: act, TargetType: "enduser", TargetID: fmt.Sprint("u", i%3)})
		}
		page, _ := s.ListAudit(t.Context(), audit.Filter{Limit: 3})
		if len(page) != 3 || page[0].Seq != 7 {
			t.Fatalf("first page: %d entries, first seq %d", len(page), page[0].Seq)
		}
		next, _ := s.ListAudit(t.Context(), audit.Filter{Limit: 3, BeforeSeq: page[2].Seq})
		if len(next) != 3 || next[0].Seq != 4 {
			t.Fatalf("second page first seq = %d", next[0].Seq)
		}
		byTarget, _ := s.ListAudit(t.Context(), audit.Filter{TargetID: "u0", Action: "erasure.requested"})
		if len(byTarget) != 2 { // i = 0, 6
			t.Errorf("target+action filter: %d entries, want 2", len(byTarget))
		}
		none, _ := s.ListAudit(t.Context(), audit.Filter{From: time.Now().Add(time.Hour)})
		if len(none) != 0 {
			t.Errorf("future from: %d entries", len(none))
		}
		mine, _ := s.ListAudit(t.Context(), audit.Filter{Actor: "lead@example.com"})
		if len(mine) != 7 {
			t.Errorf("actor filter: %d", len(mine))
		}
	})
}

// TestAuditActorMatchesPart: the actor filter matches a case-insensitive
// part of the id or the name, and % and _ in it are plain characters.
func TestAuditActorMatchesPart(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		lea := leadCtx(t)
		odd := reqctx.WithIdentity(t.Context(), reqctx.Identity{ID: "x_y%z@example.com", Name: "Olli Odd", Role: role.Lead})
		s.Audit(lea, audit.Entry{Action: "enduser.updated"})
		s.Audit(odd, audit.Entry{Action: "enduser.updated"})
		for q, want := range map[string]int{"LEAD@": 1, "lea lead": 1, "example.com": 2, "olli": 1, "x_y%": 1, "%": 1, "_": 1, "a_d": 0, "nobody": 0} {
			got, err := s.ListAudit(t.Context(), audit.Filter{Actor: q})
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			if len(got) != want {
				t.Errorf("actor %q: %d entries, want %d", q, len(got), want)
			}
		}
	})
}

// tamper runs fn with the append-only triggers out of the way, as an
// attacker with write access to the database could.
func tamper(t *testing.T, s *Store, fn func(tx *sql.Tx) error) {
	t.Helper()
	ctx := t.Context()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var restore []string
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE audit_log DISABLE TRIGGER USER`); err != nil {
				return err
			}
			restore = []string{`ALTER TABLE audit_log ENABLE TRIGGER USER`}
		} else {
			rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'`)
			if err != nil {
				return err
			}
			var names []string
			for rows.Next() {
				var n, q string
				rows.Scan(&n, &q)
				names, restore = append(names, n), append(restore, q)
			}
			rows.Close()
			for _, n := range names {
				if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+n); err != nil {
					return err
				}
			}
		}
		if err := fn(tx); err != nil {
			return err
		}
		for _, q := range restore {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func mustExec(tx *sql.Tx, s *Store, q string, args ...any) error {
	_, err := tx.Exec(s.q(q), args...)
	return err
}

// TestVerifyDetectsTampering is a property test: over random logs and
// random mutations of each kind, Verify (with the head recorded before the
// mutation as an external anchor) always reports a problem, and never does
// for the untouched log.
func TestVerifyDetectsTampering(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store) {
		rng := rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano())))
		kinds := []string{"change", "delete-middle", "delete-last", "insert", "reorder", "rewrite-chain", "change-details", "change-hash"}
		trials := 48
		if testing.Short() {
			trials = 16
		}
		for trial := range trials {
			kind := kinds[trial%len(kinds)]
			tamper(t, s, func(tx *sql.Tx) error { return mustExec(tx, s, `DELETE FROM audit_log`) })
			n := 4 + rng.IntN(6)
			for i := range n {
				if err := s.Audit(leadCtx(t), audit.Entry{Action: "erasure.requested", TargetType: "erasure", TargetID: fmt.Sprint(i),
					Details: map[string]string{"reference": fmt.Sprint("DSAR-", i)}}); err != nil {
					t.Fatal(err)
				}
			}
			before, err := s.Verify(t.Context())
			if err != nil || !before.OK() {
				t.Fatalf("trial %d: clean log does not verify: %+v %v", trial, before, err)
			}
			anchor := before.Head
			k := int64(2 + rng.IntN(n-2)) // a middle entry: 2..n-1
			tamper(t, s, func(tx *sql.Tx) error {
				switch kind {
				case "change":
					col := []string{"actor_id", "actor_name", "action", "target_id", "outcome", "ts"}[rng.IntN(6)]
					return mustExec(tx, s, `UPDATE audit_log SET `+col+` = ? WHERE seq = ?`, "forged", k)
				case "change-details":
					return mustExec(tx, s, `UPDATE audit_log SET details = ? WHERE seq = ?`, `{"reference":"OTHER"}`, k)
				case "change-hash":
					return mustExec(tx, s, `UPDATE audit_log SET entry_hash = ? WHERE seq = ?`, strings.Repeat("a", 64), k)
				case "delete-middle":
					return mustExec(tx, s, `DELETE FROM audit_log WHERE seq = ?`, k)
				case "delete-last":
					return mustExec(tx, s, `DELETE FROM audit_log WHERE seq = ?`, int64(n))
				case "insert":
					// Make room at k and insert a well-formed entry there,
					// chained to its predecessor.
					if err := mustExec(tx, s, `UPDATE audit_log SET seq = -seq WHERE seq >= ?`, k); err != nil {
						return err
					}
					if err := mustExec(tx, s, `UPDATE audit_log SET seq = -seq + 1 WHERE seq < 0`); err != nil {
						return err
					}
					var prev string
					tx.QueryRow(s.q(`SELECT entry_hash FROM audit_log WHERE seq = ?`), k-1).Scan(&prev)
					e := audit.Entry{Seq: k, EventID: uuid.NewString(), Time: time.Now().UTC().Truncate(time.Microsecond), ActorID: "mallory", Action: "erasure.approved", Outcome: "ok"}
					return mustExec(tx, s, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, '', '', '', '', ?, '', '', ?, '', '{}', ?, ?)`,
						e.Seq, e.EventID, fmtTime(e.Time), e.ActorID, e.Action, string(e.Outcome), prev, audit.Hash(e, "{}", prev))
				case "reorder":
					if err := mustExec(tx, s, `UPDATE audit_log SET seq = 0 WHERE seq = ?`, k); err != nil {
						return err
					}
					if err := mustExec(tx, s, `UPDATE audit_log SET seq = ? WHERE seq = ?`, k, k-1); err != nil {
						return err
					}
					return mustExec(tx, s, `UPDATE audit_log SET seq = ? WHERE seq = 0`, k-1)
				case "rewrite-chain":
					// Change an entry and recompute every hash from there
					// on: only the external anchor can tell.
					rows, err := tx.Query(s.q(`SELECT ` + auditColumns + ` FROM audit_log ORDER BY seq`))
					if err != nil {
						return err
					}
					type row struct {
						e audit.Entry
						d string
					}
					var all []row
					for rows.Next() {
						e, d, err := scanAudit(rows)
						if err != nil {
							rows.Close()
							return err
						}
						all = append(all, row{e, d})
					}
					rows.Close()
					prev := audit.GenesisHash
					for _, r := range all {
						if r.e.Seq == k {
							r.e.ActorName = "someone else"
						}
						h := audit.Hash(r.e, r.d, prev)
						if err := mustExec(tx, s, `UPDATE audit_log SET actor_name = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?`, r.e.ActorName, prev, h, r.e.Seq); err != nil {
							return err
						}
						prev = h
					}
				}
				return nil
			})
			res, err := s.Verify(t.Context(), anchor)
			if err != nil {
				t.Fatalf("trial %d (%s): %v", trial, kind, err)
			}
			if res.OK() {
				t.Errorf("trial %d: %s of entry %d of %d not detected", trial, kind, k, n)
			}
			if kind != "delete-last" && kind != "rewrite-chain" {
				// Detected by the chain alone, without the anchor.
				if res, _ := s.Verify(t.Context()); res.OK() {
					t.Errorf("trial %d: %s not detected without an anchor", trial, kind)
				}
			}
		}
	})
}

// The untyped outcome names kept for older callers are the audit outcomes.
func TestOutcomeNamesMatchTheAuditDomain(t *testing.T) {
	for got, want := range map[string]audit.Outcome{OutcomeOK: audit.OutcomeOK, OutcomeDenied: audit.OutcomeDenied,
		OutcomeFailed: audit.OutcomeFailed, OutcomeBlocked: audit.OutcomeBlocked} {
		if got != string(want) {
			t.Errorf("store outcome %q, audit outcome %q", got, want)
		}
	}
}
