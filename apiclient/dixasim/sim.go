// Package dixasim is an in-memory simulator of the End Users area of the
// Dixa API (https://dev.dixa.io), with the conversations, messages, notes,
// tags and agents an end user's history needs, for tests, demos and local
// development of the console.
//
// A *Sim is an http.Handler that serves the same handlers under /v1 and
// /beta, answers with the JSON shapes, status codes and message strings of
// the vendor's OpenAPI document (checked by the contract tests in
// apiclient/dixasim/contract), authenticates with an API key, rate limits per
// key, and can inject latency, errors and 429 storms. Its demo organisation is
// generated deterministically from a seed.
//
// Where Dixa's behaviour is not documented (UNCONFIRMED) the simulator picks
// a behaviour a careful client must survive; each such choice is documented
// where it is made.
//
// The simulator imports apiclient for its models only (the timestamp types,
// the models' constants and the EndUser returned by AnyUserID); the JSON it
// writes comes from its own wire types, so that a drift between the two
// shows up in the contract tests.
package dixasim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultAPIKey is the key the simulator accepts when Options.APIKey is empty.
const DefaultAPIKey = "dev-key"

// OrgID is the id of the simulated organisation, as it appears in bulk error
// messages.
const OrgID = "b86a1842-437c-4c55-ac4b-0a9cd2f44dfb"

// TokenOwnerID is the id of the (simulated) agent who owns the API key; it is
// the requestedBy of every anonymization request made through the simulator.
const TokenOwnerID = "2b01e4c9-0c3a-47d4-9462-cd5a1a4687f5"

// Error messages. The spec gives only a few example strings; these are the
// ones it shows, plus its reason strings where the spec lists reasons but no
// message.
const (
	msgUnauthorized    = "Unauthorized"
	msgTooManyRequests = "Too Many Requests"
	msgDecoding        = "Decoding failure in request"
	msgInvalidValue    = "Invalid value in request"
	msgInvalidBody     = "Invalid value for: body"
	msgNotFound        = "The requested resource could not be found"
	msgServerError     = "There was an internal server error while processing the request"
	msgTwoFilters      = "Invalid filters: Cannot provide more than one filter"
)

// Options configures a Sim. The zero value is usable.
type Options struct {
	// APIKey is the key every request must present in the Authorization
	// header, raw or as "Bearer <key>"; a missing or wrong key is answered
	// with 401 {"message":"Unauthorized"}. Empty means DefaultAPIKey.
	APIKey string
	// Seed seeds the demo data (deterministic); 0 means 1.
	Seed int64
	// Users is the number of demo end users: 0 means 1200, -1 an empty
	// organisation (no end users, but custom attribute definitions are
	// still seeded). The well-known demo users (DemoScriptUserID and
	// friends) are the first of them.
	Users int
	// RateLimit is the number of requests per second allowed per key (a
	// token bucket); 0 turns rate limiting off. Dixa allows 10.
	RateLimit float64
	// Burst is the bucket size; 0 means 4 (Dixa's documented burst).
	Burst int
	// RetryAfter adds a Retry-After header (whole seconds) to 429 answers.
	// Whether Dixa sends one is UNCONFIRMED.
	RetryAfter bool
	// AnonymizeDelay is how long after the request an anonymization is
	// processed (processedAt appears, the data is blanked); 0 means 2s,
	// a negative value means at once.
	AnonymizeDelay time.Duration
	// DefaultPageSize is the page size when a list request has no
	// pageLimit (0 means 50); MaxPageSize is the largest pageLimit (0
	// means 100). A larger pageLimit is lowered to it on the end users and
	// agents lists, and refused with 400 on an end user's conversations, so
	// that a client meets both behaviours. Dixa's values are UNCONFIRMED.
	DefaultPageSize, MaxPageSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sim is the simulator: an http.Handler that is safe for concurrent use.
// Create it with New.
type Sim struct {
	opts   Options
	now    func() time.Time
	mux    *http.ServeMux
	pages  pageKeyCodec
	limits *limiter
	faults *faults
	stats  *recorder

	mu sync.RWMutex // guards st
	st *store
}

// New returns a simulator seeded with a demo organisation.
func New(o Options) *Sim {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Users == 0 {
		o.Users = 1200
	}
	if o.Burst <= 0 {
		o.Burst = 4
	}
	switch {
	case o.AnonymizeDelay == 0:
		o.AnonymizeDelay = 2 * time.Second
	case o.AnonymizeDelay < 0:
		o.AnonymizeDelay = 0
	}
	if o.DefaultPageSize <= 0 {
		o.DefaultPageSize = 50
	}
	if o.MaxPageSize <= 0 {
		o.MaxPageSize = 100
	}
	if o.DefaultPageSize > o.MaxPageSize {
		o.DefaultPageSize = o.MaxPageSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sim{
		opts:   o,
		now:    o.Now,
		pages:  newPageKeyCodec(o.Seed),
		limits: newLimiter(o.RateLimit, o.Burst),
		faults: newFaults(o.Seed),
		stats:  newRecorder(),
		st:     seed(o.Seed, o.Users),
	}
	s.mux = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Read the body once so that it can be both recorded and decoded.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.stats.recordRequest(r, body, s.now())
	s.mux.ServeHTTP(w, r)
}

// maxBodyBytes bounds request bodies (Dixa's limit is UNCONFIRMED; API
// gateways commonly allow 10 MB).
const maxBodyBytes = 10 << 20

// routes is the whole URL surface. Each route is served under both version
// prefixes; its template (without prefix) names it for faults and stats.
func (s *Sim) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range []struct {
		route string
		h     http.HandlerFunc
	}{
		{"GET /endusers", s.listEndUsers},
		{"POST /endusers", s.createEndUser},
		{"PUT /endusers", s.bulkUpdateEndUsers},
		{"PATCH /endusers", s.bulkPatchEndUsers},
		{"POST /endusers/bulk", s.bulkCreateEndUsers},
		{"GET /endusers/{userId}", s.getEndUser},
		{"PUT /endusers/{userId}", s.updateEndUser},
		{"PATCH /endusers/{userId}", s.patchEndUser},
		{"PATCH /endusers/{userId}/anonymize", s.anonymizeEndUser},
		{"PATCH /endusers/{userId}/custom-attributes", s.patchCustomAttributes},
		{"GET /endusers/{userId}/conversations", s.listConversations},
		{"GET /conversations/{conversationId}", s.getConversation},
		{"GET /conversations/{conversationId}/messages", s.listMessages},
		{"GET /conversations/{conversationId}/notes", s.listNotes},
		{"GET /conversations/{conversationId}/tags", s.listTags},
		{"GET /agents", s.listAgents},
		{"GET /agents/{agentId}", s.getAgent},
		{"GET /custom-attributes", s.listDefinitions},
		{"GET /custom-attributes/{customAttributeId}", s.getDefinition},
		{"GET /anonymization/request/{requestId}", s.getAnonymizationRequest},
	} {
		method, path, _ := strings.Cut(rt.route, " ")
		for _, v := range versions {
			mux.Handle(method+" /"+v+path, s.wrap(rt.route, rt.h))
		}
	}
	// Anything else is answered like an unknown resource, in JSON, after
	// authentication (so a client with a bad key learns that first).
	mux.Handle("/", s.wrap(routeUnknown, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, msgNotFound)
	}))
	return mux
}

// versions are the path prefixes served; the handlers are identical.
var versions = []string{"v1", "beta"}

// routeUnknown names requests that match no route in Stats.
const routeUnknown = "unknown"

// wrap puts the gateway in front of a handler, in the order a request meets
// it: latency, a 429 storm, authentication, the rate limit, injected
// failures; then it applies anonymizations that have become due.
func (s *Sim) wrap(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		s.stats.begin(route, s.now())
		defer func() { s.stats.end(route, sw.status) }()

		if !s.faults.delay(r.Context(), route) {
			return // the client went away
		}
		now := s.now()
		if wait, retryAfter, ok := s.faults.storming(now); ok {
			tooManyRequests(sw, wait, retryAfter)
			return
		}
		key, ok := s.authenticate(r)
		if !ok {
			writeError(sw, http.StatusUnauthorized, msgUnauthorized)
			return
		}
		if ok, wait := s.limits.allow(key, now); !ok {
			tooManyRequests(sw, wait, s.opts.RetryAfter)
			return
		}
		if status, ok := s.faults.inject(route); ok {
			if status == http.StatusTooManyRequests {
				tooManyRequests(sw, time.Second, s.opts.RetryAfter)
				return
			}
			writeError(sw, status, messageFor(status))
			return
		}
		s.settle()
		h(sw, r)
	})
}

// authenticate accepts the key raw (Dixa's documented form) or as
// "Bearer <key>" (seen in third-party clients), and returns it.
func (s *Sim) authenticate(r *http.Request) (string, bool) {
	got := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(got) > 7 && strings.EqualFold(got[:7], "Bearer ") {
		got = strings.TrimSpace(got[7:])
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.APIKey)) != 1 {
		return "", false
	}
	return got, true
}

// messageFor is the body message of an injected failure.
func messageFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return msgInvalidValue
	case http.StatusUnauthorized:
		return msgUnauthorized
	case http.StatusNotFound:
		return msgNotFound
	case http.StatusInternalServerError:
		return msgServerError
	case http.StatusGatewayTimeout:
		// What an AWS API Gateway answers when the backend is too slow.
		return "Endpoint request timed out"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return msgServerError
}

// envelope is Dixa's success body: {"data": …} with an optional meta.
type envelope struct {
	Data any   `json:"data"`
	Meta *meta `json:"meta,omitempty"`
}

// meta holds the pagination links of a list; both are relative URLs.
type meta struct {
	Previous string `json:"previous,omitempty"`
	Next     string `json:"next,omitempty"`
}

// errorBody is every non-2xx body: a single message, no _type.
type errorBody struct {
	Message string `json:"message"`
}

// writeJSON writes v as the JSON body with the given status. HTML
// characters are not escaped (Go's default): Dixa sends "<script>" as is,
// and the console must cope with that.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = enc.Encode(errorBody{msgServerError})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeData writes {"data": v}.
func writeData(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, envelope{Data: v})
}

// writeError writes {"message": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{msg})
}

// statusWriter remembers the status written, for Stats.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
