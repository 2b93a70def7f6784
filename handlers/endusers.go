// Package handlers holds one file per resource. Each handler struct declares
// the small interface it needs from the Dixa client, builds a typed view
// model, and ends with respond.Page or respond.Error.
package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
)

// EndUserLister is what the customer list needs from Dixa.
type EndUserLister interface {
	ListEndUsers(ctx context.Context, o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error)
}

// EndUsers serves the customer list and search.
type EndUsers struct {
	API EndUserLister
	// PhoneRegion normalises phone numbers typed without a country code.
	PhoneRegion string
}

// Page sizes of the list.
const (
	DefaultPageLimit = 25
	MaxPageLimit     = 100
)

// List serves GET /endusers?q=&by=&pageKey=&pageLimit=: the list of every
// customer page by page, or the result of a search by one identifier.
func (h *EndUsers) List(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, nil, role.Viewer) {
		return
	}
	qv := r.URL.Query()
	q, by := qv.Get("q"), qv.Get("by")
	opts := []respond.Option{respond.Section("endusers"), respond.Search(q, by)}

	limit := DefaultPageLimit
	if s := qv.Get("pageLimit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageLimit {
			respond.Error(w, r, respond.BadRequest("pageLimit must be a whole number from 1 to "+strconv.Itoa(MaxPageLimit)+"."))
			return
		}
		limit = n
	}
	pageKey := qv.Get("pageKey")
	if !validPageKey(pageKey) {
		respond.Error(w, r, respond.BadRequest("That page link is not valid. Start again from the first page."))
		return
	}

	s, err := customer.New(h.PhoneRegion).ParseSearch(q, by)
	if LiveSearch(r) && (err != nil || !s.Complete()) {
		// While typing, a term that cannot be searched yet costs nothing.
		v := views.EndUserList{Query: q, By: by, Pending: pendingMessage(q)}
		respond.Page(w, r, http.StatusOK, "Customers", listContent(r, v), opts...)
		return
	}
	if err != nil {
		if ae, ok := apperr.As(err); ok {
			v := views.EndUserList{Query: q, By: by, Problem: ae.Msg}
			respond.Page(w, r, http.StatusUnprocessableEntity, "Customers", listContent(r, v), opts...)
			return
		}
		respond.Error(w, r, err)
		return
	}
	if s.Kind == customer.SearchID {
		// A Dixa id opens the profile directly.
		respond.Redirect(w, r, "/endusers/"+s.Value)
		return
	}

	page, err := h.API.ListEndUsers(r.Context(), s.ListOptions(limit, pageKey))
	if err != nil {
		if pageKey != "" && errors.Is(err, apiclient.ErrBadRequest) {
			err = respond.BadRequest("That page link is no longer valid. Start again from the first page.")
		}
		respond.Error(w, r, err)
		return
	}

	v := views.EndUserList{Query: q, By: by, Kind: string(s.Kind), KindLabel: s.Kind.Label(), Searched: s.Value, Rows: make([]views.EndUserRow, 0, len(page.Items))}
	for _, u := range page.Items {
		v.Rows = append(v.Rows, views.EndUserRow{
			ID: u.ID, Name: customer.Name(u), Email: u.Email, Phone: u.PhoneNumber,
			ExternalID: u.ExternalID, Created: u.CreatedAt.Time,
		})
	}
	keep := func(key string) string {
		args := []string{"q", q, "by", by, "pageKey", key}
		if limit != DefaultPageLimit {
			args = append(args, "pageLimit", strconv.Itoa(limit))
		}
		return views.WithQuery("/endusers", args...)
	}
	if page.NextKey != "" {
		v.NextURL = keep(page.NextKey)
	}
	if page.PrevKey != "" {
		v.PrevURL = keep(page.PrevKey)
	}
	if pageKey != "" {
		v.FirstURL = keep("")
	}
	if s.Kind != customer.SearchNone && len(v.Rows) == 0 && pageKey == "" {
		v.CreateURL = views.WithQuery("/endusers/new", string(s.CreateField()), s.Value)
	}
	respond.Page(w, r, http.StatusOK, "Customers", listContent(r, v), opts...)
}

// LiveSearchHeader marks a search sent while the person is still typing
// (static/app.js sets it on the search box's as-you-type requests); a
// submitted search (Enter, the button, a link, a reload) does not carry it.
const LiveSearchHeader = "X-Live-Search"

// LiveSearch reports whether the request is a search sent while typing.
func LiveSearch(r *http.Request) bool {
	return r.Header.Get(LiveSearchHeader) == "1" && respond.IsFragment(r)
}

func pendingMessage(q string) string {
	if strings.TrimSpace(q) == "" {
		return "Type an email address, a phone number or a Dixa ID, or press Enter to list all customers."
	}
	return "Keep typing a whole email address, phone number or Dixa ID, or press Enter to search external IDs."
}

// listContent is the whole page, or only the results region when htmx
// asks (search as you type, paging).
func listContent(r *http.Request, v views.EndUserList) templ.Component {
	if respond.IsFragment(r) {
		return views.EndUserResults(v)
	}
	return views.EndUserListPage(v)
}

// validPageKey accepts what an opaque base64 cursor can hold, bounded.
func validPageKey(k string) bool {
	if len(k) > 2048 {
		return false
	}
	for _, r := range k {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("+/=-_.~%", r)) {
			return false
		}
	}
	return true
}
