package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/webtest"
)

// Every route is GET or POST; no GET is an action (sign-out, import
// start/pause/cancel, erasure approve/reject/extend are POST only, and GET
// on them is 405 without effect). The POST half — each refused cross-origin
// — is TestCrossOriginPostsRefused, which walks the same table.
func TestStateChangesArePostOnly(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	lead := env.Login(t, "lead")
	actions := []string{"/logout", "/start", "/pause", "/cancel", "/approve", "/reject", "/extend"}
	posts := 0
	for _, rt := range env.Server.Routes() {
		if strings.HasSuffix(rt.Pattern, "/static/*") {
			continue // the asset mount answers every method; the middleware allows only GET, HEAD and POST, and assets change nothing
		}
		switch rt.Method {
		case http.MethodGet:
			for _, a := range actions {
				if strings.HasSuffix(rt.Pattern, a) {
					t.Errorf("GET %s: an action reachable by GET", rt.Pattern)
				}
			}
		case http.MethodPost:
			posts++
		default:
			t.Errorf("%s %s: only GET and POST are expected", rt.Method, rt.Pattern)
		}
	}
	if posts == 0 {
		t.Fatal("no POST routes: the walk proves nothing")
	}
	sessions := env.Server.Sessions()
	for _, rt := range env.Server.Routes() {
		if rt.Method != http.MethodPost || strings.HasSuffix(rt.Pattern, "/*") {
			continue
		}
		p := fillPattern(env, rt.Pattern)
		resp, _ := env.Get(t, lead, p+"?"+url.Values{"confirm": {"1"}}.Encode())
		if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if strings.HasSuffix(p, "/logout") && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /logout: %d, want 405", resp.StatusCode)
		}
	}
	if env.Server.Sessions() != sessions {
		t.Error("a GET changed the sessions")
	}
	if resp, _ := env.Get(t, lead, "/endusers"); resp.StatusCode != http.StatusOK {
		t.Errorf("still signed in after GETs of every POST route: %d", resp.StatusCode)
	}
}
