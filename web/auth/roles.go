// Package auth decides who is asking and what they may do: the sign-in
// modes (dev, header with an optional signed assertion, oidc), the mapping
// of identity-provider groups to roles, the server-side session store and
// the per-person request limit. It holds no package-level state: the web
// server owns every instance.
package auth

import (
	"github.com/example/dixa-console/web/role"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on what an identity provider or proxy may hand us. A group list
// beyond them is cut, never an error: the person still signs in with the
// groups that fit (and a role only if one of those maps).
const (
	MaxGroups     = 512
	MaxGroupBytes = 256
	MaxNameBytes  = 256
	MaxIDBytes    = 320 // an email address at its longest
)

// ParseGroups reads a comma-separated group list as proxies send it
// ("support-agents, support-leads"): spaces around names are ignored, empty
// entries, control characters and duplicates dropped, the list and each
// name bounded.
func ParseGroups(s string) []string {
	var out []string
	for g := range strings.SplitSeq(s, ",") {
		if len(out) >= MaxGroups {
			break
		}
		g = CleanGroup(g)
		if g == "" || slices.Contains(out, g) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// CleanGroups bounds and cleans a group list taken from a token claim.
func CleanGroups(in []string) []string {
	var out []string
	for _, g := range in {
		if len(out) >= MaxGroups {
			break
		}
		g = CleanGroup(g)
		if g == "" || slices.Contains(out, g) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// CleanGroup trims one group name; a name with control characters or
// invalid UTF-8, or longer than MaxGroupBytes, is dropped ("").
func CleanGroup(g string) string {
	g = strings.TrimSpace(g)
	if len(g) > MaxGroupBytes || !utf8.ValidString(g) || strings.ContainsFunc(g, isControl) {
		return ""
	}
	return g
}

// CleanText trims a display name or identity: invalid UTF-8 and control
// characters make it unusable (""), and it is cut to max bytes on a rune
// boundary.
func CleanText(s string, max int) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, isControl) {
		return ""
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029
}

// RoleFor maps groups to a role with the configured allow-list (role →
// groups that grant it). The highest matching role wins; no match is ""
// (deny by default). The second result names the group that granted it,
// for the audit log. Group names compare exactly: "Support-Leads" is not
// "support-leads".
func RoleFor(groups []string, roleGroups map[role.Role][]string) (role.Role, string) {
	all := role.All()
	for i := len(all) - 1; i >= 0; i-- {
		r := all[i]
		for _, g := range roleGroups[r] {
			if g != "" && slices.Contains(groups, g) {
				return r, "group " + g
			}
		}
	}
	return "", ""
}

// GroupsFor returns the groups that grant min or a higher role, for the
// 403 page's "ask to be added to …".
func GroupsFor(min role.Role, roleGroups map[role.Role][]string) []string {
	var out []string
	for _, r := range role.All() {
		if r.AtLeast(min) {
			out = append(out, roleGroups[r]...)
		}
	}
	return out
}
