package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web/importjob"
	"github.com/example/dixa-console/web/webtest"
)

// The import of the test: killRows new customers sent one a request; the
// killHoldAt-th create request reaches Dixa, which creates the customer,
// but its answer never comes back: the replica sending it is killed with
// SIGKILL while it waits.
const (
	killRows   = 10
	killHoldAt = 3
	killKey    = "kill-test-dixa-key-3c5e7a9b1d"
	killSecret = "kill-test-proxy-secret-8f2d4b6a"
	// killTag is added by each replica's way to the simulator to every
	// request, so the simulator's record tells the replicas apart.
	killTag = "X-Test-Replica"
)

var killEmail = regexp.MustCompile(`kill-import-\d+@example\.com`)

// TestImportSurvivesASIGKILLedReplica: two console processes (the real
// binary) on one PostgreSQL database and one Dixa simulator. A lead's
// create import runs with one row a request; the process sending it is
// killed with SIGKILL while Dixa has applied a create whose answer the
// process never got. It leaves its lease and a batch in flight behind.
// The other process takes the job over once the lease has expired, looks
// the unanswered row up instead of sending it again, and finishes the job:
// every row reaches Dixa exactly once, and the results name the customers
// Dixa holds.
func TestImportSurvivesASIGKILLedReplica(t *testing.T) {
	began := time.Now()
	dbURL := webtest.PostgresSchema(t)
	bin := buildConsole(t)
	built := time.Since(began)
	up := newKillUpstream(t, 2)

	sessionKey := make([]byte, 32)
	rand.Read(sessionKey)
	cs := make([]*consoleProc, 2)
	for i := range cs {
		cs[i] = startConsoleProc(t, bin, map[string]string{
			"LISTEN_ADDR":       "127.0.0.1:0",
			"DIXA_API_URL":      up.fronts[i],
			"DIXA_API_KEY":      killKey,
			"AUTH_MODE":         "header",
			"AUTH_PROXY_SECRET": killSecret,
			"SESSION_KEYS":      hex.EncodeToString(sessionKey),
			"DATABASE_URL":      dbURL,
			"DATA_DIR":          t.TempDir(),
			"UPSTREAM_RPS":      "50",
			"UPSTREAM_BURST":    "10",
			"LOG_LEVEL":         "info",
		})
	}
	for _, c := range cs {
		c.waitListening(t, 30*time.Second)
	}
	started := time.Since(began)

	// The lead works on process 0 (the sign-on proxy's headers sign
	// every request in).
	a := cs[0]
	var file strings.Builder
	file.WriteString("E-mail;First name;Last name\n")
	for i := range killRows {
		fmt.Fprintf(&file, "kill-import-%d@example.com;Row;N%d\n", i, i)
	}
	jobPath := a.upload(t, file.String())
	a.waitJob(t, jobPath, 30*time.Second, "ready")
	if resp, body := a.lead(t, http.MethodPost, jobPath+"/start", url.Values{"batchSize": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d\n%s", resp.StatusCode, body)
	}

	// Normally process 0, which the start woke; the other one only if it
	// claimed the job first on its own poll.
	var held heldCreate
	select {
	case held = <-up.held:
	case <-time.After(30 * time.Second):
		t.Fatalf("the import sent fewer than %d create requests within 30s", killHoldAt)
	}
	victim, survivor := cs[held.replica], cs[1-held.replica]
	killedAt := victim.kill(t)
	t.Logf("replica %d killed (SIGKILL) with row %s in flight, %d rows answered before it",
		held.replica, killEmail.FindString(string(held.body)), killHoldAt-1)

	survivor.waitJob(t, jobPath, 45*time.Second, "done")
	finished := time.Since(killedAt)

	took := checkTakeover(t, up.sim.Requests(), held, 1-held.replica)
	ids := checkCreatedOnce(t, up)
	checkResults(t, survivor, jobPath, ids)
	t.Logf("build %v, start of both replicas %v; SIGKILL %v after the held request, takeover %v after it (lease %v); done %v after the kill, %v in all",
		built.Round(time.Millisecond), (started - built).Round(time.Millisecond), killedAt.Sub(held.at).Round(time.Microsecond),
		took.Round(time.Millisecond), importjob.DefaultLeaseTTL, finished.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// checkTakeover checks what each replica sent: the killed one the rows up
// to the held one, the survivor the rest after a look-up of the held row,
// and that the survivor's first step on the job came once the lease had
// expired (not before, not much after). It returns the time from the held
// request to that step.
func checkTakeover(t *testing.T, reqs []dixasim.RecordedRequest, held heldCreate, survivor int) time.Duration {
	t.Helper()
	heldEmail := killEmail.FindString(string(held.body))
	var first time.Time
	lookedUp, creates := false, map[int]int{}
	for _, r := range reqs {
		who, err := strconv.Atoi(r.Header.Get(killTag))
		if err != nil {
			continue
		}
		q, _ := url.ParseQuery(r.RawQuery)
		isCreate := r.Method == http.MethodPost && r.Path == "/v1/endusers/bulk"
		isLookup := r.Method == http.MethodGet && r.Path == "/v1/endusers" && killEmail.MatchString(q.Get("email"))
		if isCreate {
			creates[who]++
		}
		if who != survivor || !r.Time.After(held.at) || !(isCreate || isLookup) {
			continue
		}
		if first.IsZero() {
			first = r.Time
		}
		lookedUp = lookedUp || (isLookup && q.Get("email") == heldEmail)
	}
	if creates[held.replica] != killHoldAt {
		t.Errorf("the killed replica sent %d create requests, want %d (the held one last)", creates[held.replica], killHoldAt)
	}
	if creates[survivor] != killRows-killHoldAt {
		t.Errorf("the surviving replica sent %d create requests, want the %d rows after the held one", creates[survivor], killRows-killHoldAt)
	}
	if !lookedUp {
		t.Errorf("the surviving replica did not look %s up in Dixa before going on", heldEmail)
	}
	if first.IsZero() {
		t.Fatal("the surviving replica sent nothing for the job after the kill")
	}
	took := first.Sub(held.at)
	// The killed replica renewed its lease just before sending the held
	// row; its heartbeat renews a third of a lease at most before that.
	// The other replica looks for claimable jobs every 2s.
	lo, hi := importjob.DefaultLeaseTTL-importjob.DefaultLeaseTTL/3, importjob.DefaultLeaseTTL+2*time.Second+4*time.Second
	if took < lo || took > hi {
		t.Errorf("the surviving replica took the job over %v after the held request, want between %v and %v (lease %v)", took, lo, hi, importjob.DefaultLeaseTTL)
	}
	return took
}

// checkCreatedOnce checks that every row's customer was sent in one create
// request and exists once in Dixa; it returns their Dixa ids by email.
func checkCreatedOnce(t *testing.T, up *killUpstream) map[string]string {
	t.Helper()
	sent := map[string]int{}
	for _, r := range up.sim.Requests() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/v1/endusers") {
			for _, m := range killEmail.FindAllString(string(r.Body), -1) {
				sent[m]++
			}
		}
	}
	api, err := apiclient.New(up.direct, apiclient.WithAPIKey(killKey))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for i := range killRows {
		email := fmt.Sprintf("kill-import-%d@example.com", i)
		if sent[email] != 1 {
			t.Errorf("%s was sent to Dixa %d times, want once", email, sent[email])
		}
		page, err := api.ListEndUsers(t.Context(), apiclient.ListOptions{Email: email})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Errorf("%s exists %d times in Dixa, want once", email, len(page.Items))
			continue
		}
		ids[email] = page.Items[0].ID
	}
	return ids
}

// checkResults checks the job's results: every row created, with the id
// of a customer the import made, each id once.
func checkResults(t *testing.T, c *consoleProc, jobPath string, ids map[string]string) {
	t.Helper()
	resp, body := c.lead(t, http.MethodGet, jobPath+"/results.csv", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("results.csv: %d\n%s", resp.StatusCode, body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != killRows+1 {
		t.Fatalf("results.csv: %d records (%v), want a header and %d rows:\n%s", len(recs), err, killRows, body)
	}
	want := make([]string, 0, len(ids))
	for _, id := range ids {
		want = append(want, id)
	}
	var got []string
	for _, rec := range recs[1:] {
		if len(rec) < 3 || rec[1] != importjob.OutcomeCreated {
			t.Errorf("results.csv row %q, want created", rec)
			continue
		}
		got = append(got, rec[2])
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("results.csv names the customers %v, Dixa holds %v", got, want)
	}
}

// buildConsole builds this command into a temporary directory.
func buildConsole(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "console")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// killUpstream is one Dixa simulator that each replica reaches at its own
// address (fronts[i]), which tags its requests with killTag; direct is
// the simulator without a tag, for the test's own reads. The killHoldAt-th
// create request, from whichever replica, is applied by the simulator but
// never answered: it is announced on held and kept open until the sender
// goes away.
type killUpstream struct {
	sim     *dixasim.Sim
	fronts  []string
	direct  string
	creates atomic.Int32
	held    chan heldCreate
	release chan struct{}
}

type heldCreate struct {
	replica int
	at      time.Time
	body    []byte
}

func newKillUpstream(t *testing.T, replicas int) *killUpstream {
	t.Helper()
	up := &killUpstream{
		sim:     dixasim.New(dixasim.Options{APIKey: killKey, Users: -1}),
		held:    make(chan heldCreate, 1),
		release: make(chan struct{}),
	}
	direct := httptest.NewServer(up.sim)
	t.Cleanup(direct.Close)
	up.direct = direct.URL
	for i := range replicas {
		front := httptest.NewServer(up.front(i))
		t.Cleanup(front.Close)
		up.fronts = append(up.fronts, front.URL)
	}
	// Runs before the servers close, which waits for the held request.
	t.Cleanup(func() { close(up.release) })
	return up
}

func (up *killUpstream) front(replica int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set(killTag, strconv.Itoa(replica))
		if r.Method != http.MethodPost || r.URL.Path != "/v1/endusers/bulk" || up.creates.Add(1) != killHoldAt {
			up.sim.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		up.sim.ServeHTTP(httptest.NewRecorder(), r) // Dixa creates the customer…
		up.held <- heldCreate{replica: replica, at: time.Now(), body: body}
		select { // …but the answer never leaves
		case <-r.Context().Done():
		case <-up.release:
		}
	})
}

// dieWithTest makes a child process end with the test process where the
// system allows it (Linux: kill_linux_test.go), so that a test binary
// ended at its timeout, which runs no cleanup, leaves no console running.
var dieWithTest = func(*exec.Cmd) {}

// consoleProc is a console process started from the built binary.
type consoleProc struct {
	cmd            *exec.Cmd
	url            string // http://host:port, no trailing slash
	stdout, stderr *syncBuffer
	exited         chan struct{}
	waitErr        error
}

// startConsoleProc starts the console with only env as its environment;
// it is killed when the test ends, and its output is logged if the test
// failed.
func startConsoleProc(t *testing.T, bin string, env map[string]string) *consoleProc {
	t.Helper()
	c := &consoleProc{cmd: exec.Command(bin), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		c.cmd.Env = append(c.cmd.Env, "TMPDIR="+tmp)
	}
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	dieWithTest(c.cmd)
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start the console: %v", err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("console process %d did not end within 10s of SIGKILL", c.cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("console process %d (%s), its log without the access lines:\n%s", c.cmd.Process.Pid, c.url, logTail(c.stderr.String(), 60))
		}
	})
	return c
}

// logTail returns the last n lines of a console's log that are not
// access log lines.
func logTail(log string, n int) string {
	var keep []string
	for line := range strings.Lines(log) {
		if !strings.Contains(line, "msg=request ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep[max(0, len(keep)-n):], "")
}

// waitListening waits for the line that says where the console listens.
func (c *consoleProc) waitListening(t *testing.T, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		if _, rest, ok := strings.Cut(c.stdout.String(), "listening on "); ok {
			c.url = strings.TrimSuffix(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]), "/")
			return
		}
		select {
		case <-c.exited:
			t.Fatalf("the console exited at start-up (%v):\n%s", c.waitErr, c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console did not listen within %v:\n%s", within, c.stderr.String())
		}
	}
}

// kill sends SIGKILL and waits until the process is gone; it returns
// when it was sent.
func (c *consoleProc) kill(t *testing.T) time.Time {
	t.Helper()
	at := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed console is still running after 10s")
	}
	if c.waitErr == nil || !strings.Contains(c.waitErr.Error(), "killed") {
		t.Fatalf("the console ended with %v, want killed by SIGKILL", c.waitErr)
	}
	return at
}

// lead sends a request as the sign-on proxy would for a team lead, from
// the console's own origin; form, when not nil, is posted.
func (c *consoleProc) lead(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return c.do(t, req)
}

func (c *consoleProc) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	req.Header.Set("X-Forwarded-Email", "lea.lead@example.com")
	req.Header.Set("X-Forwarded-User", "Lea Lead")
	req.Header.Set("X-Forwarded-Groups", "support-leads")
	req.Header.Set("X-Proxy-Secret", killSecret)
	req.Header.Set("Origin", c.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	client := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return resp, string(b)
}

// upload posts file as a create import and returns the job's path.
func (c *consoleProc) upload(t *testing.T, file string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("mode", "create")
	fw, _ := mw.CreateFormFile("file", "people.csv")
	fw.Write([]byte(file))
	mw.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.url+"/imports", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, b := c.do(t, req)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/imports/") {
		t.Fatalf("upload: %d %q\n%s", resp.StatusCode, loc, b)
	}
	return loc
}

var killJobState = regexp.MustCompile(`data-testid="import-job"[^>]*data-state="([a-z]+)"|data-state="([a-z]+)"[^>]*data-testid="import-job"`)

// waitJob polls the job's page until its state is want; a job that
// failed, was cancelled or paused ends the wait at once.
func (c *consoleProc) waitJob(t *testing.T, path string, within time.Duration, want string) {
	t.Helper()
	last := ""
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		resp, body := c.lead(t, http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		if m := killJobState.FindStringSubmatch(body); m != nil {
			last = m[1] + m[2]
		}
		switch last {
		case want:
			return
		case "failed", "cancelled", "paused":
			t.Fatalf("job %s, want %s:\n%s", last, want, body)
		}
	}
	t.Fatalf("job still %q after %v, want %s", last, within, want)
}
