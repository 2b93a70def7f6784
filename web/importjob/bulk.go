package importjob

import (
	"regexp"
	"strings"

	"github.com/example/dixa-console/apiclient"
)

var errorCodes = regexp.MustCompile(`errors[=:]\s*([A-Za-z, ]+)`)

// codeText says what Dixa's validation codes mean.
var codeText = map[string]string{
	"PhoneNumberExists": "a customer with this phone number already exists in Dixa",
	"EmailExists":       "a customer with this email already exists in Dixa",
	"InvalidEmail":      "Dixa did not accept an email address",
	"InvalidPhone":      "Dixa did not accept a phone number",
	"DuplicatePhone":    "a phone number is given twice",
	"DuplicateEmail":    "an email address is given twice",
	"DisplayNameEmpty":  "the display name is empty",
}

// DescribeBulkError turns a failed bulk item into a sentence that is safe
// to show: the kind and Dixa's validation codes, never the raw message.
func DescribeBulkError(e *apiclient.BulkError) string {
	if e == nil {
		return "Dixa refused this row without saying why."
	}
	switch e.Type {
	case apiclient.BulkErrNotFound:
		return "Dixa has no customer with this id."
	case apiclient.BulkErrEmptyPatchSet:
		return "Nothing to change."
	case apiclient.BulkErrInfrastructure:
		return "Dixa had an internal problem with this row; try it again later."
	}
	var parts []string
	if m := errorCodes.FindStringSubmatch(e.Message); m != nil {
		for _, c := range strings.Split(m[1], ",") {
			c = strings.TrimSpace(c)
			if t, ok := codeText[c]; ok {
				parts = append(parts, t)
			} else if c != "" {
				parts = append(parts, c)
			}
		}
	}
	kind := e.Type
	if kind == "" {
		kind = "Error"
	}
	if len(parts) == 0 {
		return "Dixa refused this row (" + kind + ")."
	}
	s := strings.Join(parts, "; ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// createInput turns a patch into a create body (nil fields are left out).
func createInput(p apiclient.PatchEndUserInput) apiclient.CreateEndUserInput {
	s := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	l := func(v *[]string) []string {
		if v == nil {
			return nil
		}
		return *v
	}
	return apiclient.CreateEndUserInput{
		DisplayName: s(p.DisplayName), Email: s(p.Email), PhoneNumber: s(p.PhoneNumber),
		AdditionalEmails: l(p.AdditionalEmails), AdditionalPhoneNumbers: l(p.AdditionalPhoneNumbers),
		FirstName: s(p.FirstName), LastName: s(p.LastName), MiddleNames: l(p.MiddleNames),
		AvatarURL: s(p.AvatarURL), ExternalID: s(p.ExternalID),
	}
}
