package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"

	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
)

// statusRecorder remembers the status and size of a response for the
// access log and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush
// for streamed exports and server-sent events).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// requestContext gives every request a correlation id (a fresh UUID: a
// client-supplied X-Request-Id is only logged, never trusted as ours), a
// request-scoped logger, and writes the access log line.
func (s *Server) requestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := uuid.NewString()
		w.Header().Set("X-Request-Id", id)
		log := s.log.With("request_id", id)
		ctx := reqctx.WithLogger(reqctx.WithRequestID(r.Context(), id), log)
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		attrs := []any{
			"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration", time.Since(start).Round(time.Microsecond),
			"remote", r.RemoteAddr,
		}
		if id, ok := reqctx.IdentityFrom(r.Context()); ok {
			attrs = append(attrs, "actor", id.ID)
		}
		// The query string is not logged: it holds customers' emails and
		// phone numbers.
		log.Info("request", attrs...)
		s.metrics.observeRequest(r, rec.status, time.Since(start))
	})
}

// recoverPanics turns a panic into the friendly 500 page with the
// correlation id; the process keeps serving.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				reqctx.Logger(r.Context()).Error("panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				respond.Error(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries (errors and
// fragments too), with a fresh CSP nonce, and puts the page frame (Chrome)
// with the nonce into the context.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [18]byte
		rand.Read(b[:])
		nonce := base64.RawURLEncoding.EncodeToString(b[:])
		h := w.Header()
		h.Set("Content-Security-Policy", strings.Join([]string{
			"default-src 'self'",
			"script-src 'nonce-" + nonce + "' 'strict-dynamic'",
			"style-src 'self'",
			"img-src 'self' https: http: data:",
			"connect-src 'self'",
			"font-src 'self'",
			"object-src 'none'",
			"base-uri 'none'",
			"form-action 'self'",
			"frame-ancestors " + s.cfg.FrameAncestors,
		}, "; "))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if s.isTLS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		if !strings.HasPrefix(r.URL.Path, s.cfg.BasePath+"/static/") {
			// Pages hold personal data: never cache them anywhere.
			h.Set("Cache-Control", "no-store")
		}
		ctx := templ.WithNonce(r.Context(), nonce)
		ctx = views.WithChrome(ctx, s.chrome(r))
		r = r.WithContext(ctx)
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodPost:
		default:
			// The console has no other methods anywhere: TRACE, PUT, OPTIONS
			// and the rest answer 405 on every path, known or not.
			h.Set("Allow", "GET, HEAD, POST")
			respond.Error(w, r, &respond.Err{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Message: "This address does not accept that kind of request."})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isTLS reports whether the browser reached us over HTTPS: directly, or
// through a proxy that terminated TLS and said so in X-Forwarded-Proto —
// believed only from a peer on loopback or in AUTH_TRUSTED_PROXIES (a load
// balancer or ingress) — or because the configuration says the console is
// served over HTTPS (Config.ServedOverTLS), whatever reaches this
// process. Then cookies are Secure with the __Host- prefix and HSTS is
// sent.
func (s *Server) isTLS(r *http.Request) bool {
	if r.TLS != nil || s.cfg.ServedOverTLS() {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	if !strings.EqualFold(strings.TrimSpace(proto), "https") {
		return false
	}
	return isLoopback(r.RemoteAddr) || auth.PeerTrusted(r.RemoteAddr, s.cfg.AuthTrustedProxies)
}

func isLoopback(remote string) bool {
	host := remote
	if i := strings.LastIndexByte(remote, ':'); i >= 0 {
		host = remote[:i]
	}
	host = strings.Trim(host, "[]")
	return host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}

// limitBody caps request bodies so a huge POST cannot exhaust memory. A
// body announced (Content-Length) larger than n is refused at once with
// 413 when early is set; one that turns out larger while being read fails
// the handler's form parsing (respond.FormError: 413 as well).
func limitBody(n int64, early bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if early && r.ContentLength > n {
				reqctx.Logger(r.Context()).Warn("request body too large", "method", r.Method, "path", r.URL.Path, "bytes", r.ContentLength, "limit", n)
				respond.Error(w, r, respond.TooLarge())
				return
			}
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// pageTimeout bounds the work behind one page or form post: a few upstream
// calls, each bounded by UPSTREAM_TIMEOUT. Streams (exports, imports) are
// not under it.
const pageTimeout = 30 * time.Second

// requestTimeout gives the request's context a deadline, so upstream calls
// and waits for the rate limit stop when nobody can use the answer any more.
func requestTimeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// crossOrigin refuses state-changing requests from other origins (Go's
// CrossOriginProtection) with the console's own 403 page.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, o := range s.cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			s.log.Error("ignoring trusted origin", "origin", o, "err", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqctx.Logger(r.Context()).Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		respond.Error(w, r, respond.Forbidden("This change came from another site, so it was refused. Open the console directly and try again."))
	}))
	return cop.Handler(next)
}
