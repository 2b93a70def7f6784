package handlers

import (
	"errors"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"

	"github.com/example/dixa-console/apiclient"
)

// Search kinds (the by= parameter).
const (
	ByAuto       = "auto"
	ByEmail      = "email"
	ByPhone      = "phone"
	ByExternalID = "externalId"
	ByID         = "id"
)

// MaxQueryLen bounds a search term: long enough for any email address.
const MaxQueryLen = 320

// Search is a parsed search: the kind of identifier and the value to send
// upstream (a phone number already in E.164).
type Search struct {
	Kind  string // email, phone, externalId, id, or "" for no search
	Value string
}

// ErrSearch is a search term that cannot be searched; the message is safe
// to show.
type ErrSearch struct{ Msg string }

func (e *ErrSearch) Error() string { return e.Msg }

// ParseSearch decides what q is, following interface.md §6: with by=auto an
// "@" means an email, a UUID a Dixa id, mostly digits (at least 6) with
// "+", spaces, dashes, dots, slashes or brackets a phone number (normalised
// to E.164 with region), anything else an external ID.
func ParseSearch(q, by, region string) (Search, error) {
	q = strings.TrimSpace(q)
	if by == "" {
		by = ByAuto
	}
	switch by {
	case ByAuto, ByEmail, ByPhone, ByExternalID, ByID:
	default:
		return Search{}, &ErrSearch{"Unknown search kind. Choose any, email, phone, external ID or Dixa ID."}
	}
	if q == "" {
		return Search{}, nil
	}
	if len(q) > MaxQueryLen {
		return Search{}, &ErrSearch{"That search term is too long."}
	}
	if strings.IndexFunc(q, unicode.IsControl) >= 0 {
		return Search{}, &ErrSearch{"That search term contains control characters."}
	}
	if by == ByAuto {
		switch {
		case strings.Contains(q, "@"):
			by = ByEmail
		case isUUID(q):
			by = ByID
		case looksLikePhone(q):
			by = ByPhone
		default:
			by = ByExternalID
		}
	}
	switch by {
	case ByEmail:
		return Search{Kind: ByEmail, Value: q}, nil
	case ByID:
		if !isUUID(q) {
			return Search{}, &ErrSearch{"A Dixa ID looks like 3f1c9a7e-0b7d-4c55-9a39-2f1e8f6b1d2a."}
		}
		return Search{Kind: ByID, Value: strings.ToLower(q)}, nil
	case ByPhone:
		e164, err := NormalizePhone(q, region)
		if err != nil {
			return Search{}, &ErrSearch{err.Error()}
		}
		return Search{Kind: ByPhone, Value: e164}, nil
	default:
		return Search{Kind: ByExternalID, Value: q}, nil
	}
}

// ListOptions is the one Dixa list filter for the search (none for the
// plain list; a Dixa id is not a list filter).
func (s Search) ListOptions(pageLimit int, pageKey string) apiclient.ListOptions {
	lo := apiclient.ListOptions{PageLimit: pageLimit, PageKey: pageKey}
	switch s.Kind {
	case ByEmail:
		lo.Email = s.Value
	case ByPhone:
		lo.Phone = s.Value
	case ByExternalID:
		lo.ExternalID = s.Value
	}
	return lo
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// looksLikePhone: digits with the usual separators, at least 6 digits.
func looksLikePhone(s string) bool {
	digits, plus := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && digits == 0 && plus == 0:
			plus++ // "+45 …" or "(+45) …"
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/':
		default:
			return false
		}
	}
	return digits >= 6
}

// NormalizePhone parses a phone number typed in any common form ("+45 20 12
// 34 56", "0045 20123456", "20 12 34 56" with region DK) and returns it in
// E.164. The error message is safe to show.
func NormalizePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("Enter a phone number.")
	}
	if len(s) > 40 {
		return "", errors.New("That phone number is too long.")
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", errors.New("That is not a phone number we can read. Use the international form, such as +45 20 12 34 56.")
	}
	if !phonenumbers.IsPossibleNumber(n) {
		return "", errors.New("That phone number has the wrong number of digits for its country.")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
