package customer

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Complete reports whether a search term is whole enough to search while
// it is still being typed: a plain email address whose domain ends in a
// real top-level domain (or one reserved for examples and tests), a valid phone number or a whole Dixa ID. Any other
// term (an external ID, a half-typed address) could still grow into the
// term the person means, so it is searched only when they submit it. The
// top-level domains that begin .com and .net (co, ne) count as still being
// typed: "alice@brown.co" is searched on Enter, not on the way to ".com".
func (s Search) Complete() bool {
	switch s.Kind {
	case SearchID, SearchPhone:
		// ParseSearch accepts only whole ids and valid numbers.
		return s.Value != ""
	case SearchEmail:
		if !ValidEmail(s.Value) {
			return false
		}
		_, domain, _ := strings.Cut(strings.ToLower(s.Value), "@")
		suffix, icann := publicsuffix.PublicSuffix(domain)
		if !icann {
			// The names reserved for examples and tests are whole too.
			tld := domain[strings.LastIndexByte(domain, '.')+1:]
			icann = tld == "example" || tld == "test" || tld == "invalid" || tld == "localhost"
			suffix = tld
		}
		return icann && suffix != domain && !growing(suffix)
	}
	return false
}

// growing reports the real top-level domains that are also the start of
// the most common ones.
func growing(tld string) bool { return tld == "co" || tld == "ne" }
