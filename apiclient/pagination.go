package apiclient

import (
	"context"
	"iter"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// PageOptions selects one page of a paginated list. PageKey is the opaque
// cursor from a previous Page's NextKey or PrevKey ("" for the first page);
// PageLimit 0 leaves the page size to Dixa.
type PageOptions struct {
	PageLimit int
	PageKey   string
}

// ListOptions selects a page of end users, optionally filtered by exactly
// one of Email, Phone (the primary phone number, e.g. "+4512345678") or
// ExternalID. Setting more than one filter is refused locally with
// ErrBadRequest, as Dixa would refuse it.
type ListOptions struct {
	PageLimit  int
	PageKey    string
	Email      string
	Phone      string
	ExternalID string
}

// Page is one page of a list. NextKey and PrevKey are the pageKey cursors
// of the following and preceding pages ("" when there is none); pass them
// back in PageOptions.PageKey / ListOptions.PageKey.
type Page[T any] struct {
	Items   []T
	NextKey string
	PrevKey string
}

// listEnvelope is Dixa's paginated response body.
type listEnvelope[T any] struct {
	Data []T `json:"data"`
	Meta struct {
		Next     string `json:"next"`
		Previous string `json:"previous"`
	} `json:"meta"`
}

// pageQuery builds the query of a page request.
func pageQuery(limit int, key string) url.Values {
	q := url.Values{}
	if limit > 0 {
		q.Set("pageLimit", strconv.Itoa(limit))
	}
	if key != "" {
		q.Set("pageKey", key)
	}
	return q
}

// listPage fetches one page and turns meta links into page keys.
func listPage[T any](ctx context.Context, c *Client, r call) (Page[T], error) {
	var env listEnvelope[T]
	r.out = &env
	if err := c.do(ctx, r); err != nil {
		return Page[T]{}, err
	}
	return Page[T]{
		Items:   env.Data,
		NextKey: c.pageKey(ctx, r.route, env.Meta.Next),
		PrevKey: c.pageKey(ctx, r.route, env.Meta.Previous),
	}, nil
}

// pageKey extracts the pageKey from a meta link. Dixa documents the link
// only as a "url"; clients in the wild see a relative one
// ("/v1/endusers?pageKey=abc"), so both relative and absolute links are
// accepted, but an absolute link to another host is ignored (and logged):
// the client only ever talks to its base URL's host.
func (c *Client) pageKey(ctx context.Context, route, link string) string {
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "dixa pagination link unparsable; treating as last page",
			slog.String("route", route))
		return ""
	}
	if u.IsAbs() || u.Host != "" {
		if !strings.EqualFold(u.Host, c.base.Host) {
			c.log.LogAttrs(ctx, slog.LevelWarn, "dixa pagination link points to another host; treating as last page",
				slog.String("route", route), slog.String("host", u.Host))
			return ""
		}
	}
	return rawQueryParam(u.RawQuery, "pageKey")
}

// rawQueryParam returns the first value of name in a raw query. Unlike
// url.Values it leaves '+' alone: page keys are Base64, whose '+' a server
// may not escape, and a key never contains a space.
func rawQueryParam(rawQuery, name string) string {
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k != name {
			continue
		}
		if s, err := url.PathUnescape(v); err == nil {
			return s
		}
		return v
	}
	return ""
}

// pages iterates over the items of successive pages. It stops after the
// last page, on an empty page even if it claims a next one, when a page
// repeats the key it was fetched with (a loop), on the first error (yielded
// once, with the zero item) and when the consumer stops.
func pages[T any](ctx context.Context, first string, fetch func(ctx context.Context, key string) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		key := first
		for {
			p, err := fetch(ctx, key)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if len(p.Items) == 0 || p.NextKey == "" || p.NextKey == key {
				return
			}
			key = p.NextKey
		}
	}
}
