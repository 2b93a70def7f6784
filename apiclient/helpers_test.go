package apiclient

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"sync"
	"testing"
	"time"
)

const (
	userID  = "434ce9f5-14c8-4be1-a0a8-f755010deb9b"
	userID2 = "55a54008-ad1b-3589-aa21-0d2629c1df41"
	attrID  = "274e5a2c-be0d-42c0-b725-3dd533729f68"
	attrID2 = "befae0d9-9679-42b9-af76-e76f64e28429"
	reqID   = "6bf55369-a670-4e6b-9f70-ecdb9913549f"
	testKey = "test-key-0123456789"
)

// handlerTransport serves requests with an http.Handler in memory. Unlike a
// real network it keeps everything inside a synctest bubble, so fake time
// advances while a handler waits. It reports WroteHeaders like the real
// transport, so the client sees the request as sent.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteHeaders != nil {
		tr.WroteHeaders()
	}
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	sreq.Host = req.URL.Host
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.h.ServeHTTP(rec, sreq)
	}()
	select {
	case <-done:
		resp := rec.Result()
		resp.Request = req
		return resp, nil
	case <-req.Context().Done():
		<-done // test handlers honour the context; nothing outlives the call
		return nil, req.Context().Err()
	}
}

// newMemClient returns a client whose requests are served by h in memory.
// Defaults suit tests: no breaker, a fast limiter, unless opts say otherwise.
func newMemClient(t testing.TB, h http.Handler, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithAPIKey(testKey),
		WithHTTPClient(&http.Client{Transport: handlerTransport{h}}),
		WithLimiter(NewLimiter(1000, 1000)),
		WithBreaker(0, 0),
	}
	c, err := New("https://dixa.test", append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// newServerClient returns a client talking to h over a real loopback
// connection, and the server.
func newServerClient(t testing.TB, h http.Handler, opts ...Option) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base := []Option{
		WithAPIKey(testKey),
		WithLimiter(NewLimiter(1000, 1000)),
		WithBreaker(0, 0),
	}
	c, err := New(srv.URL, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, srv
}

// seen is what a recording handler saw of one request.
type seen struct {
	Method   string
	Path     string
	RawQuery string
	Query    url.Values
	Header   http.Header
	Body     []byte
	At       time.Time
}

// recorder records requests and answers them with a scripted sequence of
// responses (the last one repeats).
type recorder struct {
	mu        sync.Mutex
	reqs      []seen
	responses []response
}

type response struct {
	status int
	body   string
	header map[string]string
	hang   bool // wait for the request's context to end
}

func newRecorder(rs ...response) *recorder { return &recorder{responses: rs} }

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: b, At: time.Now(),
	})
	var resp response
	if len(rec.responses) > 0 {
		i := min(len(rec.reqs)-1, len(rec.responses)-1)
		resp = rec.responses[i]
	} else {
		resp = response{status: 200, body: `{"data":{}}`}
	}
	rec.mu.Unlock()
	if resp.hang {
		<-r.Context().Done()
		return
	}
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = io.WriteString(w, resp.body)
}

func (rec *recorder) requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

// endUserJSON is a GET-one body as Dixa sends it.
const endUserJSON = `{"data":{"id":"434ce9f5-14c8-4be1-a0a8-f755010deb9b","createdAt":"2020-12-16T09:41:43Z",
"displayName":"Alice Brown","email":"alice@brown.com","phoneNumber":"+551155256325",
"additionalEmails":["alice@secondary.email"],"additionalPhoneNumbers":["+5566778899"],
"firstName":"Alice","lastName":"Brown","middleNames":[],"avatarUrl":"https://files.dixa.io/public/image_id",
"externalId":"#12345678","customAttributes":[{"id":"4baa78bc-4815-4122-9c99-f71cd742d37b",
"name":"My Attribute","identifier":"my_attribute","value":"My Attribute Value"}]}}`

func ok(body string) response { return response{status: 200, body: body} }

func status(code int, body string) response { return response{status: code, body: body} }

// jsonEqual compares two JSON documents structurally.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("body = %s, want %s", gb, wb)
	}
}
