package erasure

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/example/dixa-console/apiclient"
)

// maxConversationPages bounds how far the preview and the verification
// read a customer's conversations (100 a page).
const maxConversationPages = 50

// errTooManyPages: the customer has more conversations than are read.
var errTooManyPages = errors.New("erasure: too many conversation pages")

// conversations reads every conversation of a customer; before each page
// it calls before (nil: nothing), which may stop the reading with an
// error.
func conversations(ctx context.Context, api Dixa, id string, before func() error) ([]apiclient.Conversation, error) {
	var out []apiclient.Conversation
	key := ""
	for range maxConversationPages {
		if before != nil {
			if err := before(); err != nil {
				return out, err
			}
		}
		p, err := api.ListEndUserConversations(ctx, id, apiclient.PageOptions{PageLimit: 100, PageKey: key})
		if err != nil {
			return out, err
		}
		out = append(out, p.Items...)
		if p.NextKey == "" || p.NextKey == key {
			return out, nil
		}
		key = p.NextKey
	}
	return out, errTooManyPages
}

// openIDs lists the conversations that are neither closed nor anonymized.
func openIDs(convs []apiclient.Conversation) []int64 {
	var open []int64
	for _, c := range convs {
		if c.IsOpen() {
			open = append(open, c.ID)
		}
	}
	return open
}

// identifier is one of a customer's identifiers, by kind ("email",
// "phone", "externalId").
type identifier struct{ kind, value string }

// identifiers lists a customer's identifiers by kind, deduplicated.
func identifiers(u apiclient.EndUser) []identifier {
	var out []identifier
	seen := map[string]bool{}
	add := func(kind, v string) {
		v = strings.TrimSpace(v)
		k := kind + ":" + strings.ToLower(v)
		if v == "" || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, identifier{kind, v})
	}
	add("email", u.Email)
	for _, e := range u.AdditionalEmails {
		add("email", e)
	}
	add("phone", u.PhoneNumber)
	for _, p := range u.AdditionalPhoneNumbers {
		add("phone", p)
	}
	add("externalId", u.ExternalID)
	return out
}

// digests are the keyed hashes kept with a request: enough to answer "was
// this person erased?" and to verify the erasure later, without keeping
// who they were.
func digests(st Store, u apiclient.EndUser) []string {
	var out []string
	for _, id := range identifiers(u) {
		out = append(out, st.IdentifierDigest(id.kind, id.value))
	}
	out = append(out, st.IdentifierDigest("id", u.ID))
	if u.DisplayName != "" {
		out = append(out, st.IdentifierDigest("name", u.DisplayName))
	}
	return out
}

// scrubValues are the texts by which the console's own records may hold
// the person: emails, phone numbers, names and the external id. Names
// shorter than three characters are left out: blanking every record that
// contains "Al" would erase other people's data.
func scrubValues(u apiclient.EndUser) []string {
	var out []string
	for _, id := range identifiers(u) {
		out = append(out, id.value)
	}
	names := append([]string{u.DisplayName, u.FirstName, u.LastName}, u.MiddleNames...)
	for _, n := range names {
		if n = strings.TrimSpace(n); len([]rune(n)) >= 3 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// leftoverFields names the personal fields of u that are not blank.
func leftoverFields(u apiclient.EndUser) []string {
	var out []string
	for name, set := range map[string]bool{
		"email": u.Email != "", "phoneNumber": u.PhoneNumber != "", "additionalEmails": len(u.AdditionalEmails) > 0,
		"additionalPhoneNumbers": len(u.AdditionalPhoneNumbers) > 0, "firstName": u.FirstName != "", "lastName": u.LastName != "",
		"middleNames": len(u.MiddleNames) > 0, "avatarUrl": u.AvatarURL != "", "externalId": u.ExternalID != "",
	} {
		if set {
			out = append(out, name)
		}
	}
	for _, a := range u.CustomAttributes {
		if a.Value.IsSet {
			out = append(out, "customAttributes")
			break
		}
	}
	slices.Sort(out)
	return out
}
