package apiclient

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestPageKeyFromLink(t *testing.T) {
	tests := []struct {
		name, link, want string
		wantWarn         bool
	}{
		{"empty", "", "", false},
		{"relative", "/v1/endusers?pageKey=abc", "abc", false},
		{"relative with limit", "/v1/endusers?pageLimit=10&pageKey=abc", "abc", false},
		{"query only", "?pageKey=abc", "abc", false},
		{"absolute same host", "https://dixa.test/v1/endusers?pageKey=abc", "abc", false},
		{"absolute same host, other case", "https://DIXA.test/v1/endusers?pageKey=abc", "abc", false},
		{"absolute other host", "https://evil.example/v1/endusers?pageKey=abc", "", true},
		{"scheme-relative other host", "//evil.example/v1/endusers?pageKey=abc", "", true},
		{"escaped base64", "/v1/endusers?pageKey=ab%2Bc%2Fd%3D%3D", "ab+c/d==", false},
		{"unescaped base64 plus", "/v1/endusers?pageKey=ab+c/d==", "ab+c/d==", false},
		{"no page key", "/v1/endusers?pageLimit=10", "", false},
		{"unparsable", "http://[::1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := newMemClient(t, nil, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if got := c.pageKey(t.Context(), "/endusers", tt.link); got != tt.want {
				t.Errorf("pageKey(%q) = %q, want %q", tt.link, got, tt.want)
			}
			if got := strings.Contains(logs.String(), "level=WARN"); got != tt.wantWarn {
				t.Errorf("warning logged = %v, want %v (logs: %s)", got, tt.wantWarn, logs.String())
			}
			if strings.Contains(logs.String(), "pageKey=abc") {
				t.Errorf("log repeats the link: %s", logs.String())
			}
		})
	}
}

// pagedHandler serves end users in pages keyed "p1", "p2", …; next links are
// produced by link(key).
func pagedHandler(pages [][]string, link func(key string) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i := 0
		if k := r.URL.Query().Get("pageKey"); k != "" {
			_, _ = fmt.Sscanf(k, "p%d", &i)
		}
		if i >= len(pages) {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"message":"no such page"}`))
			return
		}
		var items []string
		for _, id := range pages[i] {
			items = append(items, `{"id":"`+id+`","createdAt":"2020-12-16T09:41:43Z"}`)
		}
		meta := ""
		if i+1 < len(pages) {
			meta = `,"meta":{"next":"` + link(fmt.Sprintf("p%d", i+1)) + `"}`
		}
		_, _ = fmt.Fprintf(w, `{"data":[%s]%s}`, strings.Join(items, ","), meta)
	}
}

func TestEndUsersIterator(t *testing.T) {
	ids := func(n, from int) []string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf("00000000-0000-4000-8000-%012d", from+i))
		}
		return s
	}
	relative := func(k string) string { return "/v1/endusers?pageKey=" + k }
	absolute := func(k string) string { return "https://dixa.test/v1/endusers?pageKey=" + k + "&pageLimit=999" }
	offHost := func(k string) string { return "https://evil.example/v1/endusers?pageKey=" + k }

	tests := []struct {
		name      string
		pages     [][]string
		link      func(string) string
		wantItems int
		wantCalls int
		wantErr   error
	}{
		{"relative links", [][]string{ids(2, 0), ids(2, 2), ids(1, 4)}, relative, 5, 3, nil},
		{"absolute links", [][]string{ids(2, 0), ids(2, 2)}, absolute, 4, 2, nil},
		{"off-host link ends", [][]string{ids(2, 0), ids(2, 2)}, offHost, 2, 1, nil},
		{"empty page with next ends", [][]string{ids(2, 0), {}, ids(2, 4)}, relative, 2, 2, nil},
		{"repeated key ends", [][]string{ids(1, 0), ids(1, 1), ids(1, 2)}, func(string) string { return relative("p1") }, 2, 2, nil},
		{"error ends, yielded once", [][]string{ids(2, 0)}, func(string) string { return relative("p9") }, 2, 2, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The "error" case links to a page that does not exist.
			pages := tt.pages
			if tt.wantErr != nil {
				pages = append(pages, nil)
			}
			rec := newRecorder()
			h := pagedHandler(pages, tt.link)
			c := newMemClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec.mu.Lock()
				rec.reqs = append(rec.reqs, seen{Query: r.URL.Query(), RawQuery: r.URL.RawQuery})
				rec.mu.Unlock()
				h(w, r)
			}), WithRetries(0))
			var got []string
			var errs []error
			for u, err := range c.EndUsers(t.Context(), ListOptions{PageLimit: 2, Phone: "+4512345678"}) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				got = append(got, u.ID)
			}
			if len(got) != tt.wantItems {
				t.Errorf("got %d items, want %d", len(got), tt.wantItems)
			}
			if tt.wantErr == nil && len(errs) != 0 {
				t.Errorf("got errors %v, want none", errs)
			}
			if tt.wantErr != nil && (len(errs) != 1 || !errors.Is(errs[0], tt.wantErr)) {
				t.Errorf("got errors %v, want one %v", errs, tt.wantErr)
			}
			reqs := rec.requests()
			if len(reqs) != tt.wantCalls {
				t.Errorf("got %d calls, want %d", len(reqs), tt.wantCalls)
			}
			for i, r := range reqs {
				// Same filter and our page size on every page, plus the key.
				if r.Query.Get("phone") != "+4512345678" || r.Query.Get("pageLimit") != "2" {
					t.Errorf("call %d query = %q, want phone and pageLimit=2", i, r.RawQuery)
				}
				if i > 0 && r.Query.Get("pageKey") == "" {
					t.Errorf("call %d has no pageKey", i)
				}
			}
		})
	}
}

func TestEndUsersIteratorBreak(t *testing.T) {
	rec := newRecorder(ok(`{"data":[{"id":"` + userID + `","createdAt":"2020-12-16T09:41:43Z"},{"id":"` + userID2 + `","createdAt":"2020-12-16T09:41:43Z"}],"meta":{"next":"/v1/endusers?pageKey=p1"}}`))
	c := newMemClient(t, rec)
	n := 0
	for _, err := range c.EndUsers(t.Context(), ListOptions{PageKey: "start"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 || rec.count() != 1 {
		t.Errorf("consumed %d items with %d calls, want 1 and 1", n, rec.count())
	}
	if got := rec.requests()[0].Query.Get("pageKey"); got != "start" {
		t.Errorf("first call pageKey = %q, want the given start key", got)
	}
}

func TestEndUserConversationsIterator(t *testing.T) {
	conv := func(id int) string {
		return fmt.Sprintf(`{"id":%d,"requesterId":"%s","channel":"Email","createdAt":"2020-12-16T09:41:43Z","_type":"EmailConversation"}`, id, userID)
	}
	rec := newRecorder(
		ok(`{"data":[`+conv(1)+`,`+conv(2)+`],"meta":{"next":"/v1/endusers/`+userID+`/conversations?pageKey=k2"}}`),
		ok(`{"data":[`+conv(3)+`],"meta":{}}`),
	)
	c := newMemClient(t, rec)
	var ids []int64
	for cv, err := range c.EndUserConversations(t.Context(), userID, PageOptions{PageLimit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cv.ID)
	}
	if fmt.Sprint(ids) != "[1 2 3]" {
		t.Errorf("ids = %v, want [1 2 3]", ids)
	}
	reqs := rec.requests()
	if len(reqs) != 2 || reqs[1].Query.Get("pageKey") != "k2" || reqs[1].Query.Get("pageLimit") != "2" ||
		reqs[1].Path != "/v1/endusers/"+userID+"/conversations" {
		t.Errorf("requests = %+v", reqs)
	}
	// A bad id is yielded as the single error.
	var errs []error
	for _, err := range c.EndUserConversations(t.Context(), "nope", PageOptions{}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrBadRequest) {
		t.Errorf("errors = %v, want one ErrBadRequest", errs)
	}
}
