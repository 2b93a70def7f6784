// Package apiclient is a typed client for the End Users area of the Dixa API
// (https://dev.dixa.io) and for what an end user's history needs: their
// conversations with messages, internal notes and tags, and the agents.
//
// All calls of a process go through one shared Limiter (Dixa's rate limit is
// per API token), one retry loop and one circuit breaker. GETs are retried
// on 429, 5xx and connection errors; writes only after a 429 (Dixa refused
// them before processing): Dixa has no idempotency keys, so a write that
// failed after it may have been sent is reported as ErrOutcomeUnknown and
// never repeated. Every error is an *Error that matches the package's
// sentinels with errors.Is and never contains the API key or a query string.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults, as documented on the options.
const (
	defaultTimeout     = 10 * time.Second
	defaultRetries     = 3
	defaultBreakerN    = 5
	defaultBreakerOpen = 10 * time.Second
	defaultRPS         = 10
	defaultBurst       = 4

	backoffBase = 250 * time.Millisecond
	backoffCap  = 5 * time.Second
	// maxRetryAfter caps a Retry-After header: the block is shared by the
	// whole process, so a garbage value must not stop it for days.
	maxRetryAfter = 15 * time.Minute

	maxErrorBody   = 64 << 10 // error bodies hold one short message
	maxSuccessBody = 16 << 20 // a page of end users; bounded against a runaway upstream

	userAgent = "dixa-console-apiclient/1"
)

// Client calls the Dixa API. It is safe for concurrent use; create one per
// process (or at least share its Limiter).
type Client struct {
	base    *url.URL
	version string
	auth    *credentials // behind a pointer so that printing a Client never prints the key
	hc      *http.Client
	lim     *Limiter
	timeout time.Duration
	maxWait time.Duration
	// queueMax bounds an interactive call's wait for one rate-limit slot.
	queueMax time.Duration
	retries  int
	log      *slog.Logger
	observe  func(method, route string, status int, d time.Duration, err error)

	breakerN    int
	breakerOpen time.Duration
	br          *breaker

	lastSuccess atomic.Int64 // unix nanoseconds
}

type credentials struct{ key string }

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sets the Dixa API token, sent as the raw value of the
// Authorization header (Dixa's documented form; a "Bearer " prefix given by
// mistake is removed).
func WithAPIKey(key string) Option {
	return func(c *Client) {
		key = strings.TrimSpace(key)
		if len(key) > 7 && strings.EqualFold(key[:7], "bearer ") {
			key = strings.TrimSpace(key[7:])
		}
		c.auth = &credentials{key: key}
	}
}

// WithVersion selects the API version path prefix: "v1" (default) or
// "beta". New fails for anything else.
func WithVersion(v string) Option { return func(c *Client) { c.version = v } }

// WithHTTPClient sets the HTTP client. A copy is used whose CheckRedirect
// refuses redirects: following one would send the key to wherever Dixa (or
// an attacker in the middle) points.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			cp := *hc
			c.hc = &cp
		}
	}
}

// WithLimiter sets the shared rate limiter. Every Client using the same API
// key must use the same Limiter. Default: NewLimiter(10, 4), Dixa's limit.
func WithLimiter(l *Limiter) Option { return func(c *Client) { c.lim = l } }

// WithTimeout sets the deadline of each upstream request attempt (default
// 10s). It covers reading the response body.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxWait sets how long a call may spend waiting: in the rate limiter
// and in back-off between retries, counted from the start of the call. A
// call whose slot would come later fails at once with ErrRateLimited, and no
// retry is started after it. A call therefore ends within about
// maxWait + timeout. Default: the timeout.
func WithMaxWait(d time.Duration) Option { return func(c *Client) { c.maxWait = d } }

// WithQueueMax bounds how long an interactive call (one not marked
// WithLowPriority) waits for a rate-limit slot: past it the call fails at
// once with ErrRateLimited and a RetryAfter hint, so that a person gets a
// quick answer when the budget is spent. 0 (the default) leaves the wait
// bounded by WithMaxWait only.
func WithQueueMax(d time.Duration) Option { return func(c *Client) { c.queueMax = d } }

// WithRetries sets how many times a GET is retried after a 429, a 5xx or a
// connection error, and a write after a 429 (default 3).
func WithRetries(n int) Option { return func(c *Client) { c.retries = n } }

// WithLogger sets the logger for retries, throttling and breaker changes.
// Log lines carry the method, templated route and status, never the key or
// query values. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithBreaker configures the circuit breaker: after `failures` consecutive
// 5xx answers, timeouts or connection errors every call fails fast with an
// error matching ErrBreakerOpen and ErrUpstream until `open` has elapsed;
// then a single probe call is let through, whose success closes the breaker.
// failures < 1 disables it. Default: 5 failures, 10s.
func WithBreaker(failures int, open time.Duration) Option {
	return func(c *Client) { c.breakerN, c.breakerOpen = failures, open }
}

// WithObserver sets a metrics hook called after every upstream attempt, and
// once for a call refused locally by the breaker or the rate limiter (status
// 0). route is the templated path, e.g. "/endusers/{id}"; status is 0 when
// there was no HTTP answer.
func WithObserver(fn func(method, route string, status int, d time.Duration, err error)) Option {
	return func(c *Client) { c.observe = fn }
}

// New returns a Client for baseURL, e.g. "https://dev.dixa.io"; the version
// prefix ("/v1") is added by the client.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, errors.New("apiclient: invalid base URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("apiclient: base URL scheme must be http or https, got %q", u.Scheme)
	case u.Host == "":
		return nil, errors.New("apiclient: base URL has no host")
	case u.User != nil:
		// Credentials in the URL would end up in logs and error strings.
		return nil, errors.New("apiclient: base URL must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("apiclient: base URL must not have a query or fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""

	c := &Client{
		base:        u,
		version:     "v1",
		auth:        &credentials{},
		timeout:     defaultTimeout,
		retries:     defaultRetries,
		breakerN:    defaultBreakerN,
		breakerOpen: defaultBreakerOpen,
	}
	for _, o := range opts {
		o(c)
	}
	switch {
	case c.version != "v1" && c.version != "beta":
		return nil, fmt.Errorf("apiclient: version must be v1 or beta, got %q", c.version)
	case c.timeout <= 0:
		return nil, errors.New("apiclient: timeout must be positive")
	case c.maxWait < 0 || c.queueMax < 0:
		return nil, errors.New("apiclient: max wait must not be negative")
	case c.retries < 0:
		return nil, errors.New("apiclient: retries must not be negative")
	case c.breakerN > 0 && c.breakerOpen <= 0:
		return nil, errors.New("apiclient: breaker open interval must be positive")
	case strings.ContainsFunc(c.auth.key, func(r rune) bool { return r < 0x21 || r == 0x7f }):
		return nil, errors.New("apiclient: API key contains spaces or control characters")
	}
	if c.maxWait == 0 {
		c.maxWait = c.timeout
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Calls are spread over a few connections at 10/s; keep them warm.
		t.MaxIdleConnsPerHost = 16
		c.hc = &http.Client{Transport: t}
	}
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c.lim == nil {
		c.lim = NewLimiter(defaultRPS, defaultBurst)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.br = newBreaker(c.breakerN, c.breakerOpen)
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		c.log.Warn("dixa base URL is plain http: the API key travels unencrypted", "host", u.Host)
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LastSuccess returns when Dixa last gave an answer showing it works and
// accepts the key: a 2xx, or a 4xx other than 401/403 (a 404 or 429 is a
// healthy upstream answering). Zero if never. Meant for readiness checks,
// which should not spend rate-limit tokens of their own.
func (c *Client) LastSuccess() time.Time {
	n := c.lastSuccess.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Ping makes one light call (GET /endusers?pageLimit=1) and reports whether
// it succeeded.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.ListEndUsers(ctx, ListOptions{PageLimit: 1})
	return err
}

// call describes one API call for do.
type call struct {
	method string
	route  string     // templated path for metrics and logs, e.g. "/endusers/{id}"
	path   string     // actual path after the version, e.g. "/endusers/<uuid>"
	query  url.Values // may be nil
	body   any        // JSON-encoded when non-nil
	out    any        // the 2xx body is decoded into it when non-nil
}

func (r call) isWrite() bool { return r.method != http.MethodGet && r.method != http.MethodHead }

// do runs a call: breaker, limiter, attempt, classification, retries.
func (c *Client) do(ctx context.Context, r call) error {
	errPath := "/" + c.version + r.path
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return badRequest(r.method, errPath, "cannot encode request body")
		}
		body = b
	}
	u := *c.base
	u.Path = c.base.Path + errPath // ids in paths are validated UUIDs: nothing to escape
	u.RawQuery = r.query.Encode()  // url.Values escapes '+', '#', spaces and non-ASCII
	target := u.String()

	// The wait budget covers the limiter and back-off between retries;
	// attempts themselves are bounded by c.timeout each.
	budget := time.Now().Add(c.maxWait)
	waitCtx, cancel := context.WithDeadline(ctx, budget)
	defer cancel()

	var last *Error
	for attempt := 0; ; attempt++ {
		ok, probe, wait := c.br.allow()
		if !ok {
			e := &Error{Method: r.method, Path: errPath, Message: "circuit breaker open",
				RetryAfter: retryHint(wait), kind: ErrBreakerOpen}
			c.observeCall(r, 0, 0, e)
			return e
		}
		if err := c.waitSlot(waitCtx); err != nil {
			c.br.done(probe, outcomeAbandoned)
			return c.waitFailed(ctx, r, errPath, err, last)
		}
		e, retryIn := c.attempt(ctx, r, target, errPath, body, attempt, probe)
		if e == nil {
			return nil
		}
		last = e
		if retryIn < 0 || attempt >= c.retries {
			return e
		}
		if !time.Now().Add(retryIn).Before(budget) {
			return e
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "dixa request retried",
			slog.String("method", r.method), slog.String("route", r.route),
			slog.Int("status", e.Status), slog.Int("attempt", attempt+1),
			slog.Duration("retry_in", retryIn), slog.String("error", e.Error()))
		if err := sleep(ctx, retryIn); err != nil {
			e.cause = err
			return e
		}
	}
}

// waitSlot waits for a rate-limit slot, an interactive call at most
// queueMax.
func (c *Client) waitSlot(ctx context.Context) error {
	if c.queueMax > 0 && !isLowPriority(ctx) {
		qctx, cancel := context.WithTimeout(ctx, c.queueMax)
		defer cancel()
		ctx = qctx
	}
	return c.lim.Wait(ctx)
}

// waitFailed turns a limiter failure into the call's error.
func (c *Client) waitFailed(ctx context.Context, r call, path string, err error, last *Error) *Error {
	if errors.Is(ctx.Err(), context.Canceled) {
		// The caller gave up before sending. (A deadline, the caller's or
		// the wait budget's, is reported as rate limiting below: the call
		// could not get a slot in time.)
		e := &Error{Method: r.method, Path: path, Message: "request not sent: " + ctx.Err().Error(), cause: ctx.Err()}
		if last != nil {
			last.cause = ctx.Err()
			e = last
		}
		return e
	}
	var rl *Error
	if !errors.As(err, &rl) {
		rl = rateLimitedError(0, err)
	}
	// After a 429 the answer from Dixa says more than "no slot"; keep it,
	// with the hint updated to the shared block.
	if last != nil && last.Status == http.StatusTooManyRequests {
		last.RetryAfter = rl.RetryAfter
		c.observeCall(r, 0, 0, last)
		return last
	}
	e := *rl
	e.Method, e.Path = r.method, path
	c.observeCall(r, 0, 0, &e)
	return &e
}

// attempt sends the request once. retryIn < 0 means the error must not be
// retried; otherwise it is the back-off before the next attempt.
func (c *Client) attempt(ctx context.Context, r call, target, path string, body []byte, attempt int, probe bool) (e *Error, retryIn time.Duration) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Whether anything of the request reached the wire decides whether a
	// failed write is "not done" or "outcome unknown".
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	})
	req, err := c.newRequest(actx, r, target, body)
	if err != nil {
		return badRequest(r.method, path, "cannot build request"), -1
	}
	a := try{r: r, path: path, n: attempt, probe: probe, start: time.Now()}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.noAnswer(ctx, actx, a, 0, err, wrote.Load())
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
	}()
	return c.answer(ctx, actx, a, resp)
}

// try is one attempt of a call, as its outcome is recorded.
type try struct {
	r     call
	path  string    // the path as errors show it
	n     int       // 0 for the first attempt; the back-off grows with it
	probe bool      // the breaker's half-open probe
	start time.Time // when the request was sent
}

// newRequest builds the HTTP request of an attempt, body being the
// encoded JSON (nil for none).
func (c *Client) newRequest(actx context.Context, r call, target string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, target, rd)
	if err != nil {
		return nil, err
	}
	if c.auth.key != "" {
		req.Header.Set("Authorization", c.auth.key)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// No Idempotency-Key: Go's transport would then replay the write on
	// some connection errors, and Dixa does not deduplicate.
	return req, nil
}

// noAnswer records an attempt that got no (complete) HTTP answer: err is
// the transport's error, status the answer's status when its body could
// not be read in time (0 when there was no answer).
func (c *Client) noAnswer(ctx, actx context.Context, a try, status int, err error, wrote bool) (*Error, time.Duration) {
	e, o, retry := c.transportError(ctx, actx, a.r, a.path, err, wrote)
	c.finish(a.r, a.probe, o, status, a.start, e)
	if !retry {
		return e, -1
	}
	return e, backoff(a.n)
}

// answer classifies an HTTP answer: 2xx succeeds, 429 waits for the
// shared block and retries, 5xx retries a read (a write's outcome is
// unknown), anything else is final.
func (c *Client) answer(ctx, actx context.Context, a try, resp *http.Response) (*Error, time.Duration) {
	r, status := a.r, resp.StatusCode
	switch {
	case status >= 200 && status < 300:
		return c.success(ctx, actx, a, resp)

	case status == http.StatusTooManyRequests:
		// Refused before processing: safe to retry, writes included, once
		// the shared block has passed (the limiter waits for it).
		d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			d = backoff(a.n)
		}
		c.lim.BlockUntil(time.Now().Add(d))
		e := c.httpError(r, a.path, resp)
		e.RetryAfter = retryHint(time.Until(c.lim.BlockedUntil()))
		c.markSuccess()
		c.finish(r, a.probe, outcomeSuccess, status, a.start, e)
		c.log.LogAttrs(ctx, slog.LevelWarn, "dixa rate limit hit",
			slog.String("method", r.method), slog.String("route", r.route),
			slog.Duration("blocked_for", d), slog.Bool("retry_after_header", ok))
		return e, 0

	case status >= 500:
		e := c.httpError(r, a.path, resp)
		c.finish(r, a.probe, outcomeFailure, status, a.start, e)
		if r.isWrite() {
			e.Unknown = true
			return e, -1
		}
		return e, backoff(a.n)

	default: // 1xx, 3xx (redirects are not followed), 4xx
		e := c.httpError(r, a.path, resp)
		if status >= 300 && status < 400 {
			e.Message = "unexpected redirect"
		}
		if status >= 400 && status != http.StatusUnauthorized && status != http.StatusForbidden {
			c.markSuccess()
		}
		if status < 300 {
			e.kind = ErrUpstream
		}
		c.finish(r, a.probe, outcomeSuccess, status, a.start, e)
		return e, -1
	}
}

// success decodes a 2xx answer into the call's out.
func (c *Client) success(ctx, actx context.Context, a try, resp *http.Response) (*Error, time.Duration) {
	r, status := a.r, resp.StatusCode
	if r.out != nil && status != http.StatusNoContent {
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxSuccessBody)).Decode(r.out); err != nil {
			if actx.Err() != nil {
				// The deadline hit while reading the body.
				return c.noAnswer(ctx, actx, a, status, actx.Err(), true)
			}
			// The upstream is up but speaks something else: not worth a
			// retry. A write was applied, but its result is unreadable.
			e := &Error{Status: status, Method: r.method, Path: a.path,
				Message: "invalid response body", Unknown: r.isWrite(), kind: ErrUpstream}
			c.finish(r, a.probe, outcomeSuccess, status, a.start, e)
			return e, -1
		}
	}
	c.markSuccess()
	c.finish(r, a.probe, outcomeSuccess, status, a.start, nil)
	return nil, 0
}

// transportError classifies a failed round trip (no HTTP answer).
func (c *Client) transportError(ctx, actx context.Context, r call, path string, err error, wrote bool) (e *Error, o outcome, retry bool) {
	e = &Error{Method: r.method, Path: path, kind: ErrUpstream, Unknown: r.isWrite() && wrote}
	switch {
	case ctx.Err() != nil:
		// The caller's context ended: not the upstream's fault, so the
		// breaker does not count it, and there is nothing left to retry for.
		e.Message = "request interrupted: " + ctx.Err().Error()
		e.cause = ctx.Err()
		if errors.Is(ctx.Err(), context.Canceled) {
			e.kind = nil
		}
		return e, outcomeAbandoned, false
	case actx.Err() != nil:
		e.Message = fmt.Sprintf("no answer within %s", c.timeout)
	default:
		// The url.Error text holds the full URL with its query (an email,
		// a phone number); keep only the inner error.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		e.Message = sanitizeMessage("connection failed: "+err.Error(), c.auth.key)
	}
	return e, outcomeFailure, !r.isWrite()
}

// httpError builds the error for a non-2xx answer from its bounded body.
func (c *Client) httpError(r call, path string, resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, Method: r.method, Path: path}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		e.Message = sanitizeMessage(m.Message, c.auth.key)
	} else {
		// Never pass on a body we do not understand: it may be an HTML
		// error page or an echo of the request.
		e.Message = "no error message"
	}
	return e
}

func (c *Client) markSuccess() { c.lastSuccess.Store(time.Now().UnixNano()) }

// finish records an attempt's result in the breaker, the observer and the log.
func (c *Client) finish(r call, probe bool, o outcome, status int, start time.Time, e *Error) {
	if c.br.done(probe, o) {
		c.log.Warn("dixa circuit breaker opened", "route", r.route, "open_for", c.breakerOpen)
	}
	var err error
	if e != nil {
		err = e
	}
	c.observeCall(r, status, time.Since(start), err)
}

func (c *Client) observeCall(r call, status int, d time.Duration, err error) {
	if c.observe != nil {
		c.observe(r.method, r.route, status, d, err)
	}
}

// backoff is exponential back-off with full jitter: a random duration in
// [0, min(cap, base·2^attempt)), so that callers failing together do not
// retry together.
func backoff(attempt int) time.Duration {
	ceil := backoffCap
	if attempt < 10 {
		ceil = min(backoffCap, backoffBase<<attempt)
	}
	return rand.N(ceil) + time.Millisecond
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}
