package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/role"
)

// The canonical form and the hash are what every stored chain was written
// with: changing either breaks the verification of existing logs. These
// values were computed by the code that wrote the first logs.
func TestHashIsStable(t *testing.T) {
	e := audit.Entry{Seq: 7, EventID: "0b8f7a52-4c1e-4a57-9d59-8e3c1a2b3c4d", Time: time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.UTC),
		ActorID: "lea@example.com", ActorName: "Lea <Lead>", ActorRole: "lead", ActorVia: "group support-leads", SessionHash: "0123456789abcdef",
		Action: "erasure.approved", TargetType: "erasure", TargetID: "r-1", Outcome: audit.OutcomeOK, CorrelationID: "req-9",
		Details: map[string]string{"reference": "DSAR-1", "a&b": "x<y"}}
	d := audit.EncodeDetails(e.Details)
	if want := `{"a\u0026b":"x\u003cy","reference":"DSAR-1"}`; d != want {
		t.Errorf("details text %s, want %s", d, want)
	}
	if got, want := audit.Hash(e, d, audit.GenesisHash), "f52a32fad68a3b74e9d6505b748b7fe15b8c3dfc932c31bb5d41b1be34f0af04"; got != want {
		t.Errorf("hash %s, want %s", got, want)
	}
	bare := audit.Entry{Seq: 1, Action: "x"}
	if got, want := audit.Hash(bare, audit.EncodeDetails(nil), audit.GenesisHash), "cce8ce2e781ffd31473bcbc7be13e164fdf7a5c4e8171f7218f9e113d01e8160"; got != want {
		t.Errorf("hash of a bare entry %s, want %s", got, want)
	}
}

// memChain is a log kept in memory, as storage keeps it.
type memChain struct {
	entries []audit.Entry
	details []string
	err     error
}

func (m *memChain) append(e audit.Entry) {
	var head audit.Head
	if n := len(m.entries); n > 0 {
		head = audit.Head{Seq: m.entries[n-1].Seq, Hash: m.entries[n-1].Hash}
	}
	e, d := audit.Seal(e, head)
	m.entries, m.details = append(m.entries, e), append(m.details, d)
}

func (m *memChain) EachAudit(_ context.Context, fn func(audit.Entry, string) error) error {
	for i, e := range m.entries {
		if err := fn(e, m.details[i]); err != nil {
			return err
		}
	}
	return m.err
}

func chainOf(n int) *memChain {
	m := &memChain{}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		m.append(audit.Entry{EventID: "e" + string(rune('a'+i)), Time: t0.Add(time.Duration(i) * time.Second), ActorID: "lea",
			Action: "enduser.updated", TargetType: "enduser", TargetID: "u1", Outcome: audit.OutcomeOK, Details: map[string]string{"fields": "email"}})
	}
	return m
}

func TestSealChains(t *testing.T) {
	m := chainOf(3)
	if m.entries[0].Seq != 1 || m.entries[0].PrevHash != audit.GenesisHash {
		t.Errorf("first entry: seq %d prev %s", m.entries[0].Seq, m.entries[0].PrevHash)
	}
	for i := 1; i < 3; i++ {
		if m.entries[i].Seq != int64(i+1) || m.entries[i].PrevHash != m.entries[i-1].Hash || len(m.entries[i].Hash) != 64 {
			t.Errorf("entry %d: seq %d prev %s", i, m.entries[i].Seq, m.entries[i].PrevHash)
		}
	}
}

func TestVerify(t *testing.T) {
	ctx := t.Context()
	m := chainOf(5)
	res, err := audit.Verify(ctx, m)
	if err != nil || !res.OK() || res.Entries != 5 || res.Head.Seq != 5 || res.Head.Hash != m.entries[4].Hash {
		t.Fatalf("clean chain: %+v %v", res, err)
	}
	anchor := res.Head

	for _, tc := range []struct {
		name   string
		mutate func(m *memChain)
		want   string
		anchor bool // detected only with the anchor
	}{
		{"changed entry", func(m *memChain) { m.entries[2].ActorName = "mallory" }, "entry 3: content does not match its hash", false},
		{"changed details", func(m *memChain) { m.details[2] = `{"fields":"phone"}` }, "entry 3: content does not match its hash", false},
		{"deleted entry", func(m *memChain) {
			m.entries, m.details = append(m.entries[:2:2], m.entries[3:]...), append(m.details[:2:2], m.details[3:]...)
		}, "entry 4: expected sequence number 3", false},
		{"reordered", func(m *memChain) { m.entries[1], m.entries[2] = m.entries[2], m.entries[1] }, "entry 3: expected sequence number 2", false},
		{"cut off the end", func(m *memChain) { m.entries, m.details = m.entries[:4], m.details[:4] }, "anchor 5: entry no longer exists", true},
		{"rewritten chain", func(m *memChain) {
			old := m.entries
			m.entries, m.details = nil, nil
			for _, e := range old {
				e.ActorName = "someone else"
				m.append(e)
			}
		}, "anchor 5: hash differs", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := chainOf(5)
			tc.mutate(m)
			res, err := audit.Verify(ctx, m, anchor)
			if err != nil || res.OK() || !strings.HasPrefix(res.Problems[0], tc.want) {
				t.Errorf("with the anchor: %v %v, want a problem starting %q", res.Problems, err, tc.want)
			}
			res, _ = audit.Verify(ctx, m)
			if res.OK() != tc.anchor {
				t.Errorf("without the anchor: OK %v, problems %v", res.OK(), res.Problems)
			}
		})
	}

	m = chainOf(2)
	m.err = errors.New("disk on fire")
	if _, err := audit.Verify(ctx, m); err == nil {
		t.Error("a read error was not returned")
	}
}

func TestHead(t *testing.T) {
	h := audit.Head{Seq: 42, Hash: strings.Repeat("ab", 32)}
	got, err := audit.ParseHead(" " + h.String() + "\n")
	if err != nil || got != h {
		t.Errorf("ParseHead(String()) = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "42", "x:" + h.Hash, "42:abc"} {
		if _, err := audit.ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) accepted", bad)
		}
	}
}

func TestComplete(t *testing.T) {
	ctx := reqctx.WithIdentity(t.Context(), reqctx.Identity{ID: "lea@example.com", Name: "Lea", Role: role.Lead, Via: "group support-leads", SessionID: "sess-1"})
	ctx = reqctx.WithRequestID(ctx, "req-1")
	e, err := audit.Complete(ctx, audit.Entry{Action: "enduser.updated"})
	if err != nil {
		t.Fatal(err)
	}
	if e.ActorID != "lea@example.com" || e.ActorName != "Lea" || e.ActorRole != "lead" || e.ActorVia != "group support-leads" ||
		e.CorrelationID != "req-1" || e.Outcome != audit.OutcomeOK || e.EventID == "" {
		t.Errorf("not filled from the context: %+v", e)
	}
	if e.SessionHash != audit.HashSession("sess-1") || len(e.SessionHash) != 16 || strings.Contains(e.SessionHash, "sess") {
		t.Errorf("session hash %q", e.SessionHash)
	}
	// An actor given explicitly is kept; nobody signed in is "anonymous".
	if e, _ := audit.Complete(ctx, audit.Entry{Action: "x", ActorID: "job-runner", Outcome: audit.OutcomeFailed}); e.ActorID != "job-runner" || e.ActorRole != "" || e.Outcome != audit.OutcomeFailed {
		t.Errorf("explicit actor: %+v", e)
	}
	if e, _ := audit.Complete(t.Context(), audit.Entry{Action: "x"}); e.ActorID != "anonymous" {
		t.Errorf("nobody signed in: actor %q", e.ActorID)
	}
	if _, err := audit.Complete(ctx, audit.Entry{}); !errors.Is(err, audit.ErrNoAction) {
		t.Errorf("entry without action: %v", err)
	}
}

type recorder struct {
	got []audit.Entry
	err error
}

func (r *recorder) Audit(_ context.Context, e audit.Entry) error {
	r.got = append(r.got, e)
	return r.err
}

func TestRecord(t *testing.T) {
	if err := audit.Record(t.Context(), nil, "x", "", "", "", nil); err != nil {
		t.Errorf("nil recorder: %v", err)
	}
	r := &recorder{}
	audit.Record(t.Context(), r, "enduser.updated", "enduser", "u1", audit.OutcomeBlocked, map[string]string{"fields": "email"})
	if len(r.got) != 1 || r.got[0].Action != "enduser.updated" || r.got[0].TargetID != "u1" || r.got[0].Outcome != audit.OutcomeBlocked || r.got[0].Details["fields"] != "email" {
		t.Errorf("recorded %+v", r.got)
	}
	r.err = errors.New("database gone")
	if err := audit.Record(t.Context(), r, "x", "", "", "", nil); !errors.Is(err, r.err) {
		t.Errorf("a failed write was not returned: %v", err)
	}
}

func TestQueryFilter(t *testing.T) {
	f, err := audit.Query{Actor: "lea", Action: "erasure.", Target: "r1", From: "2026-03-01", To: "2026-03-02"}.Filter()
	if err != nil {
		t.Fatal(err)
	}
	if f.Actor != "lea" || f.TargetID != "r1" || !f.From.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) ||
		!f.To.Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("filter %+v: want the 'to' day included", f)
	}
	for _, q := range []audit.Query{{From: "1 March"}, {To: "2026-13-01"}, {Actor: strings.Repeat("a", audit.MaxQueryText+1)}} {
		if _, err := q.Filter(); apperr.CodeOf(err) != apperr.Invalid || apperr.Message(err, "") == "" {
			t.Errorf("%+v: %v, want an Invalid error with a message", q, err)
		}
	}
}

func TestActionPrefix(t *testing.T) {
	for _, tc := range []struct {
		action, prefix string
		ok             bool
	}{
		{"erasure.", "erasure.", true},
		{"erasure*", "erasure", true},
		{"erasure.approved", "", false},
		{"", "", false},
	} {
		if p, ok := (audit.Filter{Action: tc.action}).ActionPrefix(); p != tc.prefix || ok != tc.ok {
			t.Errorf("ActionPrefix(%q) = %q, %v; want %q, %v", tc.action, p, ok, tc.prefix, tc.ok)
		}
	}
}
