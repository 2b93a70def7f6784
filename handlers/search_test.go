package handlers

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSearch(t *testing.T) {
	for _, tc := range []struct {
		q, by      string
		kind, want string
		bad        bool
	}{
		{q: "", kind: ""},
		{q: "  a@b.example ", kind: ByEmail, want: "a@b.example"},
		{q: "+45 20 12 34 56", kind: ByPhone, want: "+4520123456"},
		{q: "0045 20123456", kind: ByPhone, want: "+4520123456"},
		{q: "20 12 34 56", kind: ByPhone, want: "+4520123456"},
		{q: "(+45) 20-12-34.56", kind: ByPhone, want: "+4520123456"},
		{q: "+44 7700 900123", kind: ByPhone, want: "+447700900123"},
		{q: "3F1C9A7E-0B7D-4C55-9A39-2F1E8F6B1D2A", kind: ByID, want: "3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a"},
		{q: "#12345678", kind: ByExternalID, want: "#12345678"},
		{q: "12345", kind: ByExternalID, want: "12345"}, // too few digits for a phone
		{q: "ext-42", kind: ByExternalID, want: "ext-42"},
		{q: "20123456", by: ByExternalID, kind: ByExternalID, want: "20123456"},
		{q: "x", by: ByPhone, bad: true},
		{q: "not-a-uuid", by: ByID, bad: true},
		{q: "x", by: "name", bad: true},
		{q: strings.Repeat("a", MaxQueryLen+1), bad: true},
		{q: "a\x00b", bad: true},
	} {
		s, err := ParseSearch(tc.q, tc.by, "DK")
		var se *ErrSearch
		if tc.bad {
			if !errors.As(err, &se) || se.Msg == "" {
				t.Errorf("ParseSearch(%q, %q): got %v, want a search error", tc.q, tc.by, err)
			}
			continue
		}
		if err != nil || s.Kind != tc.kind || s.Value != tc.want {
			t.Errorf("ParseSearch(%q, %q) = %+v, %v; want %s %q", tc.q, tc.by, s, err, tc.kind, tc.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+45 20 12 34 56": "+4520123456",
		"0045 20123456":   "+4520123456",
		"20 12 34 56":     "+4520123456",
		"+4520123456":     "+4520123456",
	} {
		if got, err := NormalizePhone(in, "DK"); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12", "abc", strings.Repeat("1", 41)} {
		if _, err := NormalizePhone(in, "DK"); err == nil {
			t.Errorf("NormalizePhone(%q): no error", in)
		}
	}
}
