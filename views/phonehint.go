package views

import (
	"context"
	"slices"
)

// PhoneColumnsHint says how an import reads phone numbers without a
// country code, when its columns hold phone numbers ("" otherwise): "A
// phone number without a country code is read as a Danish number; add +49
// for Germany."
func PhoneColumnsHint(ctx context.Context, columns []string) string {
	hint := ChromeFrom(ctx).PhoneHint
	if hint == "" || !slices.ContainsFunc(columns, func(c string) bool { return c == "phoneNumber" || c == "additionalPhoneNumbers" }) {
		return ""
	}
	return "A phone number without a country code is " + hint + "."
}
