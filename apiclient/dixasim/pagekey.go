package dixasim

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
)

// cursor is what a pageKey encodes: which list, the page size, the filters
// of the first request (so that next/previous links need nothing else, as
// the spec's "Base64 encoded form of pagination query parameters" suggests)
// and where the page starts.
type cursor struct {
	Scope  string    `json:"s"` // "endusers" or "conversations/<userId>"
	Limit  int       `json:"l"`
	Filter filter    `json:"f,omitzero"`
	After  *position `json:"a,omitempty"` // the page holds items after this
	Before *position `json:"b,omitempty"` // or the items just before this
}

// filter is the one filter of GET /endusers (at most one field is set).
type filter struct {
	Email      string `json:"e,omitempty"`
	Phone      string `json:"p,omitempty"`
	ExternalID string `json:"x,omitempty"`
}

// position is a place in a list ordered by createdAt, then id. End users
// have uuid ids (ID), conversations int64 ids (N).
type position struct {
	T  int64  `json:"t"` // createdAt, Unix nanoseconds
	ID string `json:"i,omitempty"`
	N  int64  `json:"n,omitempty"`
}

func (p position) compare(q position) int {
	return cmp.Or(cmp.Compare(p.T, q.T), cmp.Compare(p.ID, q.ID), cmp.Compare(p.N, q.N))
}

// pageKeyCodec turns cursors into opaque keys and back. A key carries an
// HMAC so that a tampered or made-up key is refused (400) instead of being
// half-understood.
type pageKeyCodec struct{ secret []byte }

// macLen is how much of the HMAC a key carries; enough to catch tampering.
const macLen = 8

func newPageKeyCodec(seed int64) pageKeyCodec {
	sum := sha256.Sum256(fmt.Appendf(nil, "dixasim page keys, seed %d", seed))
	return pageKeyCodec{secret: sum[:]}
}

func (c pageKeyCodec) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

// encode returns the key: standard Base64 (with '+', '/' and '='), so a
// client that forgets to escape it in a query string is caught.
func (c pageKeyCodec) encode(cur cursor) string {
	payload, _ := json.Marshal(cur) // plain struct: cannot fail
	return base64.StdEncoding.EncodeToString(append(c.mac(payload), payload...))
}

var errBadPageKey = errors.New("invalid pageKey")

func (c pageKeyCodec) decode(key string) (cursor, error) {
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) <= macLen {
		return cursor{}, errBadPageKey
	}
	sum, payload := raw[:macLen], raw[macLen:]
	if !hmac.Equal(sum, c.mac(payload)) {
		return cursor{}, errBadPageKey
	}
	var cur cursor
	if err := json.Unmarshal(payload, &cur); err != nil || cur.Limit <= 0 || (cur.After != nil && cur.Before != nil) {
		return cursor{}, errBadPageKey
	}
	return cur, nil
}

// link is a relative URL for meta: the list's path with only the pageKey,
// e.g. "/v1/endusers?pageKey=…".
func (c pageKeyCodec) link(path string, cur cursor) string {
	return path + "?" + url.Values{"pageKey": {c.encode(cur)}}.Encode()
}

// pageOf selects the page cur asks for from items (sorted by pos) that
// satisfy keep. prev and next are where the neighbouring pages start; nil
// when there is nothing before (the first page) or after (the last page).
func pageOf[T any](items []T, pos func(T) position, keep func(T) bool, cur cursor) (page []T, prev, next *position) {
	var first, last int // indexes in items of the page's first and last item
	switch {
	case cur.Before != nil:
		end := sort.Search(len(items), func(i int) bool { return pos(items[i]).compare(*cur.Before) >= 0 })
		for i := end - 1; i >= 0 && len(page) < cur.Limit; i-- {
			if keep(items[i]) {
				if len(page) == 0 {
					last = i
				}
				page = append(page, items[i])
				first = i
			}
		}
		if len(page) == 0 {
			return nil, nil, nil
		}
		for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
			page[i], page[j] = page[j], page[i]
		}
	default:
		start := 0
		if cur.After != nil {
			start = sort.Search(len(items), func(i int) bool { return pos(items[i]).compare(*cur.After) > 0 })
		}
		first = -1
		for i := start; i < len(items) && len(page) < cur.Limit; i++ {
			if keep(items[i]) {
				if first < 0 {
					first = i
				}
				page = append(page, items[i])
				last = i
			}
		}
		if len(page) == 0 {
			return nil, nil, nil
		}
	}
	for i := first - 1; i >= 0; i-- {
		if keep(items[i]) {
			p := pos(items[first])
			prev = &p
			break
		}
	}
	for i := last + 1; i < len(items); i++ {
		if keep(items[i]) {
			p := pos(items[last])
			next = &p
			break
		}
	}
	return page, prev, next
}
