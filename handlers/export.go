package handlers

import (
	"context"
	"fmt"
	"github.com/example/dixa-console/web/audit"
	"github.com/example/dixa-console/web/customer"
	"net/http"
	"strconv"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/importjob"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// Export serves the CSV export of customers (leads only).
type Export struct {
	API         importjob.ExportAPI
	Audit       AuditLogger
	PhoneRegion string
	// RPS is the upstream budget, for the cost shown before an export with
	// custom attributes (default 10).
	RPS float64
	// Retries is how often a request refused for the rate limit is tried
	// again before the export gives up (default 10).
	Retries int
}

// CSV serves GET /endusers/export.csv?q=&by=&attrs=1: what the list or the
// search shows, every page, streamed as it is read in the rate limiter's
// low-priority lane. attrs=1 adds the custom attributes (one more request
// per customer); that asks for confirmation first (confirm=1). The export
// is audit-logged with its query kind and row count, never the query value.
func (h *Export) CSV(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, h.Audit, role.Lead) {
		return
	}
	qv := r.URL.Query()
	q, by := qv.Get("q"), qv.Get("by")
	s, err := customer.New(h.PhoneRegion).ParseSearch(q, by)
	if err != nil {
		respond.Error(w, r, err) // an *apperr.Error: 422 with its message
		return
	}
	attrs := qv.Get("attrs") == "1"
	if attrs && qv.Get("confirm") != "1" {
		h.confirm(w, r, q, by, s)
		return
	}
	eq := importjob.ExportQuery{List: s.ListOptions(importjob.ExportPageSize, ""), Attrs: attrs}
	if s.Kind == customer.SearchID {
		eq.ID = s.Value
	}
	ctx := apiclient.WithLowPriority(r.Context())
	x, err := (&importjob.Exporter{API: h.API, Retries: h.Retries}).Begin(ctx, eq)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	kind := string(s.Kind)
	if kind == "" {
		kind = "all"
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="customers-`+time.Now().UTC().Format("20060102-1504")+`.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := x.Write(ctx, w, func() { rc.Flush() }); err != nil {
		reqctx.Logger(r.Context()).Error("export failed mid-stream", "rows", x.Rows, "err", err)
		h.record(r.Context(), kind, attrs, x.Rows, x.Requests, "failed")
		// Abort the response: the browser shows a failed download rather
		// than a file that looks complete.
		panic(http.ErrAbortHandler)
	}
	h.record(r.Context(), kind, attrs, x.Rows, x.Requests, "ok")
}

func (h *Export) record(ctx context.Context, kind string, attrs bool, rows, requests int, outcome audit.Outcome) {
	Record(context.WithoutCancel(ctx), h.Audit, "endusers.exported", "endusers", kind, outcome, map[string]string{
		"query": kind, "rows": strconv.Itoa(rows), "attributes": strconv.FormatBool(attrs), "requests": strconv.Itoa(requests),
	})
}

// confirm shows what an export with custom attributes costs.
func (h *Export) confirm(w http.ResponseWriter, r *http.Request, q, by string, s customer.Search) {
	rate := h.RPS
	if rate <= 0 {
		rate = 10
	}
	v := views.ExportConfirm{
		URL:     views.WithQuery("/endusers/export.csv", "q", q, "by", by, "attrs", "1", "confirm", "1"),
		BackURL: views.WithQuery("/endusers/export.csv", "q", q, "by", by),
	}
	if s.Kind == "" {
		v.What = "all customers"
		v.Cost = fmt.Sprintf("Custom attributes are not part of Dixa's customer list, so the console reads each customer separately: one request per customer on top of one per %d customers. The company's Dixa budget is %g requests a second, shared with every agent (who go first), so 1,000 customers take at least %s and 10,000 at least %s. The file is written as it goes; keep this tab open until it is complete.",
			importjob.ExportPageSize, rate, duration(1010/rate), duration(10100/rate))
	} else {
		v.What = "the customers with " + s.Kind.Label() + " " + s.Value
		v.Cost = "Custom attributes are not part of Dixa's customer list, so the console reads each matching customer separately: one extra request per customer (usually one or two for a search)."
	}
	respond.Page(w, r, http.StatusOK, "Export", views.ExportConfirmPage(v), respond.Section("endusers"))
}
