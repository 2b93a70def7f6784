package dixasim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/example/dixa-console/apiclient/dixasim"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"raw key", testKey, 200},
		{"bearer", "Bearer " + testKey, 200},
		{"bearer lower case", "bearer " + testKey, 200},
		{"missing", "", 401},
		{"wrong", "nope", 401},
		{"wrong bearer", "Bearer nope", 401},
		{"key as prefix", testKey + "x", 401},
	}
	for _, tt := range tests {
		for _, v := range []string{"v1", "beta"} {
			t.Run(tt.name+"/"+v, func(t *testing.T) {
				r := e.doAuth("GET", "/"+v+"/endusers/"+dixasim.DemoBusyUserID, nil, tt.auth)
				if r.Status != tt.status {
					t.Fatalf("got %d, want %d", r.Status, tt.status)
				}
				if tt.status == 401 {
					if got := r.message(t); got != "Unauthorized" {
						t.Errorf("got message %q, want %q", got, "Unauthorized")
					}
				}
			})
		}
	}
}

func TestDefaultAPIKey(t *testing.T) {
	sim := dixasim.New(dixasim.Options{Users: 10})
	e := &env{t: t, sim: sim, h: validator(t).LenientMiddleware(t, sim)}
	e.doAuth("GET", "/v1/custom-attributes", nil, dixasim.DefaultAPIKey).want(t, 200)
}

func TestVersionsServeTheSameData(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	v1 := e.do("GET", "/v1/endusers/"+dixasim.DemoBusyUserID, nil).want(t, 200)
	beta := e.do("GET", "/beta/endusers/"+dixasim.DemoBusyUserID, nil).want(t, 200)
	if string(v1.Body) != string(beta.Body) {
		t.Errorf("got different bodies:\nv1:   %s\nbeta: %s", v1.Body, beta.Body)
	}
	for _, v := range []string{"v1", "beta"} {
		var page userList
		e.do("GET", "/"+v+"/endusers?pageLimit=5", nil).want(t, 200).decode(t, &page)
		if want := "/" + v + "/endusers?pageKey="; !strings.HasPrefix(page.Meta.Next, want) {
			t.Errorf("got meta.next %q, want prefix %q", page.Meta.Next, want)
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/v2/endusers", 404},
		{"GET", "/v1/teams", 404},
		{"DELETE", "/v1/endusers/" + dixasim.DemoBusyUserID, 404},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.do(tt.method, tt.path, nil).want(t, tt.status)
			if got, want := r.message(t), "The requested resource could not be found"; got != want {
				t.Errorf("got message %q, want %q", got, want)
			}
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", got)
			}
		})
	}
	// Unauthenticated, an unknown route says 401 first.
	e.doAuth("GET", "/v1/teams", nil, "").want(t, http.StatusUnauthorized)
}

func TestHostileDemoUsersArriveRaw(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	tests := []struct {
		id, want string
	}{
		{dixasim.DemoScriptUserID, `"displayName":"<script>alert(1)</script>"`},
		{dixasim.DemoQuotesRTLUserID, `"displayName":"Zainab \"Zee\" O'Hara زينب الفارسي"`},
		{dixasim.DemoQuotesRTLUserID, "\u202Egnp.exe"},
		{dixasim.DemoJSAvatarUserID, `"avatarUrl":"javascript:alert(document.domain)"`},
	}
	for _, tt := range tests {
		body := string(e.do("GET", "/v1/endusers/"+tt.id, nil).want(t, 200).Body)
		if !strings.Contains(body, tt.want) {
			t.Errorf("got %s, want it to contain %s (unescaped, as Dixa sends it)", body, tt.want)
		}
	}
}

func TestBadJSONEverywhere(t *testing.T) {
	e := newEnv(t, dixasim.Options{})
	one := "/v1/endusers/" + dixasim.DemoMinimalUserID
	for _, rt := range []struct{ method, path string }{
		{"POST", "/v1/endusers"},
		{"POST", "/v1/endusers/bulk"},
		{"PUT", "/v1/endusers"},
		{"PATCH", "/v1/endusers"},
		{"PUT", one},
		{"PATCH", one},
		{"PATCH", one + "/custom-attributes"},
	} {
		for _, body := range []string{`{"displayName":`, `not json`, ``, `null`, `{"data": 5}{}`} {
			t.Run(rt.method+" "+rt.path+" "+body, func(t *testing.T) {
				if got, want := e.do(rt.method, rt.path, body).want(t, 400).message(t), "Decoding failure in request"; got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			})
		}
	}
}
