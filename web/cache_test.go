package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// profileGets counts the upstream GETs of one person's user record and
// conversations since the mark.
func profileGets(env *webtest.Env, since int, id string) int {
	n := 0
	for _, r := range env.Sim.Requests()[since:] {
		if r.Method == http.MethodGet && strings.Contains(r.Path, id) {
			n++
		}
	}
	return n
}

func TestCacheProfileSharedAndReloadFresh(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	ann, bob := env.Login(t, "viewer"), env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)
	since := len(env.Sim.Requests())
	for _, c := range []*http.Client{ann, bob, ann} {
		if resp, body := env.Get(t, c, "/endusers/"+id); resp.StatusCode != http.StatusOK {
			t.Fatalf("profile: %d\n%s", resp.StatusCode, body)
		}
	}
	if n := profileGets(env, since, id); n != 2 {
		t.Errorf("three views of one profile made %d upstream reads, want 2 (the user and the conversations, once)", n)
	}
	for _, h := range [][]string{{"Cache-Control", "no-cache"}, {"Cache-Control", "max-age=0"}} {
		since = len(env.Sim.Requests())
		env.Get(t, bob, "/endusers/"+id, h...)
		if n := profileGets(env, since, id); n != 2 {
			t.Errorf("a reload (%s: %s) made %d upstream reads, want 2", h[0], h[1], n)
		}
	}
	since = len(env.Sim.Requests())
	env.Get(t, bob, "/endusers/"+id+"?fresh=1")
	if n := profileGets(env, since, id); n != 2 {
		t.Errorf("a refresh link made %d upstream reads, want 2", n)
	}
}

func TestCacheEditShownAtOnce(t *testing.T) {
	env := euEnv(t, webtest.Options{})
	c := env.Login(t, "agent")
	id, _ := euPhoneUser(t, env)
	u, _ := env.API.GetEndUser(t.Context(), id)
	env.Get(t, c, "/endusers/"+id)
	env.Get(t, c, "/endusers?q="+u.Email)
	form := euEditForm(t, env, c, id)
	form.Set("displayName", "Renamed Person")
	if resp, body := env.PostForm(t, c, "/endusers/"+id, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	if _, body := env.Get(t, c, "/endusers/"+id); !strings.Contains(body, "Renamed Person") {
		t.Error("the profile after a save shows the cached data")
	}
	if _, body := env.Get(t, c, "/endusers?q="+u.Email); !strings.Contains(body, "Renamed Person") {
		t.Error("a search after a save shows the cached data")
	}
}

func TestStaleProfileWhenDixaBusy(t *testing.T) {
	clk := webtest.NewClock()
	env := euEnv(t, webtest.Options{
		Now:    clk.Now,
		Client: []apiclient.Option{apiclient.WithRetries(0), apiclient.WithMaxWait(50 * time.Millisecond)},
		Config: func(c *web.Config) { c.CacheTTL, c.StaleMax = 15*time.Second, 5*time.Minute },
	})
	c := env.Login(t, "viewer")
	id, _ := euPhoneUser(t, env)
	name := func() string {
		u, _ := env.API.GetEndUser(t.Context(), id)
		return u.DisplayName
	}()
	if resp, _ := env.Get(t, c, "/endusers/"+id); resp.StatusCode != http.StatusOK {
		t.Fatalf("profile: %d", resp.StatusCode)
	}
	clk.Advance(40 * time.Second)
	env.Sim.Storm429(time.Minute, true)
	resp, body := env.Get(t, c, "/endusers/"+id)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, name) {
		t.Fatalf("status %d; want the held profile\n%s", resp.StatusCode, body)
	}
	doc := euDoc(t, body)
	notice := doc.Find(`[data-testid="stale-notice"]`)
	if notice.Length() != 1 || notice.AttrOr("role", "") != "status" || notice.AttrOr("aria-live", "") != "polite" {
		t.Fatalf("no status notice:\n%s", body)
	}
	if !strings.Contains(notice.Text(), "Dixa is busy — shown as of 40 s ago") {
		t.Errorf("notice %q", notice.Text())
	}
	if notice.Find(`[hx-trigger="load delay:3s"]`).Length() != 1 {
		t.Error("the notice does not refresh itself")
	}

	t.Run("a reload gets no held data", func(t *testing.T) {
		resp, body := env.Get(t, c, "/endusers/"+id, "Cache-Control", "no-cache")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if euDoc(t, body).Find(`[data-testid="auto-retry"] [hx-trigger]`).Length() != 1 {
			t.Errorf("the 503 page does not try again by itself:\n%s", body)
		}
	})
	t.Run("too old for the stale window", func(t *testing.T) {
		clk.Advance(5 * time.Minute)
		resp, _ := env.Get(t, c, "/endusers/"+id)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 503", resp.StatusCode)
		}
	})
}
