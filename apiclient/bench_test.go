package apiclient

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkGetEndUser measures one GetEndUser round trip: client, limiter
// (unlimited), loopback HTTP and decoding.
func BenchmarkGetEndUser(b *testing.B) {
	c, _ := newServerClient(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, endUserJSON)
	}), WithLimiter(NewLimiter(0, 1)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetEndUser(b.Context(), userID); err != nil {
			b.Fatal(err)
		}
	}
}
