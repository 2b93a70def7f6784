package importjob

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
)

func TestImportCreateDryRunAndMixedOutcomes(t *testing.T) {
	env := newSimEnv(t, envOpts{})
	st := NewMemStore()
	// An existing customer the dry run must find.
	if _, err := env.api.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{Email: "mix3@example.com", DisplayName: "Already here"}); err != nil {
		t.Fatal(err)
	}
	j := prepare(t, st, ModeCreate, csvRows("mix", 10), 4)
	if j.State != StateChecking || j.CheckMethod != CheckLookups || j.CheckCost != 30 {
		t.Fatalf("after upload: state %s, check %s cost %d; want checking, lookups, 30", j.State, j.CheckMethod, j.CheckCost)
	}
	before := len(env.sim.Requests())
	rn := fastRunner(st, env.api)
	j = runUntil(t, rn, st, j.ID, 10*time.Second, StateReady)
	if j.Invalid != 1 || j.Problems[KindExists] != 1 {
		t.Fatalf("dry run: invalid %d, problems %v; want the existing customer found", j.Invalid, j.Problems)
	}
	for _, r := range env.sim.Requests()[before:] {
		if r.Method != http.MethodGet {
			t.Errorf("dry run sent %s %s; want reads only", r.Method, r.Path)
		}
	}
	// Someone creates a customer with row 7's phone after the dry run: the
	// bulk answer then mixes successes and a failure.
	if _, err := env.api.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{PhoneNumber: "+4531000005", DisplayName: "Sneaked in"}); err != nil {
		t.Fatal(err)
	}
	start(t, st, j.ID)
	j = runUntil(t, rn, st, j.ID, 10*time.Second, StateDone)
	if j.OK != 8 || j.Failed != 1 || j.Remaining() != 0 {
		t.Errorf("ok %d failed %d remaining %d; want 8, 1, 0", j.OK, j.Failed, j.Remaining())
	}
	var b strings.Builder
	if err := WriteResults(t.Context(), st, j, &b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 11 || lines[0] != "row,outcome,id,error" {
		t.Fatalf("results.csv:\n%s", b.String())
	}
	for i, l := range lines[1:] {
		f := strings.SplitN(l, ",", 4)
		if f[0] != itoa(i+2) {
			t.Errorf("line %d is row %s; want input order", i+1, f[0])
		}
		switch i + 2 {
		case 5: // mix3: exists
			if f[1] != "skipped" || !strings.Contains(f[3], "already in Dixa") {
				t.Errorf("row 5 = %q", l)
			}
		case 7: // mix5: phone taken meanwhile
			if f[1] != "failed" || !strings.Contains(f[3], "phone number already exists") {
				t.Errorf("row 7 = %q", l)
			}
		default:
			if f[1] != "created" || len(f[2]) != 36 {
				t.Errorf("row %d = %q", i+2, l)
			}
		}
	}
}

func TestImport429Storm(t *testing.T) {
	env := newSimEnv(t, envOpts{})
	st := NewMemStore()
	const n = 200
	j := prepare(t, st, ModeCreate, csvRows("storm", n), 20)
	// Skip the dry run's lookups: not what this test is about.
	st.SetState(t.Context(), j.ID, []string{StateChecking}, StateReady)
	start(t, st, j.ID)
	env.sim.Storm429(1500*time.Millisecond, false)
	rn := fastRunner(st, env.api)
	j = runUntil(t, rn, st, j.ID, 30*time.Second, StateDone)
	if j.OK != n || j.Failed != 0 {
		t.Errorf("ok %d failed %d; want %d, 0", j.OK, j.Failed, n)
	}
	if s := env.sim.Stats(); s.Total.TooManyRequests == 0 {
		t.Errorf("the storm produced no 429s")
	}
	checkExactlyOnce(t, env.sim, "storm", n)
}

// TestImportRestartMidJob stops the runner (as a shutdown would) while a
// batch is on the wire, and starts a new runner on the same store.
func TestImportRestartMidJob(t *testing.T) {
	env := newSimEnv(t, envOpts{})
	env.sim.SetLatency("POST /endusers/bulk", 30*time.Millisecond, 30*time.Millisecond)
	st := NewMemStore()
	const n = 300
	j := prepare(t, st, ModeCreate, csvRows("restart", n), 10)
	st.SetState(t.Context(), j.ID, []string{StateChecking}, StateReady)
	start(t, st, j.ID)

	for round := 0; round < 3; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		rn := fastRunner(st, env.api)
		done := make(chan struct{})
		go func() { rn.Run(ctx); close(done) }()
		// Stop it in the middle of a request.
		for {
			cur, _ := st.Job(t.Context(), j.ID)
			if cur.OK >= (round+1)*n/4 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(15 * time.Millisecond)
		cancel()
		<-done
	}
	cur, _ := st.Job(t.Context(), j.ID)
	if cur.State != StateRunning || cur.OK >= n {
		t.Fatalf("after the restarts: state %s ok %d; want running, unfinished", cur.State, cur.OK)
	}
	j = runUntil(t, fastRunner(st, env.api), st, j.ID, 30*time.Second, StateDone)
	if j.OK != n || j.Failed != 0 {
		t.Errorf("ok %d failed %d; want %d, 0", j.OK, j.Failed, n)
	}
	if j.Rechecked == 0 {
		t.Errorf("no row was re-checked: the restarts never hit a batch in flight")
	}
	checkExactlyOnce(t, env.sim, "restart", n)
}

// TestImportUnknownOutcome: Dixa applies a batch but the answer is lost
// (504), and another batch is lost before it reaches Dixa. The first is
// found by the re-check and not resent; the second is resent.
func TestImportUnknownOutcome(t *testing.T) {
	var bulkCalls atomic.Int32
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/endusers/bulk") {
				switch bulkCalls.Add(1) {
				case 2: // applied, answer lost
					next.ServeHTTP(discard{}, r)
					w.WriteHeader(http.StatusGatewayTimeout)
					io.WriteString(w, `{"message":"Endpoint request timed out"}`)
					return
				case 4: // lost on the way
					w.WriteHeader(http.StatusBadGateway)
					io.WriteString(w, `{"message":"Bad gateway"}`)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	env := newSimEnv(t, envOpts{wrap: wrap})
	st := NewMemStore()
	const n = 50
	j := prepare(t, st, ModeCreate, csvRows("unknown", n), 10)
	st.SetState(t.Context(), j.ID, []string{StateChecking}, StateReady)
	start(t, st, j.ID)
	j = runUntil(t, fastRunner(st, env.api), st, j.ID, 20*time.Second, StateDone)
	if j.OK != n || j.Failed != 0 {
		t.Errorf("ok %d failed %d; want %d, 0", j.OK, j.Failed, n)
	}
	if j.Rechecked != 20 {
		t.Errorf("rechecked %d rows; want 20 (two batches of 10)", j.Rechecked)
	}
	if got := bulkCalls.Load(); got != 6 {
		t.Errorf("bulk requests = %d; want 6 (5 batches + the lost one resent)", got)
	}
	checkExactlyOnce(t, env.sim, "unknown", n)
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func TestImportUpdateByEmailPauseCancel(t *testing.T) {
	env := newSimEnv(t, envOpts{})
	st := NewMemStore()
	// Create the customers first, then update them by email.
	j := prepare(t, st, ModeCreate, csvRows("upd", 30), 10)
	st.SetState(t.Context(), j.ID, []string{StateChecking}, StateReady)
	start(t, st, j.ID)
	rn := fastRunner(st, env.api)
	runUntil(t, rn, st, j.ID, 10*time.Second, StateDone)

	var b strings.Builder
	b.WriteString("email,lastName,firstName\n")
	for i := range 30 {
		b.WriteString("upd" + itoa(i) + "@example.com,Changed" + itoa(i) + ",\n")
	}
	b.WriteString("nobody@example.com,X,\n")
	u := prepare(t, st, ModeUpdate, b.String(), 5)
	if u.MatchBy != MatchEmail {
		t.Fatalf("match by %q, want email", u.MatchBy)
	}
	u = runUntil(t, rn, st, u.ID, 10*time.Second, StateReady)
	if u.Problems[KindNotFound] != 1 {
		t.Errorf("problems %v; want one not found", u.Problems)
	}
	env.sim.SetLatency("PATCH /endusers", 20*time.Millisecond, 20*time.Millisecond)
	start(t, st, u.ID)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rn.Run(ctx); close(done) }()
	for {
		cur, _ := st.Job(t.Context(), u.ID)
		if cur.OK >= 10 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if _, err := st.SetState(t.Context(), u.ID, []string{StateRunning}, StatePaused); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	paused, _ := st.Job(t.Context(), u.ID)
	time.Sleep(100 * time.Millisecond)
	still, _ := st.Job(t.Context(), u.ID)
	if still.OK != paused.OK || still.OK >= 30 {
		t.Errorf("paused job went on: %d then %d", paused.OK, still.OK)
	}
	st.SetState(t.Context(), u.ID, []string{StatePaused}, StateCancelled)
	cancel()
	<-done
	final, _ := st.Job(t.Context(), u.ID)
	var res strings.Builder
	WriteResults(t.Context(), st, final, &res)
	if !strings.Contains(res.String(), "cancelled before this row was sent") || !strings.Contains(res.String(), ",updated,") {
		t.Errorf("results.csv of a cancelled job:\n%s", res.String())
	}
	// PATCH semantics: firstName (empty cell) kept, lastName changed.
	id, _ := env.sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email == "upd0@example.com" })
	got, _ := env.api.GetEndUser(t.Context(), id)
	if got.FirstName != "First0" || got.LastName != "Changed0" {
		t.Errorf("upd0 = %q %q; want First0 Changed0", got.FirstName, got.LastName)
	}
}

// TestImportLoad imports 10,000 rows against the simulator with Dixa's
// rate limit (10/s, burst 4) on both sides. It takes about 10 s at batch
// size 100:
//
//	IMPORT_LOAD=1 go test -run TestImportLoad -v ./handlers/bulk/
func TestImportLoad(t *testing.T) {
	if os.Getenv("IMPORT_LOAD") == "" {
		t.Skip("set IMPORT_LOAD=1 to run the 10,000-row load test")
	}
	n, batch := 10000, 100
	env := newSimEnv(t, envOpts{simRPS: 10, clientRPS: 10, burst: 4})
	st := NewMemStore()
	j := prepare(t, st, ModeCreate, csvRows("load", n), batch)
	st.SetState(t.Context(), j.ID, []string{StateChecking}, StateReady)
	env.sim.ResetStats()
	start(t, st, j.ID)
	t0 := time.Now()
	j = runUntil(t, fastRunner(st, env.api), st, j.ID, 5*time.Minute, StateDone)
	took := time.Since(t0)
	floor := time.Duration(float64(n) / float64(batch) / 10 * float64(time.Second))
	s := env.sim.Stats()
	dups, lost := checkExactlyOnce(t, env.sim, "load", n)
	t.Logf("rows %d, batch %d: %s (floor %s, +%.1f%%); requests %d, 429s %d, max/s %d; ok %d failed %d; duplicates %d, lost %d",
		n, batch, took.Round(time.Millisecond), floor, (took.Seconds()/floor.Seconds()-1)*100,
		s.Total.Requests, s.Total.TooManyRequests, s.Total.MaxPerSecond, j.OK, j.Failed, dups, lost)
	if j.OK != n {
		t.Errorf("ok %d; want %d", j.OK, n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestImportScanAndAttributes: a file with more identifiers than the lookup
// threshold is checked by reading the customer list once; custom attribute
// columns are set after the rows are created (one request per row).
func TestImportScanAndAttributes(t *testing.T) {
	env := newSimEnv(t, envOpts{users: 150})
	defs, err := env.api.ListCustomAttributeDefinitions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var text *apiclient.CustomAttributeDefinition
	for i, d := range defs {
		if d.EntityType == apiclient.EntityContact && d.InputDefinition.Type == apiclient.InputText && !d.IsArchived && !d.IsDeactivated {
			text = &defs[i]
			break
		}
	}
	if text == nil {
		t.Skip("the simulator seeds no Contact text attribute")
	}
	taken, _ := env.sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email != "" })
	tu, _ := env.api.GetEndUser(t.Context(), taken)
	file := "email,firstName,attr." + text.Identifier + "\n" +
		"scan1@example.com,A,gold\nscan2@example.com,B,\n" + tu.Email + ",C,silver\n"
	st := NewMemStore()
	j, err := Prepare(t.Context(), st, Upload{File: strings.NewReader(file), Mode: ModeCreate, Region: "DK", Limit: 1 << 20,
		LookupThreshold: 2, Definitions: env.api.ListCustomAttributeDefinitions})
	if err != nil {
		t.Fatal(err)
	}
	if j.CheckMethod != CheckScan || j.AttrRows != 2 {
		t.Fatalf("check %q attrRows %d; want scan, 2", j.CheckMethod, j.AttrRows)
	}
	rn := fastRunner(st, env.api)
	j = runUntil(t, rn, st, j.ID, 10*time.Second, StateReady)
	if j.Problems[KindExists] != 1 || j.CheckDone != 2 || j.AttrRows != 1 {
		t.Fatalf("scan: problems %v, requests %d, attrRows %d; want 1 exists, 2 pages, 1", j.Problems, j.CheckDone, j.AttrRows)
	}
	start(t, st, j.ID)
	j = runUntil(t, rn, st, j.ID, 10*time.Second, StateDone)
	if j.OK != 2 {
		t.Fatalf("ok %d, want 2", j.OK)
	}
	id, _ := env.sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email == "scan1@example.com" })
	u, _ := env.api.GetEndUser(t.Context(), id)
	got := ""
	for _, a := range u.CustomAttributes {
		if a.ID == text.ID {
			got = a.Value.Text
		}
	}
	if got != "gold" {
		t.Errorf("attribute %s = %q, want gold", text.Identifier, got)
	}
	if rows := allRows(t, st, j.ID); rows[0].AttrsPending || rows[0].Error != "" {
		t.Errorf("row 2 = %+v", rows[0])
	}
}
