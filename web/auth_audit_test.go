package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web"
	"github.com/example/dixa-console/web/store"
	"github.com/example/dixa-console/web/webtest"
)

// aaEntries lists the audit entries with action, oldest first.
func aaEntries(t *testing.T, env *webtest.Env, action string) []store.AuditEntry {
	t.Helper()
	es, err := env.Store.ListAudit(t.Context(), store.AuditFilter{Action: action, Ascending: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// aaOnly returns the one entry with action, failing unless there is
// exactly one.
func aaOnly(t *testing.T, env *webtest.Env, action string) store.AuditEntry {
	t.Helper()
	es := aaEntries(t, env, action)
	if len(es) != 1 {
		t.Fatalf("%d %s entries, want 1: %+v", len(es), action, es)
	}
	return es[0]
}

var sessionHashRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

// aaNoSecret fails when the entry carries a session cookie's value.
func aaNoSecret(t *testing.T, e store.AuditEntry, secrets ...string) {
	t.Helper()
	fields := []string{e.ActorID, e.ActorName, e.ActorVia, e.SessionHash, e.TargetType, e.TargetID, e.CorrelationID}
	for _, v := range e.Details {
		fields = append(fields, v)
	}
	for _, s := range secrets {
		for _, f := range fields {
			if s != "" && strings.Contains(f, s) {
				t.Errorf("%s entry holds a session secret in %q", e.Action, f)
			}
		}
	}
}

// Dev sign-in and sign-out each append one entry naming the person and a
// hash of the session (never its id or cookie); a refused form appends
// nothing.
func TestAuthAuditDevSignInAndOut(t *testing.T) {
	env := webtest.New(t, webtest.Options{})
	c := env.Client()
	if resp, _ := env.PostForm(t, c, "/login", url.Values{"name": {""}, "role": {"lead"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("empty name: %d", resp.StatusCode)
	}
	if n := len(aaEntries(t, env, "signin")); n != 0 {
		t.Errorf("%d signin entries for a form that was not accepted", n)
	}
	resp, _ := env.PostForm(t, c, "/login", url.Values{"name": {"Audit Ada"}, "role": {"lead"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	u, _ := url.Parse(env.URL)
	var cookie string
	for _, ck := range c.Jar.Cookies(u) {
		cookie = ck.Value
	}
	in := aaOnly(t, env, "signin")
	if in.ActorID != "audit-ada@demo.invalid" || in.ActorName != "Audit Ada" || in.ActorRole != "lead" || in.ActorVia != "dev sign-in" ||
		in.Outcome != store.OutcomeOK || in.Details["method"] != "dev" || in.CorrelationID == "" {
		t.Errorf("signin entry %+v", in)
	}
	if !sessionHashRE.MatchString(in.SessionHash) || in.TargetType != "session" || in.TargetID != in.SessionHash {
		t.Errorf("signin entry: session hash %q, target %s/%s; want a 16-hex hash as both", in.SessionHash, in.TargetType, in.TargetID)
	}
	aaNoSecret(t, in, cookie)

	resp, _ = env.PostForm(t, c, "/logout", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	out := aaOnly(t, env, "signout")
	if out.ActorID != in.ActorID || out.ActorRole != "lead" || out.SessionHash != in.SessionHash || out.TargetID != in.SessionHash || out.Outcome != store.OutcomeOK {
		t.Errorf("signout entry %+v, want the same person and session as %+v", out, in)
	}
	aaNoSecret(t, out, cookie)

	// Signing out again without a session writes nothing.
	env.PostForm(t, env.Client(), "/logout", nil)
	if n := len(aaEntries(t, env, "signout")); n != 1 {
		t.Errorf("%d signout entries after a sign-out without a session, want 1", n)
	}
	if res, err := env.Store.Verify(t.Context()); err != nil || !res.OK() {
		t.Errorf("chain: %v %v", err, res.Problems)
	}
}

// oidc: a completed sign-in is "ok"; a callback without a sign-in in
// progress, with a forged state, or for someone whose groups grant no role
// is "denied" with a reason.
func TestAuthAuditOIDC(t *testing.T) {
	m := startOIDC(t)
	env := oidcEnv(t, m)
	m.QueueUser(&mockoidc.MockUser{Subject: "u-1", Email: "ada@example.com", EmailVerified: true, PreferredUsername: "ada", Groups: []string{"support-leads"}})

	c := env.Client()
	_, authURL := follow(t, c, env.URL+"/login")
	q := mustQuery(t, authURL)
	_, cb := follow(t, c, authURL)

	follow(t, env.Client(), cb) // another browser: no sign-in in progress, so no entry (anyone can call the URL)
	forged := strings.Replace(cb, "state="+url.QueryEscape(q.Get("state")), "state=forged", 1)
	follow(t, cloneJar(t, env, c), forged)
	follow(t, c, cb) // the forged attempt used the sign-in up: no entry for this one
	m.QueueUser(&mockoidc.MockUser{Subject: "u-1", Email: "Ada@Example.com", EmailVerified: true, PreferredUsername: "ada", Groups: []string{"support-leads"}})
	_, authURL = follow(t, c, env.URL+"/login")
	_, cb = follow(t, c, authURL)
	if resp, _ := follow(t, c, cb); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}

	m.QueueUser(&mockoidc.MockUser{Subject: "u-2", Email: "bo@example.com", Groups: []string{"engineering"}})
	c2 := env.Client()
	_, a2 := follow(t, c2, env.URL+"/login")
	_, cb2 := follow(t, c2, a2)
	follow(t, c2, cb2)

	es := aaEntries(t, env, "signin")
	type row struct{ actor, role, outcome, reason string }
	var got []row
	for _, e := range es {
		got = append(got, row{e.ActorID, e.ActorRole, string(e.Outcome), e.Details["reason"]})
		if e.Details["method"] != "oidc" {
			t.Errorf("entry %+v: method %q", e, e.Details["method"])
		}
		if (e.ActorID == "anonymous") != (e.SessionHash == "") {
			t.Errorf("entry %+v: a session hash exactly when a session was made", e)
		}
	}
	// The actor is the canonical identity: issuer and subject.
	want := []row{
		{"anonymous", "", "denied", "bad_state"},
		{m.Issuer() + "|u-1", "lead", "ok", ""},
		{m.Issuer() + "|u-2", "", "denied", "no_mapped_group"},
	}
	if len(got) != len(want) {
		t.Fatalf("signin entries %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("signin entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if es[1].ActorVia != "group support-leads" && !strings.Contains(es[1].ActorVia, "support-leads") {
		t.Errorf("granted via %q, want the group", es[1].ActorVia)
	}

	env.PostForm(t, c, "/logout", nil)
	if out := aaOnly(t, env, "signout"); out.ActorID != m.Issuer()+"|u-1" || out.SessionHash != es[1].SessionHash || out.Details["method"] != "oidc" {
		t.Errorf("signout entry %+v", out)
	}
}

// Header mode has no sign-in: the identity arrives with every request.
func TestAuthAuditHeaderModeHasNoSignIn(t *testing.T) {
	env := headerEnv(t, nil)
	c := env.Login(t, "agent")
	if resp, _ := env.Get(t, c, "/endusers"); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /endusers: %d", resp.StatusCode)
	}
	env.PostForm(t, c, "/logout", nil)
	for _, a := range []string{"signin", "signout"} {
		if n := len(aaEntries(t, env, a)); n != 0 {
			t.Errorf("%d %s entries in header mode", n, a)
		}
	}
}

// A 403 from the role check appends one access.denied entry naming the
// route pattern (not the URL, its ids or query); on the erasure routes
// the erasure.denied entry is the only one. No Dixa call either way.
func TestAuthAuditAccessDenied(t *testing.T) {
	for _, base := range []string{"", "/support/console"} {
		t.Run("base="+base, func(t *testing.T) {
			env := webtest.New(t, webtest.Options{Config: func(c *web.Config) { c.BasePath = base }})
			u, err := env.API.CreateEndUser(t.Context(), apiclient.CreateEndUserInput{DisplayName: "Denied Dora", Email: "denied.dora@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			viewer, agent, lead := env.Login(t, "viewer"), env.Login(t, "agent"), env.Login(t, "lead")
			before := simCalls(env)

			cases := []struct {
				c            *http.Client
				method, path string
				route, need  string
			}{
				{viewer, http.MethodPost, "/endusers/" + u.ID + "?x=secret-query", "/endusers/{id}", "agent"},
				{viewer, http.MethodGet, "/endusers/" + u.ID + "/edit", "/endusers/{id}/edit", "agent"},
				{agent, http.MethodGet, "/imports", "/imports", "lead"},
				{agent, http.MethodGet, "/audit?actor=someone%40example.com", "/audit", "lead"},
				{agent, http.MethodGet, "/endusers/export.csv", "/endusers/export.csv", "lead"},
			}
			for i, tc := range cases {
				var resp *http.Response
				if tc.method == http.MethodPost {
					resp, _ = env.PostForm(t, tc.c, tc.path, url.Values{"displayName": {"X"}})
				} else {
					resp, _ = env.Get(t, tc.c, tc.path)
				}
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("%s %s: %d, want 403", tc.method, tc.path, resp.StatusCode)
				}
				es := aaEntries(t, env, "access.denied")
				if len(es) != i+1 {
					t.Fatalf("%s %s: %d access.denied entries, want %d", tc.method, tc.path, len(es), i+1)
				}
				e := es[i]
				if e.TargetType != "route" || e.TargetID != tc.route || e.Outcome != store.OutcomeDenied ||
					e.Details["method"] != tc.method || e.Details["need"] != tc.need || e.ActorID == "anonymous" || e.ActorRole == "" {
					t.Errorf("%s %s: entry %+v, want route %s needing %s", tc.method, tc.path, e, tc.route, tc.need)
				}
				if strings.Contains(e.TargetID, u.ID) || strings.Contains(e.TargetID, "secret-query") || strings.Contains(e.TargetID, "someone") {
					t.Errorf("%s %s: target %q holds the URL, not the pattern", tc.method, tc.path, e.TargetID)
				}
			}

			// The erasure routes: one erasure.denied, no access.denied.
			n := len(aaEntries(t, env, "access.denied"))
			if resp, _ := env.Get(t, agent, "/endusers/"+u.ID+"/erasure"); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("agent at the erasure preview: %d", resp.StatusCode)
			}
			if got := len(aaEntries(t, env, "access.denied")) - n; got != 0 {
				t.Errorf("%d access.denied entries for an erasure route, want 0 (erasure.denied covers it)", got)
			}
			if e := aaOnly(t, env, "erasure.denied"); e.TargetID != u.ID || e.ActorRole != "agent" {
				t.Errorf("erasure.denied entry %+v", e)
			}

			// Allowed requests append nothing.
			n = len(aaEntries(t, env, "access.denied"))
			env.Get(t, lead, "/imports")
			env.Get(t, agent, "/endusers/"+u.ID+"/edit")
			if got := len(aaEntries(t, env, "access.denied")) - n; got != 0 {
				t.Errorf("%d access.denied entries for allowed requests", got)
			}
			if got := simCalls(env) - before; got > 2 {
				// Only the edit form the agent may open reads Dixa.
				t.Errorf("Dixa received %d requests", got)
			}
		})
	}
}
