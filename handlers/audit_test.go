package handlers_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/role"
)

// filterLog is an audit reader that keeps the last filter it was asked for.
type filterLog struct{ got []audit.Filter }

func (l *filterLog) ListAudit(_ context.Context, f audit.Filter) ([]audit.Entry, error) {
	l.got = append(l.got, f)
	return []audit.Entry{{Seq: 1, Time: time.Now(), ActorID: "lea", Action: "erasure.approved", Outcome: audit.OutcomeOK}}, nil
}

func TestAuditPageFilters(t *testing.T) {
	log := &filterLog{}
	h := &handlers.Audit{Store: log}
	get := func(handler http.HandlerFunc, target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r = r.WithContext(reqctx.WithIdentity(r.Context(), reqctx.Identity{ID: "lea@example.com", Role: role.Lead}))
		w := httptest.NewRecorder()
		handler(w, r)
		return w
	}

	w := get(h.List, "/audit?actor=+lea+&action=erasure.&from=2026-03-01&to=2026-03-02")
	if w.Code != http.StatusOK || len(log.got) != 1 {
		t.Fatalf("valid filter: %d, %d reads", w.Code, len(log.got))
	}
	f := log.got[0]
	if f.Actor != "lea" || f.Action != "erasure." || !f.From.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) ||
		!f.To.Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)) || f.Limit != 51 {
		t.Errorf("filter %+v", f)
	}

	for _, tc := range []struct{ query, msg string }{
		{"from=1+March", "The 'from' date must be written YYYY-MM-DD."},
		{"to=2026-02-30", "The 'to' date must be written YYYY-MM-DD."},
		{"target=" + strings.Repeat("x", audit.MaxQueryText+1), "A filter is too long."},
	} {
		for name, handler := range map[string]http.HandlerFunc{"/audit": h.List, "/audit.csv": h.CSV} {
			reads := len(log.got)
			w := get(handler, name+"?"+tc.query)
			if w.Code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(w.Body.String()), tc.msg) {
				t.Errorf("%s?%.40s: %d, want 400 saying %q", name, tc.query, w.Code, tc.msg)
			}
			if len(log.got) != reads {
				t.Errorf("%s?%.40s: the log was read", name, tc.query)
			}
		}
	}
}
