package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/webtest"
)

// postRaw posts body as a same-origin browser would; chunked hides the
// length (Transfer-Encoding: chunked), so only reading the body finds out
// that it is too large.
func postRaw(t *testing.T, env *webtest.Env, c *http.Client, path, body string, chunked bool) (*http.Response, string) {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // a reader of unknown length
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, env.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if chunked && req.ContentLength != 0 {
		t.Fatal("the request still announces its length")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", env.Origin())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return env.Do(t, c, req)
}

// Request size limits: every POST whose body is over the limit gets 413
// and nothing happens — no upstream call, no state change, no session —
// whether the size is announced (refused before any handler) or found out
// while reading (the form is never acted on half read). An overlong field
// inside the limit is a 422 next to the field, again without a write.
func TestOversizedPostsRefused(t *testing.T) {
	env := webtest.New(t, webtest.Options{Config: func(c *web.Config) { c.PersonRate, c.PersonBurst = 1000, 1000 }})
	requester := env.Login(t, "lead")
	lead := env.Login(t, "lead")
	form := url.Values{"reference": {"DSAR-413"}, "reason": {"Art. 17(1)(a) GDPR"}, "receivedAt": {time.Now().Format("2006-01-02")}, "confirm": {dixasim.DemoMinimalUserID}}
	resp, _ := env.PostForm(t, requester, "/endusers/"+dixasim.DemoMinimalUserID+"/erasure", form)
	loc := resp.Header.Get("Location")
	rid := loc[strings.LastIndex(loc, "/")+1:]
	if resp.StatusCode != http.StatusSeeOther || len(rid) != 36 {
		t.Fatalf("request erasure: %d %q", resp.StatusCode, loc)
	}
	uid := dixasim.DemoBusyUserID
	huge := "displayName=" + strings.Repeat("A", 1<<20+10) + "&formVersion=1&reference=x&reason=x&comment=x&name=Eve&role=lead"

	before := simCalls(env)
	sessions := env.Server.Sessions()
	for _, rt := range env.Server.Routes() {
		if rt.Method != http.MethodPost || strings.HasSuffix(rt.Pattern, "/*") || strings.HasSuffix(rt.Pattern, "/imports") {
			continue // the import upload has its own, larger limit (TestImportUploadRefusals)
		}
		p := strings.NewReplacer("{rid}", rid).Replace(strings.TrimPrefix(rt.Pattern, env.Cfg.BasePath))
		p = fillPattern(env, p)
		resp, body := postRaw(t, env, lead, p, huge, false)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s (%d bytes): %d, want 413", p, len(huge), resp.StatusCode)
		} else if doc(t, body).Find("[data-status='413']").Length() != 1 {
			t.Errorf("POST %s: no 413 page", p)
		}
	}

	// Chunked: the forms that are read. The approval is the one that
	// used to go through with the comment silently dropped.
	for _, p := range []string{
		"/login",
		"/endusers",
		"/endusers/" + uid,
		"/endusers/" + uid + "/custom-attributes",
		"/endusers/" + uid + "/erasure",
		"/erasures/" + rid + "/approve",
		"/erasures/" + rid + "/reject",
		"/erasures/" + rid + "/extend",
	} {
		resp, _ := postRaw(t, env, lead, p, huge, true)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s (chunked, %d bytes): %d, want 413", p, len(huge), resp.StatusCode)
		}
	}
	if n := simCalls(env) - before; n != 0 {
		t.Errorf("oversized posts caused %d upstream calls", n)
	}
	if env.Server.Sessions() != sessions {
		t.Error("an oversized post changed the sessions")
	}
	if e, err := env.Store.GetErasure(t.Context(), rid); err != nil || e.State != erasure.Requested || !e.ExtendedAt.IsZero() {
		t.Errorf("erasure after oversized posts: %s, extended %v, %v", e.State, e.ExtendedAt, err)
	}

	// Inside the limit, a field far over its own length: 422 at the field.
	since := len(env.Sim.Requests())
	agent := env.Login(t, "agent")
	_, page := env.Get(t, agent, "/endusers/"+uid+"/edit")
	v := euFormValues(t, page, "#profile-form")
	v.Set("displayName", strings.Repeat("A", 900<<10))
	resp, body := env.PostForm(t, agent, "/endusers/"+uid, v)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Use at most") {
		t.Errorf("overlong displayName: %d, want 422 with the limit", resp.StatusCode)
	}
	if w := euUpstream(env, since, http.MethodPatch); len(w) != 0 {
		t.Errorf("overlong displayName was sent upstream: %d PATCH", len(w))
	}
}
