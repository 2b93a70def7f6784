package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// userReads counts the upstream reads of one person's record that replica
// i sent.
func userReads(env *webtest.Env, i int, id string) int {
	n := 0
	for _, r := range env.Sim.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/endusers/"+id) && r.Header.Get(webtest.ReplicaHeader) == strconv.Itoa(i) {
			n++
		}
	}
	return n
}

// TestReplicaWriteNeverFollowedByStaleRead: three replicas on one
// PostgreSQL. Replicas B and C hold a customer's profile (and C a search
// that finds them) in their caches; an agent saves the edit form on A; the
// very next read of the profile on B and C, and of the search on C, shows
// the new name: every round, with nothing waited for. The invalidation
// events between replicas arrive when they arrive; what makes this hold is
// the write count A records before its answer, which B and C check.
func TestReplicaWriteNeverFollowedByStaleRead(t *testing.T) {
	dbURL := webtest.PostgresSchema(t)
	roomy := func(c *web.Config) { c.PersonRate, c.PersonBurst = 1000, 1000 }
	rs := webtest.NewReplicas(t, 3, dbURL, webtest.Options{Sim: dixasim.Options{Users: 20}, Config: roomy}, nil)
	a, b, c := rs[0], rs[1], rs[2]
	agent := a.Login(t, "agent")
	id, _ := euPhoneUser(t, a)
	u, err := a.API.GetEndUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	search := "/endusers?" + url.Values{"q": {u.Email}}.Encode()

	name := func(env *webtest.Env, path, sel string) string {
		t.Helper()
		resp, body := env.Get(t, agent, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		return strings.TrimSpace(euDoc(t, body).Find(sel).First().Text())
	}
	profile := func(env *webtest.Env) string { return name(env, "/endusers/"+id, `[data-testid="profile-name"]`) }
	found := func(env *webtest.Env) string { return name(env, search, `[data-testid="enduser-row"] td a`) }

	const rounds = 40
	for i := range rounds {
		// Warm: B and C hold the profile, C the search.
		for _, env := range []*webtest.Env{b, c} {
			profile(env)
		}
		found(c)
		before := userReads(b, 1, id)
		old := profile(b)
		if i > 0 && userReads(b, 1, id) != before {
			t.Fatalf("round %d: replica B did not serve the profile from its cache; the test shows nothing", i)
		}
		want := fmt.Sprintf("Renamed %d", i)
		if old == want {
			t.Fatalf("round %d: already %q", i, want)
		}
		form := euEditForm(t, a, agent, id)
		form.Set("displayName", want)
		if resp, body := a.PostForm(t, agent, "/endusers/"+id, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("round %d: save on A: %d\n%s", i, resp.StatusCode, body)
		}
		if got := profile(b); got != want {
			t.Fatalf("round %d: replica B shows %q right after the save on A, want %q", i, got, want)
		}
		if got := profile(c); got != want {
			t.Fatalf("round %d: replica C shows %q right after the save on A, want %q", i, got, want)
		}
		if got := found(c); got != want {
			t.Fatalf("round %d: a search on replica C finds %q right after the save on A, want %q", i, got, want)
		}
	}
}
