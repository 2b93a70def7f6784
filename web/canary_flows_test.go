package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// echoTransport plays a buggy upstream (or proxy) that echoes the request
// into every error: the Authorization header and the URL go into the JSON
// message, next to Dixa's own fields, and into a response header.
type echoTransport struct{ base http.RoundTripper }

func (e echoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := e.base.RoundTrip(r)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := map[string]any{}
	json.Unmarshal(b, &m)
	echo := "request was " + r.Method + " " + r.URL.String() + " with Authorization: " + r.Header.Get("Authorization")
	if msg, ok := m["message"].(string); ok {
		m["message"] = msg + " (" + echo + ")"
	} else {
		m["message"] = echo
	}
	out, _ := json.Marshal(m)
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	resp.Header.Set("X-Echo-Authorization", r.Header.Get("Authorization"))
	return resp, nil
}

// The API key never leaks, through the flows the route walk of
// TestCanaryKeyNeverLeaks does not reach (its ids are placeholders, its
// forms incomplete): an erasure really submitted and polled, an import
// really run, an export streamed, an edit refused by Dixa — with an
// upstream that echoes the key in every 400/401/409/500 answer. The key
// reaches no browser and no log.
func TestCanaryKeyNeverLeaksInFlows(t *testing.T) {
	env := webtest.New(t, webtest.Options{
		Sim:    dixasim.Options{Users: 30},
		Config: func(c *web.Config) { c.PersonRate, c.PersonBurst = 1000, 1000; c.ErasureApproval = "single" },
		Client: []apiclient.Option{apiclient.WithHTTPClient(&http.Client{Transport: echoTransport{http.DefaultTransport}}), apiclient.WithBreaker(1000, time.Millisecond)},
	})
	lead := env.Login(t, "lead")
	var all strings.Builder
	scan := func(what string, resp *http.Response, body string) {
		t.Helper()
		all.WriteString(body)
		for k, vs := range resp.Header {
			all.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		if strings.Contains(body, webtest.Key) || strings.Contains(all.String(), webtest.Key) {
			t.Errorf("%s: the key reached the browser", what)
		}
	}
	get := func(p string, hdr ...string) string {
		t.Helper()
		resp, body := env.Get(t, lead, p, hdr...)
		scan("GET "+p, resp, body)
		return body
	}
	post := func(p string, form url.Values) *http.Response {
		t.Helper()
		resp, body := env.PostForm(t, lead, p, form)
		scan("POST "+p, resp, body)
		return resp
	}

	// Erasures: submission refused with 400, 401, 500, one blocked by open
	// conversations (409) and one accepted, whose polls then fail; then the
	// pages.
	var rids []string
	for _, tc := range []struct {
		user   string
		status int
	}{
		{dixasim.DemoMinimalUserID, 500},
		{dixasim.DemoAnonymizedUserID, 400},
		{dixasim.DemoJSAvatarUserID, 401},
		{dixasim.DemoOpenConversationUserID, 0},
		{dixasim.DemoQuotesRTLUserID, 0},
	} {
		u, err := env.API.GetEndUser(t.Context(), tc.user)
		if err != nil {
			t.Fatal(err)
		}
		confirm := u.Email
		if confirm == "" {
			confirm = u.ID
		}
		if tc.status != 0 {
			env.Sim.FailNext("PATCH /endusers/{userId}/anonymize", 3, tc.status)
		}
		resp := post("/endusers/"+tc.user+"/erasure", url.Values{"reference": {"DSAR-1"}, "reason": {"Art. 17"},
			"receivedAt": {time.Now().Format("2006-01-02")}, "confirm": {confirm}})
		env.Sim.ResetFaults()
		if loc := resp.Header.Get("Location"); strings.Contains(loc, "/erasures/") {
			rids = append(rids, loc[strings.LastIndex(loc, "/")+1:])
		}
	}
	if len(rids) == 0 {
		t.Fatal("no erasure was requested: the flow proves nothing")
	}
	// A few poller passes against the echoing upstream: every poll of the
	// accepted request fails with 500.
	const pollRoute = "GET /anonymization/request/{requestId}"
	env.Sim.SetErrorRate(pollRoute, 1, 500)
	polled := env.Sim.Stats().Routes[pollRoute].Requests
	for deadline := time.Now().Add(10 * time.Second); env.Sim.Stats().Routes[pollRoute].Requests < polled+3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the poller asked Dixa about the accepted erasure %d times in 10 s, want 3", env.Sim.Stats().Routes[pollRoute].Requests-polled)
		}
	}
	env.Sim.ResetFaults()
	get("/erasures")
	for _, rid := range rids {
		for _, p := range []string{"/erasures/" + rid, "/erasures/" + rid + "/receipt", "/erasures/" + rid + "/receipt.json"} {
			get(p)
			get(p, "HX-Request", "true")
		}
	}

	// An import whose bulk requests fail (500, then 400, then 401).
	file := "displayName,email\nAnn,canary-ann@example.com\nBob,canary-bob@example.com\nCy,canary-cy@example.com\n"
	resp, body := imUpload(t, env, lead, "canary.csv", []byte(file), "mode", "create", "batchSize", "1")
	scan("POST /imports", resp, body)
	job := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
	if !strings.HasPrefix(job, "/imports/") {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	imWaitState(t, env, lead, job, "ready")
	env.Sim.FailNext("POST /endusers/bulk", 1, 400)
	env.Sim.FailNext("POST /endusers", 1, 400)
	post(job+"/start", nil)
	imWaitState(t, env, lead, job, "done", "failed", "paused")
	env.Sim.ResetFaults()
	for _, p := range []string{job, job + "/results.csv", job + "/problems.csv", "/imports"} {
		get(p)
	}

	// Exports failing part-way, plain and with the custom attributes.
	for _, st := range []int{400, 401, 500} {
		env.Sim.FailNext(dixasim.AllRoutes, 5, st)
		get("/endusers/export.csv")
		get("/endusers/export.csv?attrs=1&confirm=1")
		env.Sim.ResetFaults()
	}

	// An edit Dixa refuses (its reason is shown next to the field).
	uid := dixasim.DemoBusyUserID
	_, page := env.Get(t, lead, "/endusers/"+uid+"/edit")
	v := euFormValues(t, page, "#profile-form")
	v.Set("displayName", "Canary Changed")
	for _, st := range []int{400, 401, 500} {
		env.Sim.FailNext("PATCH /endusers/{userId}", 1, st)
		post("/endusers/"+uid, v)
		env.Sim.ResetFaults()
		_, page = env.Get(t, lead, "/endusers/"+uid+"/edit")
		v = euFormValues(t, page, "#profile-form")
		v.Set("displayName", "Canary Changed")
	}

	logs := env.Logs.String()
	if strings.Contains(logs, webtest.Key) {
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, webtest.Key) {
				t.Errorf("the key is in the log: %.300s", l)
				break
			}
		}
	}
	if !strings.Contains(logs+all.String(), "[REDACTED]") {
		t.Error("no echoed key was ever seen (and redacted): the test proves nothing")
	}
}
