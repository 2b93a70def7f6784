// Package views holds the console's templ components and their typed view
// models. Components never see an upstream error or a raw map: handlers build
// one view model per screen.
package views

import (
	"context"
	"github.com/example/dixa-console/web/role"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// Chrome is what every page's frame needs: where the console is mounted,
// asset URLs, who is signed in, and the search box state. The web layer puts
// it in the request context; components read it with ChromeFrom.
type Chrome struct {
	BasePath string
	CSSURL   string
	JSURL    string
	HTMXURL  string
	// HTMXConfig is the JSON of the htmx-config meta tag.
	HTMXConfig string

	UserName string
	UserID   string
	Role     role.Role // "" when signed out
	Demo     bool      // dev sign-in against the embedded simulator
	// Zone is the viewer's time zone as their browser reported it; nil
	// when unknown (dates are then shown in UTC, labelled).
	Zone *time.Location

	// Search box.
	Query string
	By    string
	// LiveSearch is set on a page that shows the results region
	// (#results): the search box then updates it in place as you type.
	// Elsewhere the box is a plain form that opens the customer list.
	LiveSearch bool
	// Section is the nav entry to mark current: "endusers", "erasures", "imports", "audit".
	Section string
}

type chromeKey struct{}

// WithChrome returns a context carrying c.
func WithChrome(ctx context.Context, c Chrome) context.Context {
	return context.WithValue(ctx, chromeKey{}, c)
}

// ChromeFrom returns the Chrome in ctx (the zero Chrome if none).
func ChromeFrom(ctx context.Context) Chrome {
	c, _ := ctx.Value(chromeKey{}).(Chrome)
	return c
}

// Path returns a console path ("/endusers") under the base path, as a
// string for hx-* attributes and redirects.
func Path(ctx context.Context, p string) string {
	return ChromeFrom(ctx).BasePath + p
}

// URL is Path as a templ.SafeURL for href and action attributes. Only the
// console's own paths go through it, never upstream data.
func URL(ctx context.Context, p string) templ.SafeURL {
	return templ.SafeURL(Path(ctx, p))
}

// Can reports whether the signed-in role is at least min (viewer < agent < lead).
func Can(ctx context.Context, min role.Role) bool {
	return ChromeFrom(ctx).Role.AtLeast(min)
}

// SafeHTTPURL returns u as a URL usable in src/href only when it is an
// absolute http(s) URL; otherwise "" (customers write their own avatar URLs).
func SafeHTTPURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") || p.User != nil {
		return ""
	}
	return p.String()
}

// WithQuery adds query parameters to a console path, dropping empty ones.
func WithQuery(p string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return p
	}
	return p + "?" + q.Encode()
}

func itoa(i int) string { return strconv.Itoa(i) }
