package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/apiclient/dixasim"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/webtest"
)

// Hostile strings as customers (and people signing in) type them.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileAttr   = `" onmouseover="x`
	hostileJS     = `javascript:alert(1)`
	hostileRTL    = "\u202Egnp.exe"
)

// urlAttrs are the attributes a browser loads or navigates to.
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "poster": true,
	"data": true, "srcset": true, "xlink:href": true, "hx-get": true, "hx-post": true, "background": true, "ping": true}

// assertInert parses a page or fragment and checks that nothing in it can
// run: the only scripts are the layout's own (nonce, under /static/), no
// attribute is an event handler, no URL attribute has a script scheme, and
// no element that embeds or re-bases content exists.
func assertInert(t *testing.T, env *webtest.Env, what, body string) {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	d.Find("*").Each(func(_ int, s *goquery.Selection) {
		n := s.Nodes[0]
		switch n.Data {
		case "script":
			src, _ := s.Attr("src")
			nonce, _ := s.Attr("nonce")
			if !strings.HasPrefix(src, env.Cfg.BasePath+"/static/") || nonce == "" || strings.TrimSpace(s.Text()) != "" {
				t.Errorf("%s: a script that is not the layout's: %s", what, outer(n))
			}
		case "iframe", "object", "embed", "base", "frame", "svg", "math", "style", "link":
			if n.Data == "link" {
				if rel, _ := s.Attr("rel"); rel == "stylesheet" {
					if href, _ := s.Attr("href"); strings.HasPrefix(href, env.Cfg.BasePath+"/static/") {
						return
					}
				}
			}
			t.Errorf("%s: unexpected <%s>: %s", what, n.Data, outer(n))
		case "meta":
			if he, ok := s.Attr("http-equiv"); ok && strings.EqualFold(he, "refresh") {
				t.Errorf("%s: meta refresh", what)
			}
		}
		for _, a := range n.Attr {
			k := strings.ToLower(a.Key)
			if strings.HasPrefix(k, "on") || strings.HasPrefix(k, "hx-on") || k == "hx-vals" && strings.Contains(a.Val, "js:") {
				t.Errorf("%s: event handler attribute %s=%q on <%s>", what, a.Key, a.Val, n.Data)
			}
			if urlAttrs[k] {
				v := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' || r == 0x7f {
						return -1
					}
					return r
				}, a.Val))
				for _, bad := range []string{"javascript:", "vbscript:", "data:"} {
					if strings.HasPrefix(v, bad) {
						t.Errorf("%s: %s=%q on <%s>", what, a.Key, a.Val, n.Data)
					}
				}
			}
		}
	})
	low := strings.ToLower(body)
	for _, raw := range []string{"<script>alert", "<img src=x", "<svg onload", "<b>bold</b>"} {
		if strings.Contains(low, raw) {
			t.Errorf("%s: %q reached the page unescaped", what, raw)
		}
	}
}

func outer(n *html.Node) string {
	var b strings.Builder
	html.Render(&b, n)
	if b.Len() > 200 {
		return b.String()[:200] + "…"
	}
	return b.String()
}

// Hostile customer data is rendered inert, page by page: customers whose fields hold
// markup, attribute breakers, javascript: URLs and a right-to-left
// override — and a lead whose own name does — go through the profile,
// the list and search, the erasure preview, request, status and receipt,
// an import's dry run and results, and the audit log; nothing of it can
// run in the browser.
func TestHostileStringsRendered(t *testing.T) {
	env := webtest.New(t, webtest.Options{Sim: dixasim.Options{Users: 30}, Config: func(c *web.Config) {
		c.PersonRate, c.PersonBurst = 1000, 1000
		c.ErasureApproval = "single"
	}})
	// A lead named like an attack: the name shows in the chrome, the
	// erasure pages and the audit log.
	lead := env.Client()
	if resp, body := env.PostForm(t, lead, "/login", url.Values{"name": {hostileScript + hostileRTL}, "role": {"lead"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with a hostile name: %d\n%.500s", resp.StatusCode, body)
	}
	lead2 := env.Client()
	if resp, _ := env.PostForm(t, lead2, "/login", url.Values{"name": {"Lee" + hostileAttr}, "role": {"lead"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with a hostile name: %d", resp.StatusCode)
	}

	var pages []string
	ids := []string{dixasim.DemoScriptUserID, dixasim.DemoQuotesRTLUserID, dixasim.DemoJSAvatarUserID}
	for _, id := range ids {
		u, err := env.API.GetEndUser(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, "/endusers/"+id, "/endusers/"+id+"/edit", "/endusers/"+id+"/conversations",
			"/endusers/"+id+"/erasure", "/endusers?q="+url.QueryEscape(u.Email))
	}
	for _, q := range []string{hostileScript, hostileAttr, hostileJS, hostileRTL} {
		pages = append(pages, "/endusers?q="+url.QueryEscape(q), "/endusers?by=externalId&q="+url.QueryEscape(q),
			"/endusers/new?displayName="+url.QueryEscape(q)+"&avatarUrl="+url.QueryEscape(hostileJS),
			"/audit?actor="+url.QueryEscape(q)+"&action="+url.QueryEscape(q))
	}

	// An erasure request with hostile reference and reason, for the
	// customer whose every field is hostile (confirmed by the email).
	su, _ := env.API.GetEndUser(t.Context(), dixasim.DemoScriptUserID)
	form := url.Values{"reference": {hostileScript + hostileRTL}, "reason": {hostileAttr + " " + hostileJS},
		"receivedAt": {time.Now().Format("2006-01-02")}, "confirm": {su.Email}}
	resp, body := env.PostForm(t, lead, "/endusers/"+dixasim.DemoScriptUserID+"/erasure", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("erasure request: %d\n%.800s", resp.StatusCode, body)
	}
	rid := resp.Header.Get("Location")[strings.LastIndex(resp.Header.Get("Location"), "/")+1:]
	pages = append(pages, "/erasures", "/erasures/"+rid, "/erasures/"+rid+"?panel=status", "/erasures/"+rid+"/receipt")
	// A refused request (422) echoes the input.
	form.Set("confirm", hostileScript)
	_, body = env.PostForm(t, lead, "/endusers/"+dixasim.DemoQuotesRTLUserID+"/erasure", form)
	assertInert(t, env, "erasure request refused", body)

	// An import whose file name, values and problems are hostile.
	file := "displayName,email,externalId,avatarUrl,firstName\n" +
		`"` + strings.ReplaceAll(hostileScript, `"`, `""`) + `",hostile1@example.com,"` + strings.ReplaceAll(hostileAttr, `"`, `""`) + `",https://example.com/a.png,` + hostileRTL + "\n" +
		`Eve,"x` + strings.ReplaceAll(hostileAttr, `"`, `""`) + `@example.com",e2,` + hostileJS + `,<img src=x onerror=alert(1)>` + "\n" +
		`"` + strings.ReplaceAll(hostileAttr, `"`, `""`) + `",hostile3@example.com,` + hostileJS + `,,` + "\n"
	resp, body = imUpload(t, env, lead, `"><script>alert(1)</script>`+hostileRTL+`.csv`, []byte(file), "mode", "create", "batchSize", "1")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%.800s", resp.StatusCode, body)
	}
	job := strings.TrimPrefix(resp.Header.Get("Location"), env.Cfg.BasePath)
	imWaitState(t, env, lead, job, "ready")
	_, body = env.Get(t, lead, job)
	assertInert(t, env, "import dry run", body)
	if resp, _ := env.PostForm(t, lead, job+"/start", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	imWaitState(t, env, lead, job, "done", "failed")
	pages = append(pages, job, "/imports", "/audit", "/audit?targetType=erasure")

	created := 0
	for _, id := range []string{"hostile1@example.com", "hostile3@example.com"} {
		if uid, ok := env.Sim.AnyUserID(func(u apiclient.EndUser) bool { return u.Email == id }); ok {
			created++
			pages = append(pages, "/endusers/"+uid, "/endusers/"+uid+"/edit")
		}
	}
	if created == 0 {
		t.Error("the import created none of the hostile customers: the results prove less")
	}

	for _, c := range []*http.Client{lead, lead2} {
		for _, p := range pages {
			for _, hdr := range [][]string{nil, {"HX-Request", "true"}} {
				resp, body := env.Get(t, c, p, hdr...)
				what := "GET " + p + " " + strings.Join(hdr, ":")
				if resp.StatusCode >= 500 {
					t.Errorf("%s: %d", what, resp.StatusCode)
				}
				assertInert(t, env, what, body)
			}
		}
	}
	// The hostile strings are there, as text: the walk saw them.
	for p, want := range map[string]string{
		"/audit":           hostileScript,
		"/erasures/" + rid: hostileScript + hostileRTL,
		"/endusers/" + dixasim.DemoScriptUserID + "/erasure": hostileScript,
		job: "script>" + hostileRTL,
		"/endusers?q=" + url.QueryEscape(hostileAttr): hostileAttr,
	} {
		_, body := env.Get(t, lead, p)
		d := doc(t, body)
		if !strings.Contains(d.Text(), want) && d.Find(`[value="`+strings.ReplaceAll(want, `"`, `\"`)+`"]`).Length() == 0 {
			t.Errorf("GET %s does not show %q as text", p, want)
		}
	}
}
