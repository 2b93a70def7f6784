package importjob

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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
	for _, r := range allRows(t, st, j.ID) {
		if !r.Item.IsZero() {
			t.Errorf("row %d of the done job keeps its payload %+v", r.Num, r.Item)
		}
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
	skipCheck(t, st, j.ID)
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

// bulkGate holds a bulk request after hold(): it reaches the
// simulator first when apply is set (Dixa applied it), or never (lost on
// the way), and then is kept waiting until the client gives up, as a
// request is when the console shuts down in the middle of it.
type bulkGate struct {
	mu      sync.Mutex
	armed   bool
	skip    int // bulk requests to let through before the one held
	apply   bool
	entered chan struct{}
	stop    chan struct{} // closed when the test ends
}

func newBulkGate() *bulkGate { return &bulkGate{stop: make(chan struct{})} }

// hold holds the bulk request after the next skip ones.
func (g *bulkGate) hold(skip int, apply bool) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.skip, g.apply, g.entered = true, skip, apply, make(chan struct{})
	return g.entered
}

func (g *bulkGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		held := g.armed && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/endusers/bulk")
		if held && g.skip > 0 {
			g.skip, held = g.skip-1, false
		}
		apply, entered := g.apply, g.entered
		if held {
			g.armed = false
		}
		g.mu.Unlock()
		if !held {
			next.ServeHTTP(w, r)
			return
		}
		if apply {
			next.ServeHTTP(discard{}, r)
		}
		io.Copy(io.Discard, r.Body) // so that the server notices the client going away
		close(entered)
		select {
		case <-r.Context().Done():
		case <-g.stop:
		}
	})
}

// TestImportRestartMidJob stops the runner (as a shutdown would) three
// times while a batch is on the wire, once after Dixa applied it and twice
// before it reached Dixa, and starts a new runner on the same store each
// time: every row exists exactly once.
func TestImportRestartMidJob(t *testing.T) {
	gate := newBulkGate()
	env := newSimEnv(t, envOpts{wrap: gate.wrap})
	t.Cleanup(func() { close(gate.stop) }) // before the server closes
	st := NewMemStore()
	const n = 300
	j := prepare(t, st, ModeCreate, csvRows("restart", n), 10)
	skipCheck(t, st, j.ID)
	start(t, st, j.ID)

	for round := 0; round < 3; round++ {
		// Each runner gets 7 batches through; the 8th is on the wire when
		// it stops.
		entered := gate.hold(7, round == 1)
		ctx, cancel := context.WithCancel(context.Background())
		rn := fastRunner(st, env.api)
		done := make(chan struct{})
		go func() { rn.Run(ctx); close(done) }()
		select {
		case <-entered:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: no bulk request reached the gate", round)
		}
		cancel() // in the middle of the request
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
	if j.Rechecked != 30 {
		t.Errorf("rechecked %d rows; want 30 (the three batches on the wire)", j.Rechecked)
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
	skipCheck(t, st, j.ID)
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

// TestImportUpdateByEmailPauseCancel runs in a synctest bubble: after the
// pause, time moves on only once the runner and the simulator are blocked,
// so "the runner did not go on" is shown by seconds of (fake) time in which
// it could have.
func TestImportUpdateByEmailPauseCancel(t *testing.T) {
	synctest.Test(t, testImportUpdateByEmailPauseCancel)
}

func testImportUpdateByEmailPauseCancel(t *testing.T) {
	env := newMemEnv(t, -1)
	st := NewMemStore()
	// Create the customers first, then update them by email.
	j := prepare(t, st, ModeCreate, csvRows("upd", 30), 10)
	skipCheck(t, st, j.ID)
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
	waitFor(t, st, u.ID, 10*time.Second, "10 rows updated", func(c Job) bool { return c.OK >= 10 })
	if _, err := Pause(t.Context(), st, u.ID); err != nil {
		t.Fatal(err)
	}
	// The request in progress may still finish; after that, nothing.
	time.Sleep(time.Second)
	synctest.Wait()
	paused, _ := st.Job(t.Context(), u.ID)
	patches := countRequests(env, http.MethodPatch)
	time.Sleep(time.Minute)
	synctest.Wait()
	still, _ := st.Job(t.Context(), u.ID)
	if still.OK != paused.OK || still.OK >= 30 || countRequests(env, http.MethodPatch) != patches {
		t.Errorf("paused job went on: ok %d then %d, PATCH requests %d then %d", paused.OK, still.OK, patches, countRequests(env, http.MethodPatch))
	}
	// A row keeps its payload only until it has its outcome.
	for _, r := range allRows(t, st, u.ID) {
		if r.Item.IsZero() != r.Finished() {
			t.Errorf("paused job's row %d (outcome %q, problem %q) has payload %+v; want one only while it is to be sent", r.Num, r.Outcome, r.Problem, r.Item)
		}
	}
	if _, err := Cancel(t.Context(), st, u.ID); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	final, _ := st.Job(t.Context(), u.ID)
	var res strings.Builder
	WriteResults(t.Context(), st, final, &res)
	if !strings.Contains(res.String(), "cancelled before this row was sent") || !strings.Contains(res.String(), ",updated,") {
		t.Errorf("results.csv of a cancelled job:\n%s", res.String())
	}
	for _, r := range allRows(t, st, u.ID) {
		if !r.Item.IsZero() {
			t.Errorf("row %d of the cancelled job keeps its payload %+v", r.Num, r.Item)
		}
	}
	// PATCH semantics: firstName (empty cell) kept, lastName changed.
	id, _ := env.sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email == "upd0@example.com" })
	got, _ := env.api.GetEndUser(t.Context(), id)
	if got.FirstName != "First0" || got.LastName != "Changed0" {
		t.Errorf("upd0 = %q %q; want First0 Changed0", got.FirstName, got.LastName)
	}
}

// countRequests counts the simulator's requests with method.
func countRequests(env *simEnv, method string) int {
	n := 0
	for _, r := range env.sim.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// TestImportLoad imports 10,000 rows against the simulator with Dixa's
// rate limit (10/s, burst 4) on both sides. It takes about 10 s at batch
// size 100:
//
//	IMPORT_LOAD=1 go test -run TestImportLoad -v ./web/importjob/
func TestImportLoad(t *testing.T) {
	if os.Getenv("IMPORT_LOAD") == "" {
		t.Skip("set IMPORT_LOAD=1 to run the 10,000-row load test")
	}
	n, batch := 10000, 100
	env := newSimEnv(t, envOpts{simRPS: 10, clientRPS: 10, burst: 4})
	st := NewMemStore()
	j := prepare(t, st, ModeCreate, csvRows("load", n), batch)
	skipCheck(t, st, j.ID)
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
		t.Fatal("the simulator seeds no active Contact text attribute; its seed is deterministic, so it lost one")
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

// claimingStore is a MemStore on which another replica's runner tries to
// claim every job while the upload is still storing rows.
type claimingStore struct {
	*MemStore
	claimed []State
}

func (s *claimingStore) AddRows(ctx context.Context, jobID string, rows []Row) error {
	if j, ok, _ := s.Claim(ctx, "other-replica", []State{StateChecking, StateRunning}, time.Minute); ok {
		s.claimed = append(s.claimed, j.State)
	}
	return s.MemStore.AddRows(ctx, jobID, rows)
}

// TestPrepareKeepsRunnersAwayUntilRowsAreStored: a job is not claimable
// before its rows and counts are stored; a runner that checked it then
// would save a job with no rows over the upload's counts.
func TestPrepareKeepsRunnersAwayUntilRowsAreStored(t *testing.T) {
	st := &claimingStore{MemStore: NewMemStore()}
	j, err := Prepare(t.Context(), st, Upload{File: strings.NewReader(csvRows("claim", 3*storeChunk)), Mode: ModeCreate, Region: "DK", Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.claimed) > 0 {
		t.Fatalf("a runner claimed the job while it was being read (%v)", st.claimed)
	}
	if j.State != StateChecking || j.Total != 3*storeChunk {
		t.Fatalf("job %s with %d rows, want checking with %d", j.State, j.Total, 3*storeChunk)
	}
	if got, ok, _ := st.Claim(t.Context(), "other-replica", []State{StateChecking}, time.Minute); !ok || got.ID != j.ID {
		t.Fatal("the prepared job cannot be claimed")
	}
}
