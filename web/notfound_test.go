package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/example/dixa-console/web/webtest"
)

// An unknown address is a 404 page; a signed-in person keeps the header
// and navigation on it, someone signed out gets neither.
func TestNotFoundKeepsTheHeaderForSignedIn(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	lead := env.Login(t, "lead")
	resp, body := env.Get(t, lead, "/no-such-page")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	if !strings.Contains(body, `data-testid="whoami"`) || !strings.Contains(body, `href="/audit"`) {
		t.Errorf("signed-in 404 page has no header or navigation")
	}
	resp, body = env.Get(t, env.Client(), "/no-such-page")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("signed out: status %d, want 404", resp.StatusCode)
	}
	if strings.Contains(body, `data-testid="whoami"`) || strings.Contains(body, `href="/audit"`) {
		t.Errorf("signed-out 404 page shows the signed-in header")
	}
}
