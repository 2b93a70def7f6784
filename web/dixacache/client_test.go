package dixacache

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

func simReader(t *testing.T) (Reader, *dixasim.Sim) {
	t.Helper()
	sim := dixasim.New(dixasim.Options{APIKey: "k", Users: 20, AnonymizeDelay: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := apiclient.New(srv.URL, apiclient.WithAPIKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	return NewReader(c, New(Options{})), sim
}

func gets(sim *dixasim.Sim) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Method == http.MethodGet {
			n++
		}
	}
	return n
}

// Each write through the client drops what it touches: the next read goes
// to Dixa and shows the write.
func TestCacheWritesThroughClientInvalidate(t *testing.T) {
	r, sim := simReader(t)
	id, _ := sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email != "" })
	ctx := t.Context()
	read := func() apiclient.EndUser {
		t.Helper()
		u, err := r.GetEndUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	read()
	before := gets(sim)
	read()
	if gets(sim) != before {
		t.Fatal("a repeat read went to Dixa")
	}
	name := "Cache Test Name"
	if _, err := r.PatchEndUser(ctx, id, apiclient.PatchEndUserInput{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	if u := read(); u.DisplayName != name {
		t.Errorf("after a patch the read shows %q", u.DisplayName)
	}
	list := func() {
		if _, err := r.ListEndUsers(ctx, apiclient.ListOptions{PageLimit: 5}); err != nil {
			t.Fatal(err)
		}
	}
	list()
	before = gets(sim)
	if _, err := r.CreateEndUser(ctx, apiclient.CreateEndUserInput{DisplayName: "New Person"}); err != nil {
		t.Fatal(err)
	}
	list()
	if gets(sim) == before {
		t.Error("the list was served from the cache after a create")
	}
	read()
	if _, err := r.AnonymizeEndUser(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	before = gets(sim)
	read()
	read()
	if gets(sim) != before+2 {
		t.Errorf("an erased person was served from the cache (%d reads went to Dixa, want 2)", gets(sim)-before)
	}
}
