package handlers_test

import (
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// TestErasureSnapshotThresholds: the counts behind the erasure alert
// gauges, at chosen moments: unprocessed past AlertAfter (default 24h),
// past the legal deadline (one month after receipt, the deadline day
// counting).
func TestErasureSnapshotThresholds(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{AnonymizeDelay: time.Hour},
		Config: func(c *web.Config) { c.ErasureApproval = "single" }})
	lead := env.Login(t, "lead")
	requestErasure(t, env, lead, dixasim.DemoMinimalUserID, requestForm("DSAR-snapshot", dixasim.DemoMinimalUserID))
	e, err := env.Store.ListErasures(t.Context())
	if err != nil || len(e) != 1 || e[0].State != "submitted" {
		t.Fatalf("erasures %+v, %v: want one submitted", e, err)
	}
	submitted := e[0].SubmittedAt
	for _, tc := range []struct {
		name              string
		after, alertAfter time.Duration
		want              handlers.ErasureSnapshot
	}{
		{"at once", 0, 0, handlers.ErasureSnapshot{}},
		{"23h, default threshold", 23 * time.Hour, 0, handlers.ErasureSnapshot{}},
		{"25h, default threshold", 25 * time.Hour, 0, handlers.ErasureSnapshot{UnprocessedOverdue: 1}},
		{"3h, threshold 2h", 3 * time.Hour, 2 * time.Hour, handlers.ErasureSnapshot{UnprocessedOverdue: 1}},
		{"40 days", 40 * 24 * time.Hour, 0, handlers.ErasureSnapshot{UnprocessedOverdue: 1, PastDeadline: 1}},
	} {
		tr := handlers.ErasureTracker{Store: env.Store, AlertAfter: tc.alertAfter, Now: func() time.Time { return submitted.Add(tc.after) }}
		got, err := tr.Snapshot(t.Context())
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}
