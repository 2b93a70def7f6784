// Package handlers holds one file per resource. Each handler struct declares
// the small interface it needs from the Dixa client, builds a typed view
// model, and ends with respond.Page or respond.Error.
package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/apperr"
	"github.com/example/dixa-console/web/customer"
	"github.com/example/dixa-console/web/dixacache"
	"github.com/example/dixa-console/web/erasure"
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
	// Erased warns about identifiers of erased people; nil: no warning.
	Erased ErasureMarks
}

// TypingHeader marks a search sent while the person is still typing (set
// by the page's script on search-as-you-type requests, never on Enter or
// the button): a term that is not a whole identifier is then not sent to
// Dixa, and the results region says what Enter would search.
const TypingHeader = "X-Search-Typing"

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

	limit, pageKey, err := listPaging(qv)
	if err != nil {
		respond.Error(w, r, err)
		return
	}
	s, err := customer.New(h.PhoneRegion).ParseSearch(q, by)
	typing := respond.IsFragment(r) && r.Header.Get(TypingHeader) == "1"
	if err != nil && typing {
		// A term half typed is not yet a mistake: say what Enter does.
		v := views.EndUserList{Query: q, By: by, Typing: "keep typing, or press Enter to search"}
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
	v := views.EndUserList{Query: q, By: by, Kind: string(s.Kind), KindLabel: s.Kind.Label(), Searched: s.Value,
		Fallback: s.Fallback, PhoneHint: s.PhoneHint}
	if typing && !s.Complete() {
		v.Typing = s.EnterHint()
		respond.Page(w, r, http.StatusOK, "Customers", listContent(r, v), opts...)
		return
	}
	v.Erased = h.erasedIdentifier(r, s)

	page, err := h.API.ListEndUsers(r.Context(), s.ListOptions(limit, pageKey))
	if err != nil {
		if pageKey != "" && errors.Is(err, apiclient.ErrBadRequest) {
			err = respond.BadRequest("That page link is no longer valid. Start again from the first page.")
		}
		respond.Error(w, r, err)
		return
	}
	v.Rows = make([]views.EndUserRow, 0, len(page.Items))
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
	if s.OffersCreate() && len(v.Rows) == 0 && pageKey == "" {
		v.CreateURL = views.WithQuery("/endusers/new", string(s.CreateField()), s.Value)
	}
	v.Stale, v.Again = staleNotice(r)
	respond.Page(w, r, http.StatusOK, "Customers", listContent(r, v), opts...)
}

// staleNotice takes the request's note of data served from before because
// Dixa is busy, for a page that shows the notice in a region of its own
// (inside what htmx swaps): the data's age for people and the address that
// asks for the page again; "" when every read was current.
func staleNotice(r *http.Request) (age, again string) {
	a, ok := dixacache.TakeStale(r.Context())
	if !ok {
		return "", ""
	}
	return views.Ago(int(a / time.Second)), r.URL.RequestURI()
}

// listPaging reads the page size and the page cursor of the list.
func listPaging(qv url.Values) (int, string, error) {
	limit := DefaultPageLimit
	if s := qv.Get("pageLimit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageLimit {
			return 0, "", respond.BadRequest("pageLimit must be a whole number from 1 to " + strconv.Itoa(MaxPageLimit) + ".")
		}
		limit = n
	}
	pageKey := qv.Get("pageKey")
	if !validPageKey(pageKey) {
		return 0, "", respond.BadRequest("That page link is not valid. Start again from the first page.")
	}
	return limit, pageKey, nil
}

// erasedIdentifier warns when the searched email, phone number or external
// ID belonged to a person the console erased.
func (h *EndUsers) erasedIdentifier(r *http.Request, s customer.Search) *views.ErasedNote {
	kind := map[customer.SearchKind]string{customer.SearchEmail: erasure.IdentEmail,
		customer.SearchPhone: erasure.IdentPhone, customer.SearchExternalID: erasure.IdentExternalID}[s.Kind]
	if kind == "" {
		return nil
	}
	return identifierErased(r, h.Erased, kind, s.Value)
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
