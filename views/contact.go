package views

import (
	"strings"

	"github.com/a-h/templ"
	"github.com/nyaruka/phonenumbers"
)

// PhoneFormats returns a stored phone number (E.164, "+4535753719") in
// international format for people ("+45 35 75 37 19") and in E.164 for
// tel: links and copying. ok is false for a value the phone library cannot
// read as an international number; it is then shown as it is.
func PhoneFormats(s string) (intl, e164 string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") || len(s) > 32 {
		return s, "", false
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return s, "", false
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL), phonenumbers.Format(n, phonenumbers.E164), true
}

// mailtoURL is a mailto: URL for a value that looks like one plain email
// address, else "": customers write their own addresses, so nothing that
// could add a header, a second recipient or another scheme becomes a link.
func mailtoURL(s string) templ.SafeURL {
	at := strings.IndexByte(s, '@')
	if len(s) > 320 || at < 1 || at != strings.LastIndexByte(s, '@') || at == len(s)-1 {
		return ""
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`"<>()[]\,;:%?#&/`+"`", r) || (r >= 0x80 && r <= 0x9f) || (r >= 0x200b && r <= 0x206f) || r == 0xfeff {
			return ""
		}
	}
	return templ.SafeURL("mailto:" + s)
}
