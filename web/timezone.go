package web

import (
	"net/http"
	"time"
	// The zone database inside the binary: the container image has none.
	_ "time/tzdata"
)

// tzCookie is the cookie in which app.js reports the browser's time zone
// (an IANA name such as "Europe/Copenhagen").
const tzCookie = "tz"

// viewerZone is the time zone the browser reported, for showing dates in
// it, or nil when it reported none or one that is not a valid zone name
// (dates are then shown in UTC, labelled). The cookie is the browser's
// word, so the name is checked before the zone database sees it: at most
// 64 characters of letters, digits, '_', '+', '-' and single '/' (so no
// "." and no path tricks), and never "Local" (the server's own zone).
func viewerZone(r *http.Request) *time.Location {
	c, err := r.Cookie(tzCookie)
	if err != nil || !zoneName(c.Value) {
		return nil
	}
	loc, err := time.LoadLocation(c.Value)
	if err != nil || loc == time.UTC {
		return nil
	}
	return loc
}

func zoneName(s string) bool {
	if s == "" || len(s) > 64 || s == "Local" || s[0] == '/' {
		return false
	}
	prev := rune(0)
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '+' || r == '-' || r == '/'
		if !ok || (r == '/' && prev == '/') {
			return false
		}
		prev = r
	}
	return true
}
