package erasure

import (
	"fmt"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// TestPreviewCacheBounded: the cache holds at most previewEntries
// previews, drops expired ones, and forgets a person wherever they appear.
func TestPreviewCacheBounded(t *testing.T) {
	var c previewCache
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for i := range 3 * previewEntries {
		c.put(fmt.Sprint("user-", i), Preview{}, now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := c.len(); n != previewEntries {
		t.Errorf("%d cached previews, want at most %d", n, previewEntries)
	}
	if _, ok := c.get("user-0", now); ok {
		t.Error("the oldest preview was kept")
	}
	if _, ok := c.get(fmt.Sprint("user-", 3*previewEntries-1), now.Add(time.Minute)); !ok {
		t.Error("the newest preview was dropped")
	}
	if _, ok := c.get(fmt.Sprint("user-", 3*previewEntries-1), now.Add(previewTTL+time.Minute)); ok {
		t.Error("an expired preview was served")
	}

	c.put("a", Preview{Duplicates: []Duplicate{{User: apiclient.EndUser{ID: "erased"}}}}, now)
	c.put("erased", Preview{}, now)
	c.put("b", Preview{}, now)
	c.forget("erased")
	for id, want := range map[string]bool{"a": false, "erased": false, "b": true} {
		if _, ok := c.get(id, now); ok != want {
			t.Errorf("after forget: %s cached = %v, want %v", id, ok, want)
		}
	}
}
