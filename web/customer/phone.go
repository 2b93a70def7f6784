package customer

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// phone checks and normalises a phone number to E.164 (see NormalizePhone).
func (r Rules) phone(f Field, v string) (string, error) {
	e164, _, err := r.readPhone(f, v)
	return e164, err
}

// readPhone is phone, also reporting whether the number had no country
// code and was read in the default region. A refusal of a number without
// a country code names that region's country.
func (r Rules) readPhone(f Field, v string) (e164 string, inRegion bool, err error) {
	if n := utf8.RuneCountInString(v); n > MaxPhoneLen {
		return "", false, refuse(f, ErrTooLong, "That phone number is too long: use at most %d characters (this has %d).", MaxPhoneLen, n)
	}
	if HasControl(v) {
		return "", false, refuse(f, ErrControl, "Remove line breaks and control characters.")
	}
	n, err := phonenumbers.ParseAndKeepRawInput(v, r.Region)
	if err != nil {
		if t := strings.TrimSpace(v); !strings.HasPrefix(t, "+") && !strings.HasPrefix(t, "00") {
			return "", false, refuse(f, ErrPhone, "That is not a phone number the console can read (a number without a country code is %s). Use the international form, such as %s.", PhoneHint(r.Region), r.example())
		}
		return "", false, refuse(f, ErrPhone, "That is not a phone number the console can read. Use the international form, such as %s.", r.example())
	}
	inRegion = n.GetCountryCodeSource() == phonenumbers.PhoneNumber_FROM_DEFAULT_COUNTRY
	if !phonenumbers.IsPossibleNumber(n) {
		if inRegion {
			return "", true, refuse(f, ErrPhone, "That phone number has the wrong number of digits: it was %s.", PhoneHint(r.Region))
		}
		return "", false, refuse(f, ErrPhone, "That phone number has the wrong number of digits for its country.")
	}
	return phonenumbers.Format(n, phonenumbers.E164), inRegion, nil
}

// NormalizePhone reads a phone number typed in any common form ("+45 20 12
// 34 56", "0045 20123456", "20 12 34 56" with region DK) and returns it in
// E.164. A refusal is an *apperr.Error.
func NormalizePhone(s, region string) (string, error) {
	s = trimSpace(s)
	if s == "" {
		return "", refuse(PhoneNumber, ErrPhone, "Enter a phone number.")
	}
	return Rules{Region: region}.phone(PhoneNumber, s)
}

// example is a phone number of the default region in international form.
func (r Rules) example() string {
	if n := phonenumbers.GetExampleNumber(r.Region); n != nil {
		return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	}
	return "+45 20 12 34 56"
}

// PhoneInternational shows a number held in E.164 in the international
// format of its country ("+4535753719" → "+45 35 75 37 19"). A value that
// is not a readable number is returned as it is.
func PhoneInternational(e164 string) string {
	if !strings.HasPrefix(e164, "+") {
		return e164
	}
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// PhoneHint says how a number without a country code is read, naming the
// default region's country and how to give another one: "read as a Danish
// number; add +49 for Germany".
func PhoneHint(region string) string {
	other := "DE"
	if strings.EqualFold(region, "DE") {
		other = "GB"
	}
	code := phonenumbers.GetCountryCodeForRegion(other)
	return "read as " + regionNumber(region) + "; add +" + strconv.Itoa(code) + " for " + RegionName(other)
}

// RegionName is the English name of a region's country ("DK" → "Denmark");
// the code itself when it names no country.
func RegionName(region string) string {
	reg, err := language.ParseRegion(region)
	if err != nil {
		return region
	}
	if name := display.English.Regions().Name(reg); name != "" && name != "Unknown Region" {
		if reg.String() == "GB" || reg.String() == "US" || reg.String() == "NL" {
			return "the " + name
		}
		return name
	}
	return region
}

// regionNumber is "a Danish number", or "a number from <country>" for a
// region without an adjective here.
func regionNumber(region string) string {
	adjectives := map[string]string{
		"DK": "Danish", "SE": "Swedish", "NO": "Norwegian", "FI": "Finnish", "IS": "Icelandic",
		"DE": "German", "AT": "Austrian", "CH": "Swiss", "NL": "Dutch", "BE": "Belgian",
		"FR": "French", "ES": "Spanish", "PT": "Portuguese", "IT": "Italian", "IE": "Irish",
		"GB": "British", "US": "US", "CA": "Canadian", "PL": "Polish", "EE": "Estonian",
		"LV": "Latvian", "LT": "Lithuanian", "AU": "Australian", "NZ": "New Zealand",
	}
	if a, ok := adjectives[strings.ToUpper(region)]; ok {
		return "a " + a + " number"
	}
	return "a number from " + RegionName(region)
}
