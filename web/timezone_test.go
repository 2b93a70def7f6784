package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestViewerZone(t *testing.T) {
	for cookie, want := range map[string]string{
		"":                              "",
		"tz=Europe/Copenhagen":          "Europe/Copenhagen",
		"tz=America/Argentina/Salta":    "America/Argentina/Salta",
		"tz=Etc/GMT+5":                  "Etc/GMT+5",
		"tz=UTC":                        "", // shown as UTC, labelled
		"tz=Local":                      "", // the server's own zone
		"tz=Mars/Olympus_Mons":          "", // no such zone
		"tz=../../../etc/passwd":        "",
		"tz=/usr/share/zoneinfo/UTC":    "",
		"tz=Europe//Copenhagen":         "",
		"tz=Europe/Copenhagen%00":       "",
		"tz=" + strings.Repeat("A", 65): "",
	} {
		r := httptest.NewRequest("GET", "/endusers", nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		got := ""
		if z := viewerZone(r); z != nil {
			got = z.String()
		}
		if got != want {
			t.Errorf("cookie %q: zone %q, want %q", cookie, got, want)
		}
	}
}
