package handlers

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
)

// pieces are the building blocks of hostile strings: markup, attribute
// and URL breakers, template syntax, bidi controls, odd Unicode.
var pieces = []string{
	"<script>", "</script>", "<img src=x onerror=alert(1)>", `"`, `'`, "`", "<", ">", "&", "&lt;", "&#x3c;",
	" onmouseover=", "onload=", "javascript:", "JaVaScRiPt:", "java\tscript:", "data:text/html,", "vbscript:",
	"alert(1)", "{{.}}", "${7*7}", "\u202E", "\u2066", "\u200B", "\x00", "\n", "\r", "/", `\`, "//evil.example",
	"https://", "http://", "?", "#", "=", " ", "é", "زينب", "<svg/onload=alert(1)>", "<!--", "-->", "]]>", "%3Cscript%3E",
}

func hostileString(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(6) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// checkProfileInert renders the profile of u (for a lead, who sees every
// link) and fails on any script element, event-handler attribute or
// script-scheme URL.
func checkProfileInert(t *testing.T, u apiclient.EndUser) {
	t.Helper()
	ctx := views.WithChrome(context.Background(), views.Chrome{Role: "lead"})
	v := profileView(u)
	var b strings.Builder
	if err := views.ProfilePage(v).Render(ctx, &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	root, err := html.Parse(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "svg", "iframe", "object", "embed", "base", "style":
				t.Fatalf("<%s> element rendered for %+v", n.Data, u)
			}
			for _, a := range n.Attr {
				k := strings.ToLower(a.Key)
				if strings.HasPrefix(k, "on") {
					t.Fatalf("attribute %s on <%s> rendered for %+v", a.Key, n.Data, u)
				}
				if k == "href" || k == "src" || k == "action" {
					v := strings.ToLower(strings.Map(func(r rune) rune {
						if r <= ' ' || r == 0x7f {
							return -1
						}
						return r
					}, a.Val))
					if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "#") &&
						!(strings.HasPrefix(v, "mailto:") && !strings.ContainsAny(v[len("mailto:"):], ":?&#")) && !(strings.HasPrefix(v, "tel:+") && strings.Trim(v[len("tel:+"):], "0123456789") == "") {
						t.Fatalf("%s=%q on <%s> rendered for %+v", a.Key, a.Val, n.Data, u)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
}

func hostileUser(id string, s ...string) apiclient.EndUser {
	at := func(i int) string { return s[i%len(s)] }
	return apiclient.EndUser{
		ID: id, DisplayName: at(0), FirstName: at(1), LastName: at(2), MiddleNames: []string{at(3), at(4)},
		Email: at(5), AdditionalEmails: []string{at(6)}, PhoneNumber: at(7), AdditionalPhoneNumbers: []string{at(8)},
		ExternalID: at(9), AvatarURL: at(10),
	}
}

// Hostile data is inert: many random hostile strings in every field of a profile
// (the avatar too) never render anything that runs.
func TestProfileRenderRandomHostile(t *testing.T) {
	r := rand.New(rand.NewPCG(34, 34))
	for i := range 3000 {
		s := make([]string, 11)
		for j := range s {
			s[j] = hostileString(r)
		}
		if i%3 == 0 {
			s[10] = "https://avatars.example/" + s[10] // past the scheme check
		}
		checkProfileInert(t, hostileUser("de000000-0000-4000-8000-000000000001", s...))
	}
}

// FuzzProfileRender is the same with the fuzzer's strings
// (go test -fuzz=FuzzProfileRender ./handlers/).
func FuzzProfileRender(f *testing.F) {
	f.Add("<script>alert(1)</script>", `" onmouseover="x`, "javascript:alert(1)")
	f.Add("\u202Egnp.exe", "https://a.example/x.png\" onerror=\"alert(1)", " JAVASCRIPT:alert(1)")
	f.Add("{{.Secret}}", "<svg onload=alert(1)>", "data:text/html,<script>alert(1)</script>")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		checkProfileInert(t, hostileUser("de000000-0000-4000-8000-000000000001", a, b, c))
	})
}
