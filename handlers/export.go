package handlers

import (
	"context"
	"errors"
	"fmt"
	"github.com/example/dixa-console/web/role"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/importjob"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
)

// ExportAPI is what the CSV export needs from Dixa.
type ExportAPI interface {
	ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error)
	GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error)
	ListCustomAttributeDefinitions(ctx context.Context) ([]apiclient.CustomAttributeDefinition, error)
}

// Export serves the CSV export of customers (leads only).
type Export struct {
	API         ExportAPI
	Audit       AuditLogger
	PhoneRegion string
	// RPS is the upstream budget, for the cost shown before an export with
	// custom attributes (default 10).
	RPS float64
	// Retries is how often a request refused for the rate limit is tried
	// again before the export gives up (default 10).
	Retries int
}

// exportPageSize is the list page size of an export (the largest the
// simulator allows; Dixa's maximum is not documented).
const exportPageSize = 100

// exportColumns are the fields exported, in order, named as in the API
// (so that an export can be edited and imported again).
var exportColumns = []string{"id", "createdAt", "displayName", "firstName", "middleNames", "lastName", "email",
	"phoneNumber", "additionalEmails", "additionalPhoneNumbers", "externalId", "avatarUrl"}

// CSV serves GET /endusers/export.csv?q=&by=&attrs=1: what the list or the
// search shows, every page, streamed as it is read (constant memory) in
// the rate limiter's low-priority lane. attrs=1 adds the custom attributes
// (one more request per customer); that asks for confirmation first
// (confirm=1). Cells are escaped against formula injection. The export is
// audit-logged with its query kind and row count, never the query value.
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
	ctx := apiclient.WithLowPriority(r.Context())

	var defs []apiclient.CustomAttributeDefinition
	if attrs {
		all, err := h.retry(ctx, func() ([]apiclient.CustomAttributeDefinition, error) {
			return h.API.ListCustomAttributeDefinitions(ctx)
		})
		if err != nil {
			respond.Error(w, r, err)
			return
		}
		for _, d := range all {
			if d.EntityType == apiclient.EntityContact && !d.IsArchived {
				defs = append(defs, d)
			}
		}
		slices.SortFunc(defs, func(a, b apiclient.CustomAttributeDefinition) int { return strings.Compare(a.Identifier, b.Identifier) })
	}

	// The first page is read before anything is written, so that a
	// failure there is a proper error page.
	lo := s.ListOptions(exportPageSize, "")
	var page apiclient.Page[apiclient.EndUser]
	if s.Kind == customer.SearchID {
		u, err := h.retryUser(ctx, s.Value)
		if err != nil && !errors.Is(err, apiclient.ErrNotFound) {
			respond.Error(w, r, err)
			return
		}
		if err == nil {
			page.Items = []apiclient.EndUser{u}
		}
	} else if page, err = h.retryPage(ctx, lo); err != nil {
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
	io.WriteString(w, "\uFEFF") // so that Excel reads UTF-8
	rc := http.NewResponseController(w)
	cw := importjob.NewWriter(w)
	header := slices.Clone(exportColumns)
	for _, d := range defs {
		header = append(header, "attr."+d.Identifier)
	}
	cw.Write(header...)

	rows, requests := 0, 1
	fail := func(err error) {
		reqctx.Logger(r.Context()).Error("export failed mid-stream", "rows", rows, "err", err)
		h.record(r.Context(), kind, attrs, rows, requests, "failed")
		// Abort the response: the browser shows a failed download rather
		// than a file that looks complete.
		panic(http.ErrAbortHandler)
	}
	for {
		for _, u := range page.Items {
			if attrs && s.Kind != customer.SearchID {
				full, err := h.retryUser(ctx, u.ID)
				requests++
				switch {
				case errors.Is(err, apiclient.ErrNotFound):
					continue // gone since the list was read
				case err != nil:
					fail(err)
				}
				u = full
			}
			if err := cw.Write(exportRow(u, defs)...); err != nil {
				fail(err)
			}
			rows++
		}
		if err := cw.Flush(); err != nil {
			fail(err)
		}
		rc.Flush()
		if page.NextKey == "" || len(page.Items) == 0 || s.Kind == customer.SearchID {
			break
		}
		lo.PageKey = page.NextKey
		var err error
		if page, err = h.retryPage(ctx, lo); err != nil {
			fail(err)
		}
		requests++
	}
	h.record(r.Context(), kind, attrs, rows, requests, "ok")
}

func (h *Export) record(ctx context.Context, kind string, attrs bool, rows, requests int, outcome string) {
	Record(context.WithoutCancel(ctx), h.Audit, "endusers.exported", "endusers", kind, outcome, map[string]string{
		"query": kind, "rows": strconv.Itoa(rows), "attributes": strconv.FormatBool(attrs), "requests": strconv.Itoa(requests),
	})
}

// exportRow is one customer as CSV cells (escaped by the writer).
func exportRow(u apiclient.EndUser, defs []apiclient.CustomAttributeDefinition) []string {
	row := []string{u.ID, "", u.DisplayName, u.FirstName, strings.Join(u.MiddleNames, "|"), u.LastName, u.Email,
		u.PhoneNumber, strings.Join(u.AdditionalEmails, "|"), strings.Join(u.AdditionalPhoneNumbers, "|"), u.ExternalID, u.AvatarURL}
	if !u.CreatedAt.IsZero() {
		row[1] = u.CreatedAt.UTC().Format(time.RFC3339)
	}
	for _, d := range defs {
		cell := ""
		for _, a := range u.CustomAttributes {
			if a.ID == d.ID || a.Identifier == d.Identifier {
				if a.Value.IsSelect {
					cell = strings.Join(a.Value.Select, "/")
				} else {
					cell = a.Value.Text
				}
			}
		}
		row = append(row, cell)
	}
	return row
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
			exportPageSize, rate, duration(1010/rate), duration(10100/rate))
	} else {
		v.What = "the customers with " + s.Kind.Label() + " " + s.Value
		v.Cost = "Custom attributes are not part of Dixa's customer list, so the console reads each matching customer separately: one extra request per customer (usually one or two for a search)."
	}
	respond.Page(w, r, http.StatusOK, "Export", views.ExportConfirmPage(v), respond.Section("endusers"))
}

// retry calls fn again while Dixa (or the shared budget) refuses for the
// rate limit: an export in the low-priority lane may wait behind agents.
func (h *Export) retry(ctx context.Context, fn func() ([]apiclient.CustomAttributeDefinition, error)) ([]apiclient.CustomAttributeDefinition, error) {
	var out []apiclient.CustomAttributeDefinition
	err := h.again(ctx, func() (err error) { out, err = fn(); return err })
	return out, err
}

func (h *Export) retryPage(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error) {
	var p apiclient.Page[apiclient.EndUser]
	err := h.again(ctx, func() (err error) { p, err = h.API.ListEndUsers(ctx, o); return err })
	return p, err
}

func (h *Export) retryUser(ctx context.Context, id string) (apiclient.EndUser, error) {
	var u apiclient.EndUser
	err := h.again(ctx, func() (err error) { u, err = h.API.GetEndUser(ctx, id); return err })
	return u, err
}

func (h *Export) again(ctx context.Context, fn func() error) error {
	n := h.Retries
	if n <= 0 {
		n = 10
	}
	for i := 0; ; i++ {
		err := fn()
		if err == nil || !errors.Is(err, apiclient.ErrRateLimited) || i >= n || ctx.Err() != nil {
			return err
		}
		d := time.Second
		var ae *apiclient.Error
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			d = ae.RetryAfter
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
