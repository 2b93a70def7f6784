package erasure

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// Approval says how many leads an erasure needs.
type Approval string

// Approval modes.
const (
	// FourEyes: a second lead, not the requester, approves.
	FourEyes Approval = "required"
	// Single: the request is submitted at once (small teams).
	Single Approval = "single"
)

// DefaultStepUp is how recent a sign-in must be to request or approve an
// erasure when Service.StepUp is zero.
const DefaultStepUp = 15 * time.Minute

// Actor is the person acting: their canonical identity and display name.
type Actor struct {
	ID   string // canonical: issuer and subject, else the lower-cased email
	Name string
}

// sameperson reports whether two identities are one person. Identities are
// canonical already; trimming and lower-casing again here means that an
// identity written differently can never pass the four-eyes rule.
func sameperson(a, b string) bool {
	a, b = strings.ToLower(strings.TrimSpace(a)), strings.ToLower(strings.TrimSpace(b))
	return a != "" && a == b
}

// Service runs the workflow. Set the fields before first use; a Service is
// safe for concurrent use afterwards.
type Service struct {
	Store Store
	Dixa  Dixa
	// Audit records each step; nil records nothing.
	Audit Auditor
	// Scrubber removes a verified erasure's person from the console's own
	// records; nil skips that step (the sealed identifiers are dropped all
	// the same).
	Scrubber Scrubber
	// Spend takes n calls to Dixa from the signed-in person's request
	// budget before a preview makes them; it returns an error (shown as it
	// is) when the budget will not allow them. Nil spends nothing.
	Spend func(ctx context.Context, n int) error
	// Describe names a Dixa error for people (HTTP status and a short
	// title); nil uses a generic wording.
	Describe func(error) (status int, title string)
	Approval Approval
	// StepUp is how recent the person's sign-in must be to request or
	// approve (0: DefaultStepUp).
	StepUp time.Duration
	// Tracking tunes the background tracker.
	Tracking Tracking
	// OnError is called for every failed check of the tracker (a metric).
	// A check that lost a race with another replica, or was cut short by
	// shutdown, has not failed.
	OnError func(error)
	// Lease, when set, lets one tracker of several replicas work at a
	// time; nil: this one always works (one process).
	Lease Lease
	Now   func() time.Time
	Log   *slog.Logger

	previews previewCache
}

// Clock returns the current time of the service's clock.
func (s *Service) Clock() time.Time { return s.now() }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) record(ctx context.Context, ev Event) {
	if s.Audit == nil {
		return
	}
	if err := s.Audit.RecordErasure(ctx, ev); err != nil {
		s.log().Error("audit entry not written", "action", ev.Action, "erasure", ev.TargetID, "err", err)
	}
}

// describe names a Dixa error: its status and a title for people.
func (s *Service) describe(err error) (int, string) {
	if s.Describe != nil {
		return s.Describe(err)
	}
	return 0, "Dixa error"
}

// spend takes n Dixa calls from the person's budget.
func (s *Service) spend(ctx context.Context, n int) error {
	if s.Spend == nil || n <= 0 {
		return nil
	}
	return s.Spend(ctx, n)
}

// StepUpFresh reports whether a sign-in at authTime is recent enough to
// request or approve an erasure, with the window and the sign-in's age. A
// zero authTime passes: behind a sign-on proxy without an authentication
// time, the proxy re-authenticates on its own schedule.
func (s *Service) StepUpFresh(authTime time.Time) (ok bool, age, window time.Duration) {
	window = s.StepUp
	if window <= 0 {
		window = DefaultStepUp
	}
	if authTime.IsZero() {
		return true, 0, window
	}
	age = s.now().Sub(authTime)
	return age <= window, age, window
}

// today is the calendar day of now, in UTC.
func (s *Service) today() time.Time {
	n := s.now()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}
