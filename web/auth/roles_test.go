package auth

import (
	"github.com/example/dixa-console/web/role"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var testRoleGroups = map[role.Role][]string{
	role.Viewer: {"support-viewers"},
	role.Agent:  {"support-agents", "tier2"},
	role.Lead:   {"support-leads"},
}

func TestRoleForHighestWinsDenyByDefault(t *testing.T) {
	for _, tc := range []struct {
		groups    []string
		role      role.Role
		grantedBy string
	}{
		{nil, "", ""},
		{[]string{}, "", ""},
		{[]string{"engineering", "design"}, "", ""},
		{[]string{"Support-Leads"}, "", ""}, // exact names only
		{[]string{" support-leads"}, "", ""},
		{[]string{"support-viewers"}, "viewer", "group support-viewers"},
		{[]string{"tier2", "support-viewers"}, "agent", "group tier2"},
		{[]string{"support-viewers", "support-leads", "support-agents"}, "lead", "group support-leads"},
	} {
		got, via := RoleFor(tc.groups, testRoleGroups)
		if got != tc.role || via != tc.grantedBy {
			t.Errorf("RoleFor(%q) = %q, %q; want %q, %q", tc.groups, got, via, tc.role, tc.grantedBy)
		}
	}
	if got, _ := RoleFor([]string{""}, map[role.Role][]string{role.Lead: {""}}); got != "" {
		t.Errorf("an empty group name granted %q", got)
	}
}

func TestGroupsFor(t *testing.T) {
	got := GroupsFor(role.Agent, testRoleGroups)
	want := []string{"support-agents", "tier2", "support-leads"}
	if !slices.Equal(got, want) {
		t.Errorf("GroupsFor(agent) = %q, want %q", got, want)
	}
}

func TestParseGroups(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                nil,
		" , ,":                            nil,
		"a":                               {"a"},
		" support-agents , support-leads": {"support-agents", "support-leads"},
		"a,a,b":                           {"a", "b"},
		"a,b\x00c,d":                      {"a", "d"},
		"CN=Leads,OU=Groups":              {"CN=Leads", "OU=Groups"},
	} {
		if got := ParseGroups(in); !slices.Equal(got, want) {
			t.Errorf("ParseGroups(%q) = %q, want %q", in, got, want)
		}
	}
	many := strings.Repeat("g,", 10000)
	if got := ParseGroups(many); len(got) != 1 {
		t.Errorf("duplicates: %d groups", len(got))
	}
	var b strings.Builder
	for i := range 2000 {
		b.WriteString("group-")
		b.WriteString(strings.Repeat("x", i%50))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(",")
	}
	if got := ParseGroups(b.String()); len(got) > MaxGroups {
		t.Errorf("%d groups kept, want at most %d", len(got), MaxGroups)
	}
}

// FuzzParseGroups: whatever a proxy sends, the parser does not panic and
// keeps only clean, bounded, unique names.
func FuzzParseGroups(f *testing.F) {
	for _, s := range []string{"", "a,b", " support-leads ,support-agents", "a,,a", "\x00,\xff", strings.Repeat("x", 300), "ü,ø,日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gs := ParseGroups(s)
		if len(gs) > MaxGroups {
			t.Fatalf("%d groups", len(gs))
		}
		seen := map[string]bool{}
		for _, g := range gs {
			if g == "" || len(g) > MaxGroupBytes || !utf8.ValidString(g) || strings.TrimSpace(g) != g || strings.Contains(g, ",") || seen[g] {
				t.Fatalf("bad group %q from %q", g, s)
			}
			seen[g] = true
		}
		got, _ := RoleFor(gs, testRoleGroups)
		if got != "" && !slices.ContainsFunc(gs, func(g string) bool { return slices.Contains(testRoleGroups[got], g) }) {
			t.Fatalf("role %q without its group in %q", got, gs)
		}
	})
}

// FuzzClaimsFromHeaders: the header parser never panics, never yields an
// identity with control characters, and never grants a role the groups
// header does not name.
func FuzzClaimsFromHeaders(f *testing.F) {
	f.Add("ada@example.com", "Ada", "support-leads")
	f.Add("", "", "")
	f.Add("a\r\nb", "\x00", ",,,")
	f.Add(strings.Repeat("é", 400), strings.Repeat("n", 300), "support-agents, support-leads")
	f.Fuzz(func(t *testing.T, user, name, groups string) {
		h := http.Header{}
		h["X-Forwarded-Email"] = []string{user}
		h["X-Forwarded-User"] = []string{name}
		h["X-Forwarded-Groups"] = []string{groups}
		c, err := ClaimsFromHeaders(h, "X-Forwarded-Email", "X-Forwarded-User", "X-Forwarded-Groups")
		if err != nil {
			return
		}
		for _, s := range []string{c.ID, c.Name} {
			if s == "" || !utf8.ValidString(s) || strings.ContainsFunc(s, isControl) {
				t.Fatalf("bad text %q", s)
			}
		}
		if len(c.ID) > MaxIDBytes || len(c.Name) > MaxNameBytes {
			t.Fatalf("too long: %d %d", len(c.ID), len(c.Name))
		}
		if role, _ := RoleFor(c.Groups, testRoleGroups); role == "lead" && !strings.Contains(groups, "support-leads") {
			t.Fatalf("lead from %q", groups)
		}
	})
}

func TestClaimsFromHeadersRefusesRepeats(t *testing.T) {
	h := http.Header{}
	h.Add("X-Forwarded-Email", "ada@example.com")
	h.Add("X-Forwarded-Email", "eve@example.com")
	if _, err := ClaimsFromHeaders(h, "X-Forwarded-Email", "", "X-Forwarded-Groups"); err == nil {
		t.Error("two identity headers accepted")
	}
	h = http.Header{}
	h.Set("X-Forwarded-Email", "ada@example.com")
	h.Add("X-Forwarded-Groups", "support-viewers")
	h.Add("X-Forwarded-Groups", "support-leads")
	if _, err := ClaimsFromHeaders(h, "X-Forwarded-Email", "", "X-Forwarded-Groups"); err == nil {
		t.Error("two group headers accepted")
	}
}

func TestPeerTrusted(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.1.0.0/16")}
	for addr, want := range map[string]bool{
		"127.0.0.1:5000":       true,
		"[::1]:5000":           true,
		"[::ffff:127.0.0.1]:1": true,
		"10.1.200.3:80":        true,
		"10.2.0.1:80":          false,
		"127.0.0.2:80":         false,
		"192.168.1.1:80":       false,
		"":                     false,
		"garbage":              false,
		"@":                    false,
	} {
		if got := PeerTrusted(addr, trusted); got != want {
			t.Errorf("PeerTrusted(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestSecretEqual(t *testing.T) {
	if !SecretEqual("0123456789abcdef", "0123456789abcdef") {
		t.Error("equal secrets differ")
	}
	for _, got := range []string{"", "0123456789abcdeF", "0123456789abcdef0", "x"} {
		if SecretEqual(got, "0123456789abcdef") {
			t.Errorf("%q accepted", got)
		}
	}
	if SecretEqual("", "") {
		t.Error("empty secrets accepted")
	}
}

func TestCleanText(t *testing.T) {
	if got := CleanText("  Ada  ", 10); got != "Ada" {
		t.Errorf("got %q", got)
	}
	if got := CleanText("ééééé", 5); got != "éé" {
		t.Errorf("cut mid-rune: %q", got)
	}
	for _, bad := range []string{"a\nb", "a\x00", "\xff", "a\u2028b"} {
		if got := CleanText(bad, 100); got != "" {
			t.Errorf("CleanText(%q) = %q", bad, got)
		}
	}
}
