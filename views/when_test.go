package views

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestWhen(t *testing.T) {
	at := time.Date(2026, 12, 4, 14, 5, 33, 0, time.UTC)
	cph, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		zone *time.Location
		want string
	}{
		{"zone unknown", nil, `<time datetime="2026-12-04T14:05:33Z" title="4 Dec 2026, 14:05:33 UTC">4 Dec 2026, 14:05 UTC</time>`},
		{"viewer in Copenhagen", cph, `<time datetime="2026-12-04T14:05:33Z" title="4 Dec 2026, 14:05:33 UTC" data-local>4 Dec 2026, 15:05</time>`},
	} {
		ctx := WithChrome(context.Background(), Chrome{Zone: c.zone})
		var b strings.Builder
		if err := When(at).Render(ctx, &b); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%s: When renders %s, want %s", c.name, b.String(), c.want)
		}
	}
	var b strings.Builder
	if err := When(time.Time{}).Render(context.Background(), &b); err != nil || !strings.Contains(b.String(), "—") || strings.Contains(b.String(), "0001") {
		t.Errorf("the zero time renders %q (%v)", b.String(), err)
	}
	b.Reset()
	if err := Day(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)).Render(context.Background(), &b); err != nil || b.String() != `<time datetime="2026-12-04">4 Dec 2026</time>` {
		t.Errorf("Day renders %q (%v)", b.String(), err)
	}
}
