package customer

import "strings"

// Refusal is a reason Dixa gives for refusing a customer's values (a code
// such as "PhoneNumberExists" inside its message), the field it concerns,
// the field to name instead when the person changed that one and not
// Field, and a message of the console's own: Dixa's text is never shown as
// such.
type Refusal struct {
	Code         string
	Field, Other Field
	Msg          string
}

func refusals() []Refusal {
	return []Refusal{
		{"PhoneNumberExists", PhoneNumber, AdditionalPhoneNumbers, "Dixa says another customer already has this phone number (PhoneNumberExists)."},
		{"EmailExists", Email, "", "Dixa says another customer already has this email address (EmailExists)."},
		{"Duplicate email address", Email, "", "Dixa says another customer already has this email address."},
		{"InvalidPhoneNumber", PhoneNumber, AdditionalPhoneNumbers, "Dixa did not accept this phone number (InvalidPhoneNumber)."},
		{"InvalidEmail", Email, AdditionalEmails, "Dixa did not accept this email address (InvalidEmail)."},
		{"DuplicatePhoneNumber", AdditionalPhoneNumbers, PhoneNumber, "Dixa says a phone number is listed twice (DuplicatePhoneNumber)."},
		{"DuplicateEmail", AdditionalEmails, Email, "Dixa says an email address is listed twice (DuplicateEmail)."},
		{"DisplayNameRequired", DisplayName, "", "Dixa needs a display name (DisplayNameRequired)."},
	}
}

// Refusals lists the reasons known to the console found in a message of
// Dixa's refusing a customer's values.
func Refusals(message string) []Refusal {
	var out []Refusal
	for _, r := range refusals() {
		if strings.Contains(message, r.Code) {
			out = append(out, r)
		}
	}
	return out
}
