package views

import (
	"context"
	"strings"
	"testing"
)

func TestPhoneFormats(t *testing.T) {
	for _, c := range []struct {
		in, intl, e164 string
		ok             bool
	}{
		{"+4535753719", "+45 35 75 37 19", "+4535753719", true},
		{"+46701234567", "+46 70 123 45 67", "+46701234567", true},
		{" +45 3575 3719 ", "+45 35 75 37 19", "+4535753719", true},
		{"35753719", "35753719", "", false}, // no country code: shown as stored
		{"+1", "+1", "", false},
		{"+45 35<script>", "+45 35<script>", "", false},
	} {
		intl, e164, ok := PhoneFormats(c.in)
		if intl != c.intl || e164 != c.e164 || ok != c.ok {
			t.Errorf("PhoneFormats(%q) = %q, %q, %v; want %q, %q, %v", c.in, intl, e164, ok, c.intl, c.e164, c.ok)
		}
	}
}

func TestMailtoURL(t *testing.T) {
	for in, want := range map[string]string{
		"ann@example.com":                     "mailto:ann@example.com",
		"ann.o'hara@example.com":              "mailto:ann.o'hara@example.com",
		"ann@example.com?cc=boss@example.com": "",
		"ann@example.com&body=x":              "",
		"javascript:alert(1)//@example.com":   "",
		"ann @example.com":                    "",
		"@example.com":                        "",
		"ann@":                                "",
		"ann@b@example.com":                   "",
		"ann\u202e@example.com":               "",
		"plain text":                          "",
	} {
		if got := string(mailtoURL(in)); got != want {
			t.Errorf("mailtoURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCopyIDWithoutScript(t *testing.T) {
	var b strings.Builder
	if err := CopyID("de000000-0000-4000-8000-000000000005", "profile-id").Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{`<code class="id" data-testid="profile-id">de000000-0000-4000-8000-000000000005</code>`, ` hidden>Copy</button>`} {
		if !strings.Contains(got, want) {
			t.Errorf("CopyID renders %s, want it to contain %s", got, want)
		}
	}
}
