package importjob

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// ExportAPI is what an export needs from Dixa; *apiclient.Client has it.
type ExportAPI interface {
	ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error)
	GetEndUser(ctx context.Context, id string) (apiclient.EndUser, error)
	ListCustomAttributeDefinitions(ctx context.Context) ([]apiclient.CustomAttributeDefinition, error)
}

// ExportPageSize is the list page size of an export (the largest the
// simulator allows; Dixa's maximum is not documented).
const ExportPageSize = 100

// exportColumns are the fields exported, in order, named as in the API
// (so that an export can be edited and imported again).
var exportColumns = []string{"id", "createdAt", "displayName", "firstName", "middleNames", "lastName", "email",
	"phoneNumber", "additionalEmails", "additionalPhoneNumbers", "externalId", "avatarUrl"}

// ExportQuery says which customers an export holds.
type ExportQuery struct {
	// List selects the customers from Dixa's list (its filters; the page
	// size and key are the export's).
	List apiclient.ListOptions
	// ID, when set, exports the one customer with this Dixa id instead.
	ID string
	// Attrs adds the custom attributes: Dixa's list has none, so each
	// customer is read once more.
	Attrs bool
}

// Exporter writes customers as CSV, every page of the list, as it reads
// them (constant memory). A request refused for the rate limit is tried
// again, waiting as Dixa asks: an export runs in the low-priority lane and
// may wait behind agents.
type Exporter struct {
	API ExportAPI
	// Retries is how often a request refused for the rate limit is tried
	// again before the export gives up (default 10).
	Retries int
}

// Export is an export whose first page has been read.
type Export struct {
	e    *Exporter
	q    ExportQuery
	defs []apiclient.CustomAttributeDefinition
	page apiclient.Page[apiclient.EndUser]
	// Rows is the number of customers written, Requests the number of
	// list and customer requests made.
	Rows, Requests int
}

// Begin reads what must be known before the first byte is written, so
// that a failure there can still be answered with an error page: the
// active Contact attribute definitions (when q.Attrs) and the first page.
// A customer asked for by an id that Dixa does not know makes an empty
// export.
func (e *Exporter) Begin(ctx context.Context, q ExportQuery) (*Export, error) {
	x := &Export{e: e, q: q, Requests: 1}
	x.q.List.PageLimit, x.q.List.PageKey = ExportPageSize, ""
	if q.Attrs {
		var all []apiclient.CustomAttributeDefinition
		err := e.again(ctx, func() (err error) { all, err = e.API.ListCustomAttributeDefinitions(ctx); return err })
		if err != nil {
			return nil, err
		}
		x.defs = contactDefinitions(all)
	}
	if q.ID == "" {
		var err error
		x.page, err = e.listPage(ctx, x.q.List)
		return x, err
	}
	u, err := e.user(ctx, q.ID)
	switch {
	case errors.Is(err, apiclient.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		x.page.Items = []apiclient.EndUser{u}
	}
	return x, nil
}

// contactDefinitions keeps the customer attributes that are not archived,
// ordered by identifier.
func contactDefinitions(all []apiclient.CustomAttributeDefinition) []apiclient.CustomAttributeDefinition {
	var defs []apiclient.CustomAttributeDefinition
	for _, d := range all {
		if d.EntityType == apiclient.EntityContact && !d.IsArchived {
			defs = append(defs, d)
		}
	}
	slices.SortFunc(defs, func(a, b apiclient.CustomAttributeDefinition) int { return strings.Compare(a.Identifier, b.Identifier) })
	return defs
}

// Write writes the file to w: a UTF-8 byte order mark (so that Excel reads
// UTF-8), the header, and the customers page by page, every cell escaped
// (EscapeCell). flush is called after each page, so that the file reaches
// the reader as it is written.
func (x *Export) Write(ctx context.Context, w io.Writer, flush func()) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := NewWriter(w)
	header := slices.Clone(exportColumns)
	for _, d := range x.defs {
		header = append(header, "attr."+d.Identifier)
	}
	if err := cw.Write(header...); err != nil {
		return err
	}
	for {
		if err := x.writePage(ctx, cw); err != nil {
			return err
		}
		flush()
		if x.page.NextKey == "" || len(x.page.Items) == 0 || x.q.ID != "" {
			return nil
		}
		x.q.List.PageKey = x.page.NextKey
		var err error
		if x.page, err = x.e.listPage(ctx, x.q.List); err != nil {
			return err
		}
		x.Requests++
	}
}

// writePage writes the customers of the current page, read again one by
// one when the custom attributes are asked for.
func (x *Export) writePage(ctx context.Context, cw *Writer) error {
	for _, u := range x.page.Items {
		if x.q.Attrs && x.q.ID == "" {
			full, err := x.e.user(ctx, u.ID)
			x.Requests++
			switch {
			case errors.Is(err, apiclient.ErrNotFound):
				continue // gone since the list was read
			case err != nil:
				return err
			}
			u = full
		}
		if err := cw.Write(exportRow(u, x.defs)...); err != nil {
			return err
		}
		x.Rows++
	}
	return cw.Flush()
}

// exportRow is one customer as CSV cells (escaped by the writer). Lists
// are joined with "|", as the import reads them.
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

func (e *Exporter) listPage(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error) {
	var p apiclient.Page[apiclient.EndUser]
	err := e.again(ctx, func() (err error) { p, err = e.API.ListEndUsers(ctx, o); return err })
	return p, err
}

func (e *Exporter) user(ctx context.Context, id string) (apiclient.EndUser, error) {
	var u apiclient.EndUser
	err := e.again(ctx, func() (err error) { u, err = e.API.GetEndUser(ctx, id); return err })
	return u, err
}

// again calls fn again while Dixa (or the shared budget) refuses it for
// the rate limit, waiting its Retry-After (else a second) in between.
func (e *Exporter) again(ctx context.Context, fn func() error) error {
	n := e.Retries
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
		sleepCtx(ctx, d)
		if ctx.Err() != nil {
			return err
		}
	}
}
