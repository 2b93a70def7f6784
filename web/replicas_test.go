package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// Three consoles on one PostgreSQL schema and one simulator with Dixa's
// limit on, as three replicas behind a load balancer. Each replica has its
// own limiter of 3 requests a second (9 together, under Dixa's 10), so
// that these tests do not depend on the shared one.
func replicas(t *testing.T) []*webtest.Env {
	t.Helper()
	dbURL := webtest.PostgresSchema(t)
	// People poll job pages faster than the per-person budget allows.
	roomy := func(c *web.Config) { c.PersonRate, c.PersonBurst = 1000, 1000 }
	return webtest.NewReplicas(t, 3, dbURL, webtest.Options{Sim: dixasim.Options{Users: 60, RateLimit: 10}, Config: roomy},
		func(int) []apiclient.Option {
			return []apiclient.Option{apiclient.WithLimiter(apiclient.NewLimiter(3, 3))}
		})
}

// TestReplicaSharedBudgetManyPeople: 60 people, each signed in on their
// own and spread over three replicas that share Dixa's budget through
// PostgreSQL (10 a second, bursts of 4), open 60 customers' profiles at
// once. Dixa answers no 429 and receives at most 10 requests in any second
// plus the burst; every page is shown or refused with 503 and Retry-After
// (a person waits at most UPSTREAM_QUEUE_MAX for a slot).
func TestReplicaSharedBudgetManyPeople(t *testing.T) {
	const people = 60
	dbURL := webtest.PostgresSchema(t)
	cfg := func(c *web.Config) {
		c.UpstreamRPS, c.UpstreamBurst = 10, 4
		c.UpstreamQueueMax = 2 * time.Second // the server's default
	}
	rs := webtest.NewReplicas(t, 3, dbURL, webtest.Options{Sim: dixasim.Options{Users: people, RateLimit: 10, Burst: 4}, Config: cfg}, nil)
	seen := map[string]bool{}
	ids := make([]string, people)
	for i := range ids {
		id, ok := rs[0].Sim.AnyUserID(func(u apiclient.EndUser) bool { return !seen[u.ID] })
		if !ok {
			t.Fatalf("the simulator has only %d customers", i)
		}
		seen[id], ids[i] = true, id
	}
	clients := make([]*http.Client, people)
	for i := range clients {
		clients[i] = rs[i%3].Login(t, "agent")
	}
	rs[0].Sim.ResetStats()

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	type page struct {
		code       int
		retryAfter string
		err        error
	}
	pages := make([]page, people)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range people {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, rs[i%3].URL+"/endusers/"+ids[i], nil)
			if err != nil {
				pages[i].err = err
				return
			}
			resp, err := clients[i].Do(req)
			if err != nil {
				pages[i].err = err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			pages[i] = page{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
		})
	}
	wg.Wait()
	took := time.Since(start)

	shown, refused := 0, 0
	for i, p := range pages {
		switch {
		case p.err != nil:
			t.Errorf("person %d (replica %d): %v", i, i%3, p.err)
		case p.code == http.StatusOK:
			shown++
		case p.code == http.StatusServiceUnavailable && p.retryAfter != "":
			refused++
		default:
			t.Errorf("person %d (replica %d): %d (Retry-After %q), want 200 or 503 with Retry-After", i, i%3, p.code, p.retryAfter)
		}
	}
	st := rs[0].Sim.Stats()
	byReplica := map[string]int{}
	for _, r := range rs[0].Sim.Requests() {
		byReplica[r.Header.Get(webtest.ReplicaHeader)]++
	}
	t.Logf("%d pages in %v: %d shown, %d refused with 503; Dixa saw %d requests (by replica %v), %d answered 429, at most %d in one second",
		people, took.Round(time.Millisecond), shown, refused, st.Total.Requests, byReplica, st.Total.TooManyRequests, st.Total.MaxPerSecond)
	if st.Total.TooManyRequests != 0 {
		t.Errorf("Dixa answered %d requests with 429, want 0", st.Total.TooManyRequests)
	}
	if st.Total.MaxPerSecond > 10+4 {
		t.Errorf("%d requests arrived at Dixa within one second, want at most 10 + burst 4", st.Total.MaxPerSecond)
	}
	if shown == 0 {
		t.Error("no profile was shown")
	}
}

// rpPost posts a form to a replica as a browser would; safe in goroutines
// (no t.Fatal).
func rpPost(ctx context.Context, env *webtest.Env, c *http.Client, path string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", env.Origin())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// rpUpstream counts the simulator's recorded requests with method whose
// path matches re.
func rpUpstream(env *webtest.Env, method string, re *regexp.Regexp) []dixasim.RecordedRequest {
	var out []dixasim.RecordedRequest
	for _, r := range env.Sim.Requests() {
		if r.Method == method && re.MatchString(r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// TestReplicaSessionSharedAndRevoked: a session made on one replica works
// on the others (cookies do not tell ports apart: one browser, three
// replicas behind one name), and signing out on one revokes it on all,
// also for a cookie kept from before.
func TestReplicaSessionSharedAndRevoked(t *testing.T) {
	rs := replicas(t)
	c := rs[0].Login(t, "agent")
	for i, r := range rs {
		if resp, _ := r.Get(t, c, "/endusers"); resp.StatusCode != http.StatusOK {
			t.Fatalf("replica %d: signed-in GET /endusers = %d", i, resp.StatusCode)
		}
	}
	u, _ := url.Parse(rs[0].URL)
	kept := c.Jar.Cookies(u)
	if len(kept) == 0 {
		t.Fatal("no session cookie")
	}
	if resp, err := rpPost(t.Context(), rs[1], c, "/logout", nil); err != nil || resp.StatusCode >= 400 {
		t.Fatalf("logout on replica 1: %v %v", resp, err)
	}
	stale := rs[0].Client()
	stale.Jar.SetCookies(u, kept)
	for i, r := range rs {
		if resp, _ := r.Get(t, stale, "/endusers"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/login") {
			t.Errorf("replica %d: the revoked session's cookie gives %d %q, want a redirect to sign in", i, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestReplicaEditPostedTwiceWritesOnce: the same edit form (one form
// token) posted to the replicas at once, twice to each, sends one PATCH;
// every answer sends the person to the saved profile.
func TestReplicaEditPostedTwiceWritesOnce(t *testing.T) {
	rs := replicas(t)
	c := rs[0].Login(t, "agent")
	id, _ := euPhoneUser(t, rs[0])
	form := euEditForm(t, rs[0], c, id)
	if form.Get("formToken") == "" {
		t.Fatal("edit form has no token")
	}
	form.Set("firstName", "Replicated")
	since := len(rs[0].Sim.Requests())
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Go(func() {
			resp, err := rpPost(t.Context(), rs[i%3], c, "/endusers/"+id, form)
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	if n := len(euPatchBodies(rs[0], since)); n != 1 {
		t.Errorf("%d PATCHes reached Dixa, want 1", n)
	}
	for i, code := range codes {
		if code != http.StatusSeeOther {
			t.Errorf("post %d (replica %d): %d, want 303", i, i%3, code)
		}
	}
}

// TestReplicaErasureApprovedTwiceAnonymizesOnce: two leads approving one
// erasure on two replicas at once cause one anonymize call.
func TestReplicaErasureApprovedTwiceAnonymizesOnce(t *testing.T) {
	rs := replicas(t)
	id, _ := rs[0].Sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email != "" })
	u, err := rs[0].API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	requester := rs[0].Login(t, "lead")
	resp, body := rs[0].PostForm(t, requester, "/endusers/"+id+"/erasure", url.Values{"reference": {"DSAR-REPLICAS"},
		"reason": {"Art. 17(1)(a) GDPR"}, "receivedAt": {time.Now().Format("2006-01-02")}, "confirm": {u.Email}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("request: %d\n%s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	rid := loc[strings.LastIndex(loc, "/")+1:]
	leads := []*http.Client{rs[1].Login(t, "lead"), rs[2].Login(t, "lead")}
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Go(func() {
			resp, err := rpPost(t.Context(), rs[i+1], leads[i], "/erasures/"+rid+"/approve", url.Values{"comment": {"ok"}, "confirmReference": {"DSAR-REPLICAS"}})
			if err != nil {
				t.Error(err)
				return
			}
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	anon := regexp.MustCompile(`^/v1/endusers/[^/]+/anonymize$`)
	if n := len(rpUpstream(rs[0], http.MethodPatch, anon)); n != 1 {
		t.Errorf("%d anonymize calls reached Dixa, want 1", n)
	}
	if (codes[0] == http.StatusSeeOther) == (codes[1] == http.StatusSeeOther) {
		t.Errorf("approvals answered %v, want one 303 (and the other refused)", codes)
	}

	// One replica's tracker (the lease holder) follows the erasure.
	status := regexp.MustCompile(`^/v1/anonymization/request/`)
	var polls []dixasim.RecordedRequest
	for deadline := time.Now().Add(15 * time.Second); len(polls) < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the tracker polled %d times, want 3", len(polls))
		}
		polls = rpUpstream(rs[0], http.MethodGet, status)
	}
	by := map[string]int{}
	for _, p := range polls {
		by[p.Header.Get(webtest.ReplicaHeader)]++
	}
	if len(by) != 1 {
		t.Errorf("polls by replica %v, want all from one", by)
	}
}

// TestReplicaImportSurvivesAKilledReplica: the replica working on an
// import is killed mid-job (its database connections first: it records
// nothing more and gives back no lease); another replica takes the job
// over once the lease expires and finishes it, every row sent once.
func TestReplicaImportSurvivesAKilledReplica(t *testing.T) {
	rs := replicas(t)
	lead := rs[0].Login(t, "lead")
	const rows = 12
	var file strings.Builder
	file.WriteString("E-mail;First name;Last name\n")
	for i := range rows {
		fmt.Fprintf(&file, "replica-import-%d@example.com;Row;N%d\n", i, i)
	}
	jobPath := rpUpload(t, rs[0], lead, file.String())
	rpWaitState(t, rs[0], lead, jobPath, 60*time.Second, "ready")
	if resp, body := rs[0].PostForm(t, lead, jobPath+"/start", url.Values{"batchSize": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		_, page := rs[0].Get(t, lead, jobPath)
		t.Fatalf("start: %d\n%s\njob page:\n%s", resp.StatusCode, body, page)
	}
	created := regexp.MustCompile(`^/v1/endusers(/bulk)?$`)
	var victim = -1
	for deadline := time.Now().Add(30 * time.Second); victim < 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no row was sent")
		}
		if sent := rpUpstream(rs[0], http.MethodPost, created); len(sent) >= 3 {
			fmt.Sscan(sent[len(sent)-1].Header.Get(webtest.ReplicaHeader), &victim)
		}
	}
	rs[victim].Kill()
	survivor := rs[(victim+1)%3]
	rpWaitState(t, survivor, lead, jobPath, 90*time.Second, "done")

	sent := map[string]int{}
	takenOver := false
	for _, r := range rpUpstream(survivor, http.MethodPost, created) {
		takenOver = takenOver || r.Header.Get(webtest.ReplicaHeader) != fmt.Sprint(victim)
		for _, m := range regexp.MustCompile(`replica-import-\d+@example\.com`).FindAllString(string(r.Body), -1) {
			sent[m]++
		}
	}
	if !takenOver {
		t.Error("no row was sent by another replica: the killed one had finished")
	}
	for i := range rows {
		email := fmt.Sprintf("replica-import-%d@example.com", i)
		if sent[email] != 1 {
			t.Errorf("%s sent %d times, want once", email, sent[email])
		}
		page, err := survivor.API.ListEndUsers(t.Context(), apiclient.ListOptions{Email: email})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Errorf("%s exists %d times in Dixa, want once", email, len(page.Items))
		}
	}
}

// rpUpload posts a CSV to /imports (create mode) and returns the job's path.
func rpUpload(t *testing.T, env *webtest.Env, c *http.Client, file string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("mode", "create")
	fw, _ := mw.CreateFormFile("file", "people.csv")
	fw.Write([]byte(file))
	mw.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, env.URL+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", env.Origin())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, b := env.Do(t, c, req)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, b)
	}
	return strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
}

// rpWaitState polls the job page until its data-state is one of states.
func rpWaitState(t *testing.T, env *webtest.Env, c *http.Client, path string, within time.Duration, states ...string) {
	t.Helper()
	re := regexp.MustCompile(`data-testid="import-job"[^>]*data-state="([a-z]+)"|data-state="([a-z]+)"[^>]*data-testid="import-job"`)
	last := ""
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, body := env.Get(t, c, path, "HX-Request", "true")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if m := re.FindStringSubmatch(body); m != nil {
			last = m[1] + m[2]
			for _, s := range states {
				if last == s {
					return
				}
			}
		}
	}
	t.Fatalf("job still %q after %v, want %v", last, within, states)
}
