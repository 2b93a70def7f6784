// Package respond is the one place that writes pages, fragments and errors.
// Handlers end with respond.Page(...) or respond.Error(w, r, err); return.
package respond

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/example/dixa-console/web/apperr"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/views"
	"github.com/example/dixa-console/web/dixacache"
	"github.com/example/dixa-console/web/reqctx"
)

// IsFragment reports whether htmx asked for a fragment: HX-Request is set
// and the request is neither boosted nor a history restore (those need the
// whole page).
func IsFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" &&
		r.Header.Get("HX-Boosted") != "true" &&
		r.Header.Get("HX-History-Restore-Request") != "true"
}

// Option adjusts the frame of a full page.
type Option func(*views.Chrome)

// Section marks the navigation entry of the page.
func Section(s string) Option { return func(c *views.Chrome) { c.Section = s } }

// Search fills the search box of the customer list, the page that shows
// the results region the box updates as you type.
func Search(q, by string) Option {
	return func(c *views.Chrome) { c.Query, c.By, c.LiveSearch = q, by, true }
}

// Page renders content inside the layout, or content alone for an htmx
// fragment request, to a buffer first so that a failing component never
// leaves half a page. Every such response varies on HX-Request.
func Page(w http.ResponseWriter, r *http.Request, status int, title string, content templ.Component, opts ...Option) {
	ctx := r.Context()
	c := views.ChromeFrom(ctx)
	for _, o := range opts {
		o(&c)
	}
	ctx = views.WithChrome(ctx, c)
	content = withStaleNotice(r, content)
	comp := content
	if !IsFragment(r) {
		comp = templ.ComponentFunc(func(ctx context.Context, w2 io.Writer) error {
			return views.Layout(title).Render(templ.WithChildren(ctx, content), w2)
		})
	}
	write(w, r, ctx, status, comp)
}

// Fragment renders a component alone whatever the request (for partials
// that are always swapped, such as a save confirmation).
func Fragment(w http.ResponseWriter, r *http.Request, status int, content templ.Component) {
	write(w, r, r.Context(), status, content)
}

func write(w http.ResponseWriter, r *http.Request, ctx context.Context, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		reqctx.Logger(ctx).Error("render failed", "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "The page could not be shown. Reference: %s\n", reqctx.RequestID(ctx))
		return
	}
	h := w.Header()
	h.Add("Vary", "HX-Request")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// Redirect sends the browser to a console path (under the base path) after
// a POST: 303 for plain requests, HX-Location for htmx so it does the same
// navigation without a full reload.
func Redirect(w http.ResponseWriter, r *http.Request, path string) {
	to := views.Path(r.Context(), path)
	if IsFragment(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// Err is an error with a status and a message that is safe to show.
type Err struct {
	Status     int
	Title      string
	Message    string
	RetryAfter time.Duration
	Cause      error // logged, never shown
}

func (e *Err) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Cause)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Err) Unwrap() error { return e.Cause }

// NotFound is a 404 with a message that says what was not found.
func NotFound(msg string) error {
	return &Err{Status: http.StatusNotFound, Title: "Not found", Message: msg}
}

// Forbidden is a 403 that says which role is needed.
func Forbidden(msg string) error {
	return &Err{Status: http.StatusForbidden, Title: "Not allowed", Message: msg}
}

// BadRequest is a 400 with a message about the request.
func BadRequest(msg string) error {
	return &Err{Status: http.StatusBadRequest, Title: "That request cannot be served", Message: msg}
}

// Unprocessable is a 422 with a message about the input.
func Unprocessable(msg string) error {
	return &Err{Status: http.StatusUnprocessableEntity, Title: "Please check your input", Message: msg}
}

// TooLarge is a 413: the request body is over the console's size limit,
// so none of it is used.
func TooLarge() error {
	return &Err{Status: http.StatusRequestEntityTooLarge, Title: "Too much data",
		Message: "What was sent is larger than the console accepts, so nothing was done. Shorten the text and try again."}
}

// FormError is the error for a posted form that could not be read: a 413
// when the body is over the size limit (a partly read form is never acted
// on), else a 400 with msg.
func FormError(err error, msg string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		e := TooLarge().(*Err)
		e.Cause = err
		return e
	}
	return &Err{Status: http.StatusBadRequest, Title: "That request cannot be served", Message: msg, Cause: err}
}

// Classify turns any error into the safe status, title and message shown to
// people. Upstream bodies and Go error strings are never part of the
// message.
func Classify(err error) *Err {
	var e *Err
	if errors.As(err, &e) {
		return e
	}
	if ae, ok := apperr.As(err); ok {
		return fromApp(ae)
	}
	var ae *apiclient.Error
	errors.As(err, &ae)
	retry := time.Duration(0)
	if ae != nil {
		retry = ae.RetryAfter
	}
	switch {
	case errors.Is(err, apiclient.ErrNotFound):
		return &Err{Status: http.StatusNotFound, Title: "Not found", Message: "Dixa has no record with that ID. It may have been anonymized, or the link is wrong.", Cause: err}
	case errors.Is(err, apiclient.ErrBudgetUnknown):
		return &Err{Status: http.StatusServiceUnavailable, Title: "The console cannot reach its database",
			Message:    "Nothing was sent to Dixa: the console's database, which shares the company's Dixa request budget between its servers, is not answering. Try again in a few seconds.",
			RetryAfter: max(retry, 5*time.Second), Cause: err}
	case errors.Is(err, apiclient.ErrRateLimited):
		if retry <= 0 {
			retry = 5 * time.Second
		}
		return &Err{Status: http.StatusServiceUnavailable, Title: "Dixa is busy", Message: "The company's Dixa request budget is used up for the moment.", RetryAfter: retry, Cause: err}
	case errors.Is(err, apiclient.ErrBreakerOpen):
		return &Err{Status: http.StatusServiceUnavailable, Title: "Dixa is not answering", Message: "Dixa failed several times in a row, so the console is pausing its requests for a few seconds.", RetryAfter: 10 * time.Second, Cause: err}
	case errors.Is(err, apiclient.ErrOutcomeUnknown):
		return &Err{Status: http.StatusGatewayTimeout, Title: "Outcome unknown", Message: "Dixa did not confirm the change in time. It may or may not have been saved: re-check the record before trying again.", Cause: err}
	case errors.Is(err, apiclient.ErrUnauthorized):
		return &Err{Status: http.StatusBadGateway, Title: "Dixa refused the console", Message: "Dixa did not accept the console's API key for this request. An administrator needs to check the key and its permissions.", Cause: err}
	case errors.Is(err, apiclient.ErrBadRequest):
		return &Err{Status: http.StatusBadGateway, Title: "Dixa refused the request", Message: "Dixa did not accept the request the console sent.", Cause: err}
	case errors.Is(err, apiclient.ErrConflict):
		return &Err{Status: http.StatusConflict, Title: "Conflict", Message: "Dixa refused the change because of the record's current state.", Cause: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Err{Status: http.StatusGatewayTimeout, Title: "Dixa took too long", Message: "Dixa did not answer in time. Please try again.", RetryAfter: 5 * time.Second, Cause: err}
	case errors.Is(err, apiclient.ErrUpstream):
		return &Err{Status: http.StatusBadGateway, Title: "Dixa is not answering", Message: "Dixa could not be reached or failed. Please try again in a moment.", RetryAfter: 5 * time.Second, Cause: err}
	}
	return &Err{Status: http.StatusInternalServerError, Title: "Something went wrong", Message: "The console hit an unexpected problem. It has been logged.", Cause: err}
}

// fromApp maps a domain error to its status; its message is shown as it is.
func fromApp(e *apperr.Error) *Err {
	out := &Err{Message: e.Msg, Cause: e}
	switch e.Code {
	case apperr.Invalid:
		out.Status, out.Title = http.StatusUnprocessableEntity, "Please check your input"
	case apperr.NotFound:
		out.Status, out.Title = http.StatusNotFound, "Not found"
	case apperr.Conflict:
		out.Status, out.Title = http.StatusConflict, "Conflict"
	case apperr.Forbidden:
		out.Status, out.Title = http.StatusForbidden, "Not allowed"
	case apperr.Unavailable:
		out.Status, out.Title, out.RetryAfter = http.StatusServiceUnavailable, "Try again in a moment", 5*time.Second
	default:
		out.Status, out.Title = http.StatusInternalServerError, "Something went wrong"
	}
	return out
}

// Error is the error funnel: it logs internals (5xx only, with the
// correlation id) and writes a safe page or htmx fragment.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The person went away; nobody is there to read an answer.
		w.WriteHeader(499)
		return
	}
	e := Classify(err)
	log := reqctx.Logger(ctx)
	switch {
	case e.Status >= 500:
		log.Error("request failed", "status", e.Status, "err", err)
	case e.Status == http.StatusForbidden:
		log.Warn("request denied", "status", e.Status, "reason", e.Message)
	default:
		log.Debug("request refused", "status", e.Status, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	v := views.ErrorView{Status: e.Status, Title: e.Title, Message: e.Message, CorrelationID: reqctx.RequestID(ctx), Retry: e.RetryAfter > 0}
	page := views.ErrorPage(v)
	if secs := int((e.RetryAfter + time.Second - 1) / time.Second); e.Status == http.StatusServiceUnavailable && secs > 0 && secs <= 60 && r.Method == http.MethodGet {
		// A busy Dixa passes: the page asks again by itself.
		errPage := page
		page = templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			if err := errPage.Render(ctx, w); err != nil {
				return err
			}
			return views.AutoRetry(r.URL.RequestURI(), secs).Render(ctx, w)
		})
	}
	Page(w, r, e.Status, e.Title, page)
}

// withStaleNotice heads content with a notice when some of its data was
// served from the cache because Dixa's budget was spent.
func withStaleNotice(r *http.Request, content templ.Component) templ.Component {
	age, stale := dixacache.StaleAge(r.Context())
	if !stale {
		return content
	}
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if err := views.StaleNotice(views.Ago(int(age/time.Second)), r.URL.RequestURI()).Render(ctx, w); err != nil {
			return err
		}
		return content.Render(ctx, w)
	})
}
