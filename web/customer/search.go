package customer

import (
	"strings"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/apperr"
)

// SearchKind is what a search term is read as (the by= parameter).
type SearchKind string

// The search kinds. SearchAuto decides from the term; a parsed Search has
// one of the others, or SearchNone for no search.
const (
	SearchNone       SearchKind = ""
	SearchAuto       SearchKind = "auto"
	SearchEmail      SearchKind = "email"
	SearchPhone      SearchKind = "phone"
	SearchExternalID SearchKind = "externalId"
	SearchID         SearchKind = "id"
)

// Label names the kind for people: "phone number", "Dixa ID".
func (k SearchKind) Label() string {
	switch k {
	case SearchEmail:
		return "email"
	case SearchPhone:
		return "phone number"
	case SearchExternalID:
		return "external ID"
	case SearchID:
		return "Dixa ID"
	}
	return string(k)
}

// MaxQueryLen bounds a search term: longer than any email address or
// external ID.
const MaxQueryLen = 320

// Search is a parsed search: the kind of identifier and the value to send
// Dixa (a phone number in E.164, a Dixa id in lower case).
type Search struct {
	Kind  SearchKind
	Value string
	// Fallback is set when an auto search term is none of an email, a
	// phone number or a Dixa id and is therefore looked up as an external
	// ID: nobody chose that kind.
	Fallback bool
	// PhoneHint is set for a phone number typed without a country code:
	// how it was read ("read as a Danish number; add +49 for Germany").
	PhoneHint string
}

// Explained is what the console tells people about every search, because
// Dixa's API finds people only by exact identifiers.
const Explained = "Dixa can only find an exact email, phone number or external ID — not names or parts of them."

// OffersCreate reports whether a search that found nobody may offer to
// create a customer with the value: only an email, phone number or external
// ID that was looked up as such, never a term that became an external ID
// because it was nothing else, nor an email address the create form would
// refuse.
func (s Search) OffersCreate() bool {
	switch s.Kind {
	case SearchEmail:
		return ValidEmail(s.Value)
	case SearchPhone, SearchExternalID:
		return !s.Fallback
	}
	return false
}

// Complete reports whether the term is a whole identifier, worth a search
// while the person is still typing: a whole email address, a phone number,
// a Dixa id, or text the person chose to look up as an external ID. A
// partial email and an auto term that is only an external ID by default are
// not: those are searched when the person presses Enter.
func (s Search) Complete() bool {
	switch s.Kind {
	case SearchEmail:
		return wholeEmail(s.Value)
	case SearchPhone, SearchID:
		return true
	case SearchExternalID:
		return !s.Fallback
	}
	return false
}

// EnterHint says what pressing Enter searches for a term that is not
// Complete: "press Enter to search external IDs".
func (s Search) EnterHint() string {
	if s.Kind == SearchEmail {
		return "press Enter to search for this exact email"
	}
	return "press Enter to search external IDs"
}

// ParseSearch reads the search box. With by "auto" (or empty) a term with
// "@" is an email, a UUID a Dixa id, mostly digits (at least 6) with "+",
// spaces, dashes, dots, slashes or brackets a phone number, anything else
// an external ID. A phone number is normalised to E.164 with the default
// region; an empty term is no search. A term that cannot be searched is an
// *apperr.Error with Field "q".
func (r Rules) ParseSearch(q, by string) (Search, error) {
	q = trimSpace(q)
	kind := SearchKind(by)
	if kind == SearchNone {
		kind = SearchAuto
	}
	switch kind {
	case SearchAuto, SearchEmail, SearchPhone, SearchExternalID, SearchID:
	default:
		return Search{}, apperr.OnField("by", "Unknown search kind. Choose any, email, phone, external ID or Dixa ID.")
	}
	if q == "" {
		return Search{}, nil
	}
	if len(q) > MaxQueryLen {
		return Search{}, apperr.OnField("q", "That search term is too long.")
	}
	if HasControl(q) {
		return Search{}, apperr.OnField("q", "That search term contains control characters.")
	}
	auto := kind == SearchAuto
	if auto {
		kind = detect(q)
	}
	switch kind {
	case SearchID:
		if !ValidID(q) {
			return Search{}, apperr.OnField("q", "A Dixa ID looks like 3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a.")
		}
		return Search{Kind: SearchID, Value: strings.ToLower(q)}, nil
	case SearchPhone:
		e164, inRegion, err := r.readPhone(PhoneNumber, q)
		if err != nil {
			return Search{}, apperr.OnField("q", apperr.Message(err, "That is not a phone number."))
		}
		s := Search{Kind: SearchPhone, Value: e164}
		if inRegion {
			s.PhoneHint = PhoneHint(r.Region)
		}
		return s, nil
	}
	return Search{Kind: kind, Value: q, Fallback: auto && kind == SearchExternalID}, nil
}

// detect decides what an auto search term is.
func detect(q string) SearchKind {
	switch {
	case strings.Contains(q, "@"):
		return SearchEmail
	case ValidID(q):
		return SearchID
	case looksLikePhone(q):
		return SearchPhone
	}
	return SearchExternalID
}

// looksLikePhone: digits with the usual separators, at least 6 digits, a
// "+" only before the first digit.
func looksLikePhone(s string) bool {
	digits, plus := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && digits == 0 && plus == 0:
			plus++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/':
		default:
			return false
		}
	}
	return digits >= 6
}

// ListOptions is the one Dixa list filter of the search (none for no
// search; a Dixa id is not a list filter).
func (s Search) ListOptions(pageLimit int, pageKey string) apiclient.ListOptions {
	lo := apiclient.ListOptions{PageLimit: pageLimit, PageKey: pageKey}
	switch s.Kind {
	case SearchEmail:
		lo.Email = s.Value
	case SearchPhone:
		lo.Phone = s.Value
	case SearchExternalID:
		lo.ExternalID = s.Value
	}
	return lo
}

// CreateField is the create-form field a search value fills in when
// nobody was found.
func (s Search) CreateField() Field {
	switch s.Kind {
	case SearchEmail:
		return Email
	case SearchPhone:
		return PhoneNumber
	}
	return ExternalID
}
