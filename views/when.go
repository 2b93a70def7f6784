package views

import (
	"context"
	"time"
)

// The console's one date style: "4 Dec 2026, 14:05" for an instant,
// "4 Dec 2026" for a calendar day. whenExact is the tooltip: the instant to
// the second, in UTC.
const (
	whenLayout = "2 Jan 2006, 15:04"
	dayLayout  = "2 Jan 2006"
	whenExact  = "2 Jan 2006, 15:04:05 UTC"
)

// WhenText is an instant in the console's date style, in the viewer's time
// zone (Chrome.Zone) when the browser told it, else in UTC with the label
// "UTC". A zero time is "—".
func WhenText(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if z := ChromeFrom(ctx).Zone; z != nil {
		return t.In(z).Format(whenLayout)
	}
	return t.UTC().Format(whenLayout) + " UTC"
}

// whenLocal reports whether instants are shown in the viewer's own zone.
func whenLocal(ctx context.Context) bool { return ChromeFrom(ctx).Zone != nil }
