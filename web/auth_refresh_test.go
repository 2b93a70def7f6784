package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"

	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/role"
)

// fakeRefresher stands in for the provider's token endpoint. Each call
// waits for release (when set), notes its context, and answers result.
type fakeRefresher struct {
	release chan struct{}
	result  func(call int) (auth.Claims, *oauth2.Token, error)

	mu        sync.Mutex
	calls     int
	ctxErrs   []error
	deadlines []bool
}

func (f *fakeRefresher) Refresh(ctx context.Context, _ *oauth2.Token) (auth.Claims, *oauth2.Token, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if f.release != nil {
		<-f.release
	}
	_, dl := ctx.Deadline()
	f.mu.Lock()
	f.ctxErrs, f.deadlines = append(f.ctxErrs, ctx.Err()), append(f.deadlines, dl)
	f.mu.Unlock()
	return f.result(n)
}

func (f *fakeRefresher) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

const refreshSubject = "https://idp.invalid|u-1"

// refreshed answers with the same person, now only a viewer.
func refreshed(int) (auth.Claims, *oauth2.Token, error) {
	return auth.Claims{ID: refreshSubject, Name: "Ada", Groups: []string{"v"}}, &oauth2.Token{RefreshToken: "r2"}, nil
}

// refreshServer is an oidc console whose provider is f, with one lead
// signed in (the returned cookie) whose groups were read at start.
func refreshServer(t *testing.T, f *fakeRefresher) (*Server, *http.Cookie) {
	t.Helper()
	s, err := New(Config{
		AuthMode: "oidc", OIDCIssuer: "https://idp.invalid", OIDCClientID: "console", OIDCRedirectURL: "http://127.0.0.1/auth/callback",
		CookieSameSite: "lax", FrameAncestors: "'self'", RoleFreshness: 5 * time.Minute,
		RoleGroups: map[role.Role][]string{role.Viewer: {"v"}, role.Agent: {"a"}, role.Lead: {"l"}},
	}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	s.auth.refresher = f
	w := httptest.NewRecorder()
	rec := auth.Record{Claims: auth.Claims{ID: refreshSubject, Name: "Ada", Groups: []string{"l"}}, Via: "oidc", Token: &oauth2.Token{RefreshToken: "r1"}}
	if _, err := s.auth.sessions.Create(w, httptest.NewRequest(http.MethodGet, "/", nil), false, rec); err != nil {
		t.Fatal(err)
	}
	return s, w.Result().Cookies()[0]
}

// identifyWith runs the sign-in check for a request of the session c.
func identifyWith(ctx context.Context, s *Server, c *http.Cookie) (reqctx.Identity, bool) {
	r := httptest.NewRequest(http.MethodGet, "/endusers", nil).WithContext(ctx)
	r.AddCookie(c)
	id, ok, _ := s.identify(httptest.NewRecorder(), r)
	return id, ok
}

func quietCtx(log *strings.Builder) context.Context {
	var h slog.Handler = slog.DiscardHandler
	if log != nil {
		h = slog.NewTextHandler(log, nil)
	}
	return reqctx.WithLogger(context.Background(), slog.New(h))
}

// Finding: concurrent requests of one session each refreshed the groups,
// so a provider that rotates refresh tokens refused all but the first and
// signed the person out. Now they share one refresh.
func TestGroupRefreshOncePerSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRefresher{release: make(chan struct{}), result: refreshed}
		s, c := refreshServer(t, f)
		time.Sleep(6 * time.Minute) // the groups are stale
		var wg sync.WaitGroup
		roles := make([]role.Role, 5)
		for i := range roles {
			wg.Go(func() {
				id, _ := identifyWith(quietCtx(nil), s, c)
				roles[i] = id.Role
			})
		}
		synctest.Wait() // every request is waiting for the provider
		if n := f.Calls(); n != 1 {
			t.Errorf("%d refreshes in flight for one session, want 1", n)
		}
		close(f.release)
		wg.Wait()
		for i, r := range roles {
			if r != role.Viewer {
				t.Errorf("request %d: role %q, want the refreshed viewer", i, r)
			}
		}
		identifyWith(quietCtx(nil), s, c)
		if n := f.Calls(); n != 1 {
			t.Errorf("%d refreshes after the groups were fresh again, want 1", n)
		}
	})
}

// Finding: the refresh ran on the request's context, so a request
// cancelled meanwhile (a search replaced by the next keystroke) cancelled
// it. It now runs detached, with its own deadline, and finishes.
func TestGroupRefreshDetachedFromRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRefresher{release: make(chan struct{}), result: refreshed}
		s, c := refreshServer(t, f)
		time.Sleep(6 * time.Minute)
		ctx, cancel := context.WithCancel(quietCtx(nil))
		done := make(chan struct{})
		go func() {
			identifyWith(ctx, s, c)
			close(done)
		}()
		synctest.Wait()
		cancel()
		<-done // the cancelled request does not wait for the provider
		close(f.release)
		synctest.Wait()
		f.mu.Lock()
		errs, deadlines := f.ctxErrs, f.deadlines
		f.mu.Unlock()
		if len(errs) != 1 || errs[0] != nil || !deadlines[0] {
			t.Errorf("refresh context: errors %v, deadline %v; want not cancelled, with its own deadline", errs, deadlines)
		}
		if id, ok := identifyWith(quietCtx(nil), s, c); !ok || id.Role != role.Viewer || f.Calls() != 1 {
			t.Errorf("after the detached refresh: %v %q, %d calls; want the viewer role from that one refresh", ok, id.Role, f.Calls())
		}
	})
}

// Finding: any refresh error ended the session. Now only the provider
// saying the grant is invalid (or a token naming someone else) does;
// other errors are logged, the session keeps its groups, and the refresh
// is tried again a little later.
func TestGroupRefreshFailureKeepsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRefresher{result: func(n int) (auth.Claims, *oauth2.Token, error) {
			if n == 1 {
				return auth.Claims{}, nil, errors.New("oidc: refresh: dial tcp: connection refused")
			}
			return auth.Claims{}, nil, fmt.Errorf("%w: revoked", auth.ErrGrantInvalid)
		}}
		s, c := refreshServer(t, f)
		time.Sleep(6 * time.Minute)
		var log strings.Builder
		if id, ok := identifyWith(quietCtx(&log), s, c); !ok || id.Role != role.Lead {
			t.Fatalf("provider unreachable: %v %q, want still signed in with the groups it had", ok, id.Role)
		}
		if !strings.Contains(log.String(), "could not refresh the groups") {
			t.Errorf("the failed refresh was not logged: %s", log.String())
		}
		identifyWith(quietCtx(nil), s, c)
		if n := f.Calls(); n != 1 {
			t.Errorf("%d refreshes right after a failure, want 1 (wait before retrying)", n)
		}
		time.Sleep(refreshRetry + time.Second)
		if _, ok := identifyWith(quietCtx(nil), s, c); ok || f.Calls() != 2 || s.Sessions() != 0 {
			t.Errorf("invalid grant: signed in %v after %d calls, %d sessions; want the session ended", ok, f.Calls(), s.Sessions())
		}
	})
}

// A refreshed token that names another person ends the session.
func TestGroupRefreshOtherPersonEndsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRefresher{result: func(int) (auth.Claims, *oauth2.Token, error) {
			return auth.Claims{ID: "https://idp.invalid|u-2", Groups: []string{"l"}}, &oauth2.Token{}, nil
		}}
		s, c := refreshServer(t, f)
		time.Sleep(6 * time.Minute)
		if _, ok := identifyWith(quietCtx(nil), s, c); ok || s.Sessions() != 0 {
			t.Errorf("a token for someone else: signed in %v, %d sessions; want ended", ok, s.Sessions())
		}
	})
}
