package customer

import (
	"strings"
	"testing"

	"github.com/example/dixa-console/web/apperr"
)

func TestParseSearch(t *testing.T) {
	for _, tc := range []struct {
		q, by string
		kind  SearchKind
		want  string
		field string // the refused input, "" when accepted
	}{
		{q: "", kind: SearchNone},
		{q: "  a@b.example ", kind: SearchEmail, want: "a@b.example"},
		{q: "+45 20 12 34 56", kind: SearchPhone, want: "+4520123456"},
		{q: "0045 20123456", kind: SearchPhone, want: "+4520123456"},
		{q: "20 12 34 56", kind: SearchPhone, want: "+4520123456"},
		{q: "(+45) 20-12-34.56", kind: SearchPhone, want: "+4520123456"},
		{q: "+44 7700 900123", kind: SearchPhone, want: "+447700900123"},
		{q: "3F1C9A7E-0B7D-4C55-9A39-2F1E8F6B1D2A", kind: SearchID, want: "3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a"},
		{q: "#12345678", kind: SearchExternalID, want: "#12345678"},
		{q: "12345", kind: SearchExternalID, want: "12345"}, // too few digits for a phone
		{q: "ext-42", kind: SearchExternalID, want: "ext-42"},
		{q: "20123456", by: "externalId", kind: SearchExternalID, want: "20123456"},
		{q: "a@b.example", by: "auto", kind: SearchEmail, want: "a@b.example"},
		{q: "x", by: "phone", field: "q"},
		{q: "not-a-uuid", by: "id", field: "q"},
		{q: "x", by: "name", field: "by"},
		{q: strings.Repeat("a", MaxQueryLen+1), field: "q"},
		{q: "a\x00b", field: "q"},
	} {
		s, err := New("DK").ParseSearch(tc.q, tc.by)
		if tc.field != "" {
			e, ok := apperr.As(err)
			if !ok || e.Field != tc.field || e.Code != apperr.Invalid || e.Msg == "" {
				t.Errorf("ParseSearch(%q, %q): got %v, want a refusal of %s", tc.q, tc.by, err, tc.field)
			}
			continue
		}
		if err != nil || s.Kind != tc.kind || s.Value != tc.want {
			t.Errorf("ParseSearch(%q, %q) = %+v, %v; want %s %q", tc.q, tc.by, s, err, tc.kind, tc.want)
		}
	}
}

func TestSearchListOptionsAndCreateField(t *testing.T) {
	for _, tc := range []struct {
		s      Search
		filter string
		create Field
	}{
		{Search{Kind: SearchEmail, Value: "a@b.example"}, "email", Email},
		{Search{Kind: SearchPhone, Value: "+4520123456"}, "phone", PhoneNumber},
		{Search{Kind: SearchExternalID, Value: "x"}, "externalId", ExternalID},
	} {
		lo := tc.s.ListOptions(25, "")
		got := map[string]string{"email": lo.Email, "phone": lo.Phone, "externalId": lo.ExternalID}
		for k, v := range got {
			if (k == tc.filter) != (v != "") {
				t.Errorf("%v: list options %+v, want only %s", tc.s, lo, tc.filter)
			}
		}
		if tc.s.CreateField() != tc.create {
			t.Errorf("%v: create field %s, want %s", tc.s, tc.s.CreateField(), tc.create)
		}
	}
	if lo := (Search{}).ListOptions(10, "k"); lo.Email+lo.Phone+lo.ExternalID != "" || lo.PageLimit != 10 || lo.PageKey != "k" {
		t.Errorf("no search: %+v", lo)
	}
	if SearchPhone.Label() != "phone number" || SearchID.Label() != "Dixa ID" {
		t.Error("labels")
	}
}

// An auto term that is nothing else becomes an external ID by default: it
// is searched on Enter, not while typing, and never offers "create a
// customer with it"; an external ID chosen as such does both.
func TestSearchFallbackAndCompleteness(t *testing.T) {
	for _, tc := range []struct {
		q, by              string
		fallback, complete bool
		offers             bool
		hint               string
	}{
		{q: "Jane Doe", fallback: true, hint: "press Enter to search external IDs"},
		{q: "ext-42", fallback: true, hint: "press Enter to search external IDs"},
		{q: "ext-42", by: "externalId", complete: true, offers: true},
		{q: "jane@", hint: "press Enter to search for this exact email"},
		{q: "jane@example", hint: "press Enter to search for this exact email"},
		{q: "jane@example.com", complete: true, offers: true},
		{q: "+45 20 12 34 56", complete: true, offers: true},
		{q: "3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a", complete: true},
	} {
		s, err := New("DK").ParseSearch(tc.q, tc.by)
		if err != nil {
			t.Fatalf("ParseSearch(%q, %q): %v", tc.q, tc.by, err)
		}
		if s.Fallback != tc.fallback || s.Complete() != tc.complete || s.OffersCreate() != tc.offers {
			t.Errorf("ParseSearch(%q, %q) = %+v: fallback %v complete %v offers %v; want %v %v %v",
				tc.q, tc.by, s, s.Fallback, s.Complete(), s.OffersCreate(), tc.fallback, tc.complete, tc.offers)
		}
		if !tc.complete && s.EnterHint() != tc.hint {
			t.Errorf("ParseSearch(%q, %q).EnterHint() = %q, want %q", tc.q, tc.by, s.EnterHint(), tc.hint)
		}
	}
}

// A phone number typed without a country code says how it was read; one
// with a country code does not.
func TestSearchPhoneHint(t *testing.T) {
	s, err := New("DK").ParseSearch("20 12 34 56", "")
	if err != nil || s.PhoneHint != "read as a Danish number; add +49 for Germany" {
		t.Errorf("national number: %+v, %v", s, err)
	}
	for _, q := range []string{"+45 20 12 34 56", "0045 20123456"} {
		if s, err := New("DK").ParseSearch(q, ""); err != nil || s.PhoneHint != "" {
			t.Errorf("%q: %+v, %v; want no region hint", q, s, err)
		}
	}
	_, err = New("DK").ParseSearch("abc", "phone")
	if msg := apperr.Message(err, ""); !strings.Contains(msg, "read as a Danish number; add +49 for Germany") {
		t.Errorf("unreadable national number: %q does not name the region", msg)
	}
}
func TestSearchComplete(t *testing.T) {
	r := New("DK")
	for _, c := range []struct {
		q, by string
		want  bool
	}{
		{"alice@brown.com", "", true},
		{"alice@brown.co.uk", "", true},
		{"alice@brown.c", "", false},
		{"alice@brown.co", "", false},
		{"alice@brown.ne", "", false},
		{"alice@brown.org", "", true},
		{"alice@brown.example", "", true},
		{"alice@brown.exampl", "", false},
		{"alice@brown", "", false},
		{"alice@", "", false},
		{"alice", "", false},
		{"alice", "email", false},
		{"+45 20 12 34 56", "", true},
		{"3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a", "", true},
		{"#12345678", "", false},
		{"", "", false},
	} {
		s, err := r.ParseSearch(c.q, c.by)
		if err != nil {
			t.Fatalf("%q: %v", c.q, err)
		}
		if got := s.Complete(); got != c.want {
			t.Errorf("%q by %q: Complete = %v, want %v", c.q, c.by, got, c.want)
		}
	}
}
