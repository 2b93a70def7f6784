package dixacache

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
)

// The bytes the cache counts against MaxBytes are at least the memory its
// entries really hold: realistic customers, their conversations and
// searches (from the simulator's demo organisation) are put in a cache,
// and the live heap after a collection grows by no more than the count.
func TestCacheCountsAtLeastItsRealMemory(t *testing.T) {
	sim := dixasim.New(dixasim.Options{APIKey: "k", Users: 300, AnonymizeDelay: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	api, err := apiclient.New(srv.URL, apiclient.WithAPIKey("k"), apiclient.WithLimiter(apiclient.NewLimiter(0, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	type wire struct {
		key, owner string
		kind       int
		data       []byte
	}
	var values []wire
	add := func(key, owner string, kind int, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, wire{key, owner, kind, b})
	}
	page, err := api.ListEndUsers(ctx, apiclient.ListOptions{PageLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range page.Items {
		full, err := api.GetEndUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		add("u:"+u.ID, u.ID, 0, full)
		convs, err := api.ListEndUserConversations(ctx, u.ID, apiclient.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		add(convKey(u.ID, apiclient.PageOptions{}), u.ID, 1, convs)
		if u.Email != "" {
			found, err := api.ListEndUsers(ctx, apiclient.ListOptions{Email: u.Email})
			if err != nil {
				t.Fatal(err)
			}
			add(listKey(apiclient.ListOptions{Email: u.Email}), "", 2, found)
		}
	}

	c := New(Options{MaxEntries: 1 << 20, MaxBytes: 1 << 40})
	before := liveHeap()
	for _, w := range values {
		// Each entry is decoded afresh, so the cache holds its only copy.
		var v any
		switch w.kind {
		case 0:
			var u apiclient.EndUser
			err = json.Unmarshal(w.data, &u)
			v = u
		case 1:
			var p apiclient.Page[apiclient.Conversation]
			err = json.Unmarshal(w.data, &p)
			v = p
		default:
			var p apiclient.Page[apiclient.EndUser]
			err = json.Unmarshal(w.data, &p)
			v = p
		}
		if err != nil {
			t.Fatal(err)
		}
		c.store(w.key, w.owner, v, 0, 0)
	}
	real := int64(liveHeap()) - int64(before)
	counted := c.Stats().Bytes
	runtime.KeepAlive(c)
	t.Logf("%d entries: counted %d bytes, real %d bytes (%.2f× the count)", c.Stats().Entries, counted, real, float64(real)/float64(counted))
	if c.Stats().Entries != len(values) {
		t.Fatalf("%d entries kept of %d", c.Stats().Entries, len(values))
	}
	if real > counted {
		t.Errorf("the cache holds %s but counts %s against its bound", mb(real), mb(counted))
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/(1<<20)) }
