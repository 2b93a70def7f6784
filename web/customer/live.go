package customer

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// wholeEmail reports whether an email address is whole enough to search
// while it is still being typed: a plain address whose domain ends in a
// real top-level domain (or one reserved for examples and tests). The
// top-level domains that begin .com and .net (co, ne) count as still being
// typed: "alice@brown.co" is searched on Enter, not on the way to ".com".
func wholeEmail(v string) bool {
	if !ValidEmail(v) {
		return false
	}
	_, domain, _ := strings.Cut(strings.ToLower(v), "@")
	suffix, icann := publicsuffix.PublicSuffix(domain)
	if !icann {
		// The names reserved for examples and tests are whole too.
		tld := domain[strings.LastIndexByte(domain, '.')+1:]
		icann = tld == "example" || tld == "test" || tld == "invalid" || tld == "localhost"
		suffix = tld
	}
	return icann && suffix != domain && !growing(suffix)
}

// growing reports the real top-level domains that are also the start of
// the most common ones.
func growing(tld string) bool { return tld == "co" || tld == "ne" }
