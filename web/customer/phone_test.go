package customer

import (
	"errors"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/apperr"
)

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+45 20 12 34 56":   "+4520123456",
		"0045 20123456":     "+4520123456",
		"20 12 34 56":       "+4520123456",
		"+4520123456":       "+4520123456",
		"(+45) 20-12-34.56": "+4520123456",
		"+44 7700 900123":   "+447700900123",
	} {
		if got, err := NormalizePhone(in, "DK"); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12", "abc", strings.Repeat("1", MaxPhoneLen+1)} {
		if _, err := NormalizePhone(in, "DK"); err == nil {
			t.Errorf("NormalizePhone(%q): no error", in)
		} else if _, ok := apperr.As(err); !ok {
			t.Errorf("NormalizePhone(%q): %T, want *apperr.Error", in, err)
		}
	}
}

// A number without a country code that does not fit is explained with the
// default region's country.
func TestPhoneMessagesNameTheRegion(t *testing.T) {
	_, err := New("DK").Value(PhoneNumber, "123")
	if msg := apperr.Message(err, ""); !errors.Is(err, ErrPhone) || !strings.Contains(msg, "read as a Danish number; add +49 for Germany") {
		t.Errorf("message %q does not name the region", msg)
	}
	_, err = New("DK").Value(PhoneNumber, "+45 123")
	if msg := apperr.Message(err, ""); strings.Contains(msg, "Danish") {
		t.Errorf("message %q names the default region for a number with a country code", msg)
	}
}

func TestPhoneHint(t *testing.T) {
	for region, want := range map[string]string{
		"DK": "read as a Danish number; add +49 for Germany",
		"de": "read as a German number; add +44 for the United Kingdom",
		"BR": "read as a number from Brazil; add +49 for Germany",
	} {
		if got := PhoneHint(region); got != want {
			t.Errorf("PhoneHint(%s) = %q, want %q", region, got, want)
		}
	}
	if got := RegionName("SE"); got != "Sweden" {
		t.Errorf("RegionName(SE) = %q", got)
	}
}

func TestPhoneInternational(t *testing.T) {
	for in, want := range map[string]string{
		"+4535753719":   "+45 35 75 37 19",
		"+447700900123": "+44 7700 900123",
		"+12025550100":  "+1 202-555-0100",
		"35753719":      "35753719", // not E.164: as it is
		"+":             "+",
		"":              "",
	} {
		if got := PhoneInternational(in); got != want {
			t.Errorf("PhoneInternational(%q) = %q, want %q", in, got, want)
		}
	}
}
