package customer

import (
	"errors"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/apperr"
)

// OfLen returns a valid value of field f that is n characters long, for
// tests at the limits (names, emails, phone numbers as typed, URLs).
func ofLen(f Field, n int) string {
	switch f.kind() {
	case kindEmail:
		local := strings.Repeat("a", min(64, n-len("@example.com")))
		rest := n - len(local) - len("@example.com")
		var labels []string
		for rest > 0 {
			l := min(rest, 50)
			if rest-l == 1 { // a label must keep its dot and at least one letter
				l--
			}
			labels = append(labels, strings.Repeat("b", l-1))
			rest -= l
		}
		domain := "example.com"
		if len(labels) > 0 {
			domain = strings.Join(labels, ".") + "." + domain
		}
		return local + "@" + domain
	case kindPhone:
		return "+45" + strings.Repeat(" ", n-len("+4520123456")) + "20123456"
	case kindURL:
		return "https://example.com/" + strings.Repeat("p", n-len("https://example.com/"))
	}
	return strings.Repeat("é", n)
}

func TestOfLen(t *testing.T) {
	for _, f := range Fields() {
		for _, n := range []int{f.MaxLen(), f.MaxLen() + 1} {
			if got := len([]rune(ofLen(f, n))); got != n {
				t.Errorf("ofLen(%s, %d) has %d characters", f, n, got)
			}
		}
	}
}

// Every field at its bound is accepted, one character over refused with
// ErrTooLong on that field; a list takes MaxListItems items, not one more.
func TestFieldBounds(t *testing.T) {
	r := New("DK")
	for _, f := range Fields() {
		t.Run(string(f), func(t *testing.T) {
			at, over := ofLen(f, f.MaxLen()), ofLen(f, f.MaxLen()+1)
			if _, err := r.Values(f, []string{at}); err != nil {
				t.Errorf("%d characters refused: %v", f.MaxLen(), err)
			}
			_, err := r.Values(f, []string{over})
			if e, ok := apperr.As(err); !ok || !errors.Is(err, ErrTooLong) || e.Field != string(f) || e.Code != apperr.Invalid {
				t.Errorf("%d characters: got %v, want ErrTooLong on %s", f.MaxLen()+1, err, f)
			}
			if !f.List() {
				return
			}
			items := make([]string, MaxListItems+1)
			for i := range items {
				items[i] = distinct(f, i)
			}
			if _, err := r.List(f, items[:MaxListItems]); err != nil {
				t.Errorf("%d items refused: %v", MaxListItems, err)
			}
			if _, err := r.List(f, items); !errors.Is(err, ErrTooMany) {
				t.Errorf("%d items: got %v, want ErrTooMany", MaxListItems+1, err)
			}
		})
	}
	if _, err := AttrText(textDef(), strings.Repeat("x", MaxAttrTextLen)); err != nil {
		t.Errorf("Text attribute at the bound refused: %v", err)
	}
	if _, err := AttrText(textDef(), strings.Repeat("x", MaxAttrTextLen+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Text attribute over the bound: %v, want ErrTooLong", err)
	}
}

// distinct is the i-th of a set of different valid values of f.
func distinct(f Field, i int) string {
	switch f.kind() {
	case kindEmail:
		return "p" + strings.Repeat("x", i) + "@example.com"
	case kindPhone:
		return "+4520" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "3456"
	}
	return "Name" + strings.Repeat("x", i)
}

func TestValues(t *testing.T) {
	r := New("DK")
	for _, tc := range []struct {
		f      Field
		in     string
		want   string
		reason error
	}{
		{DisplayName, "  Ann  ", "Ann", nil},
		{DisplayName, "", "", nil},
		{FirstName, "Ångström \u202eRTL", "Ångström \u202eRTL", nil},
		{FirstName, "line\x07bell", "", ErrControl},
		{FirstName, "two\nlines", "", ErrControl},
		{LastName, "tab\there", "", ErrControl},
		{ExternalID, "\xff\xfe", "", ErrControl},
		{Email, "ann@example.com", "ann@example.com", nil},
		{Email, "Ann.B+tag@sub.example.co.uk", "Ann.B+tag@sub.example.co.uk", nil},
		{Email, "not-an-email", "", ErrEmail},
		{Email, "Name <a@b.example>", "", ErrEmail},
		{Email, "a@b", "", ErrEmail},
		{Email, "a@.example.com", "", ErrEmail},
		{Email, "a@example..com", "", ErrEmail},
		{Email, "a b@example.com", "", ErrEmail},
		{Email, `"a"@example.com`, "", ErrEmail},
		{Email, "a@b@example.com", "", ErrEmail},
		{PhoneNumber, "+45 20 12 34 56", "+4520123456", nil},
		{PhoneNumber, "0045 20123456", "+4520123456", nil},
		{PhoneNumber, "20 12 34 56", "+4520123456", nil},
		{PhoneNumber, "12", "", ErrPhone},
		{PhoneNumber, "abc", "", ErrPhone},
		{AvatarURL, "https://files.example/a.png", "https://files.example/a.png", nil},
		{AvatarURL, "javascript:alert(1)", "", ErrURL},
		{AvatarURL, "ftp://files.example/a.png", "", ErrURL},
		{AvatarURL, "https://user:pw@files.example/a.png", "", ErrURL},
		{AvatarURL, "/relative.png", "", ErrURL},
	} {
		got, err := r.Value(tc.f, tc.in)
		if tc.reason == nil {
			if err != nil || got != tc.want {
				t.Errorf("Value(%s, %q) = %q, %v; want %q", tc.f, tc.in, got, err, tc.want)
			}
			continue
		}
		e, ok := apperr.As(err)
		if !errors.Is(err, tc.reason) || !ok || e.Field != string(tc.f) || e.Msg == "" {
			t.Errorf("Value(%s, %q): %v; want %v on the field with a message", tc.f, tc.in, err, tc.reason)
		}
	}
}

func TestListRules(t *testing.T) {
	r := New("DK")
	for _, tc := range []struct {
		f      Field
		in     []string
		want   string
		reason error
	}{
		{MiddleNames, []string{" Ann ", "", "Ann"}, "Ann|Ann", nil},
		{AdditionalEmails, []string{"a@b.example", "A@b.example"}, "", ErrDuplicate},
		{AdditionalPhoneNumbers, []string{"+45 20 12 34 56", "004520123456"}, "", ErrDuplicate},
		{AdditionalPhoneNumbers, []string{"20 12 34 56", "+44 7700 900123"}, "+4520123456|+447700900123", nil},
		{AdditionalEmails, []string{"a@b.example", "nope"}, "", ErrEmail},
		{MiddleNames, []string{"x\x00"}, "", ErrControl},
	} {
		got, err := r.List(tc.f, tc.in)
		if tc.reason != nil {
			if !errors.Is(err, tc.reason) {
				t.Errorf("List(%s, %q): %v, want %v", tc.f, tc.in, err, tc.reason)
			}
			continue
		}
		if err != nil || strings.Join(got, "|") != tc.want {
			t.Errorf("List(%s, %q) = %q, %v; want %s", tc.f, tc.in, got, err, tc.want)
		}
	}
	// The message names the refused item.
	_, err := r.List(AdditionalEmails, []string{"ok@b.example", "nope"})
	if !strings.Contains(apperr.Message(err, ""), "“nope”") {
		t.Errorf("message %q does not name the item", apperr.Message(err, ""))
	}
}

func TestCrossCheck(t *testing.T) {
	ch := func(f Field, changed bool, v ...string) Change {
		if changed {
			return Change{Field: f, Base: []string{"old"}, Yours: v, Changed: true}
		}
		return Change{Field: f, Base: v}
	}
	for _, tc := range []struct {
		name    string
		changes []Change
		field   Field // "" for no refusal
	}{
		{"phone repeated, list changed", []Change{ch(PhoneNumber, false, "+4520123456"), ch(AdditionalPhoneNumbers, true, "+4520123456")}, AdditionalPhoneNumbers},
		{"phone repeated, primary changed", []Change{ch(PhoneNumber, true, "+4520123456"), ch(AdditionalPhoneNumbers, false, "+4520123456")}, PhoneNumber},
		{"email in other case", []Change{ch(Email, true, "A@b.example"), ch(AdditionalEmails, true, "a@b.example")}, AdditionalEmails},
		{"neither changed", []Change{ch(Email, false, "a@b.example"), ch(AdditionalEmails, false, "a@b.example")}, ""},
		{"list absent (refused)", []Change{ch(Email, true, "a@b.example")}, ""},
		{"different values", []Change{ch(PhoneNumber, true, "+4520123456"), ch(AdditionalPhoneNumbers, true, "+4520123457")}, ""},
	} {
		errs := CrossCheck(tc.changes)
		switch {
		case tc.field == "" && len(errs) != 0:
			t.Errorf("%s: %v, want none", tc.name, errs)
		case tc.field != "" && (len(errs) != 1 || errs[0].Field != string(tc.field) || !errors.Is(errs[0], ErrDuplicate)):
			t.Errorf("%s: %v, want one on %s", tc.name, errs, tc.field)
		}
	}
}

func TestIDs(t *testing.T) {
	if id, err := ID("id", " 3F1C9A7E-0B7D-4C55-9A39-2F1E8F6B1D2A "); err != nil || id != "3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a" {
		t.Errorf("ID = %q, %v", id, err)
	}
	for _, s := range []string{"", "3f1c9a7e0b7d4c559a392f1e8f6b1d2a", "{3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a}", "not-a-uuid"} {
		if ValidID(s) {
			t.Errorf("ValidID(%q) = true", s)
		}
		if _, err := ID("id", s); !errors.Is(err, ErrID) {
			t.Errorf("ID(%q): %v, want ErrID", s, err)
		}
	}
}
