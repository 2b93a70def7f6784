package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/webtest"
)

// TestMetricsErasureAlerts: an operator hears of stuck erasures. An erasure that
// Dixa has not processed after the (here tiny) threshold shows in
// console_erasures_unprocessed_overdue, one received long ago in
// console_erasures_past_deadline, a failed check in
// console_erasure_poll_errors_total; once Dixa has processed it and the
// console has verified it, both gauges are back to 0.
func TestMetricsErasureAlerts(t *testing.T) {
	env := webtest.New(t, webtest.Options{
		Sim:     dixasim.Options{AnonymizeDelay: 1500 * time.Millisecond},
		Config:  func(c *web.Config) { c.ErasureApproval = "single" },
		Tracker: &erasure.Tracking{Tick: 50 * time.Millisecond, Base: 100 * time.Millisecond, Max: 500 * time.Millisecond, StaleAfter: 100 * time.Millisecond, AlertAfter: 100 * time.Millisecond},
	})
	c := env.Client()
	metric := func(name string) float64 {
		t.Helper()
		resp, body := env.Get(t, c, "/metrics")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d", resp.StatusCode)
		}
		for line := range strings.SplitSeq(body, "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return f
			}
		}
		t.Fatalf("no %s in /metrics", name)
		return 0
	}
	const (
		overdue   = "console_erasures_unprocessed_overdue"
		deadline  = "console_erasures_past_deadline"
		pollError = "console_erasure_poll_errors_total"
	)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("after 10s: %s: overdue %v, past deadline %v, poll errors %v", what, metric(overdue), metric(deadline), metric(pollError))
			}
		}
	}
	for _, name := range []string{overdue, deadline, pollError} {
		if v := metric(name); v != 0 {
			t.Errorf("%s = %v before any erasure", name, v)
		}
	}

	// The first status check at Dixa fails.
	env.Sim.FailNext("GET /anonymization/request/{requestId}", 1, http.StatusNotFound)
	lead := env.Login(t, "lead")
	subject := dixasim.DemoMinimalUserID
	form := url.Values{"reference": {"DSAR-metrics"}, "reason": {"Art. 17(1)(a) GDPR"}, "receivedAt": {"2025-01-10"}, "confirm": {subject}}
	if resp, body := env.PostForm(t, lead, "/endusers/"+subject+"/erasure", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("request erasure: %d\n%s", resp.StatusCode, body)
	}
	waitFor("an unprocessed erasure past the threshold", func() bool { return metric(overdue) == 1 })
	if v := metric(deadline); v != 1 {
		t.Errorf("%s = %v with a request received 2025-01-10, want 1", deadline, v)
	}
	waitFor("the failed status check counted", func() bool { return metric(pollError) >= 1 })

	waitFor("both gauges back to 0 after processing and verification", func() bool {
		return metric(overdue) == 0 && metric(deadline) == 0
	})
	es, err := env.Store.ListErasures(t.Context())
	if err != nil || len(es) != 1 || es[0].State != "verified" || es[0].ProcessedAt.IsZero() {
		t.Fatalf("erasures %+v, %v: want one verified", es, err)
	}
	if v := metric(pollError); v != 1 {
		t.Errorf("%s = %v, want 1 (one injected failure)", pollError, v)
	}
}
