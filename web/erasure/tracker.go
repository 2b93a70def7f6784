package erasure

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/example/dixa-console/apiclient"
)

// Tracking tunes the tracker, which follows erasures submitted to Dixa
// until Dixa reports them processed, then verifies them and scrubs the
// console's own records. Zero values take the defaults.
type Tracking struct {
	// Tick is how often the poller looks for due work (2s).
	Tick time.Duration
	// Base and Max bound the back-off between checks of one request (5s
	// and 10m); it doubles per unsuccessful check.
	Base, Max time.Duration
	// StaleAfter is how old the last check must be before the status page
	// makes another (3s).
	StaleAfter time.Duration
	// AlertAfter is how long a request may stay unprocessed before every
	// check logs an error and it counts in Snapshot's UnprocessedOverdue
	// (24h, Dixa's documented worst case).
	AlertAfter time.Duration
	// ReconcileAfter is how old an approval must be before the tracker
	// takes the call to Dixa as ended and reconciles a request still in
	// approved (5m: far longer than one call may take).
	ReconcileAfter time.Duration
	// ReconcileEvery is how often the poller looks for such requests (1m);
	// it also does so when it starts.
	ReconcileEvery time.Duration
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// tracker is the actor of the steps the console takes on its own.
func tracked(ev Event) Event {
	ev.System = true
	return ev
}

// Snapshot is what an operator alerts on, as the console's database has it
// at one moment.
type Snapshot struct {
	// UnprocessedOverdue counts the erasures submitted to Dixa more than
	// AlertAfter ago whose request had no processedAt at the last check.
	UnprocessedOverdue int
	// PastDeadline counts the requests neither verified nor rejected after
	// their legal deadline: blocked and failed ones count, as they need
	// someone.
	PastDeadline int
}

// Snapshot counts the erasures in the states an operator must hear about.
// It reads the database, so every replica reports the same figures.
func (s *Service) Snapshot(ctx context.Context) (Snapshot, error) {
	all, err := s.Store.ListErasures(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	now := s.now()
	var snap Snapshot
	for _, e := range all {
		if s.unprocessedTooLong(e, now) {
			snap.UnprocessedOverdue++
		}
		if e.Overdue(now) {
			snap.PastDeadline++
		}
	}
	return snap, nil
}

// unprocessedTooLong reports whether e was submitted more than AlertAfter
// ago and Dixa has not (as far as we know) processed it.
func (s *Service) unprocessedTooLong(e Erasure, now time.Time) bool {
	return e.State == Submitted && !e.SubmittedAt.IsZero() && now.Sub(e.SubmittedAt) > orDefault(s.Tracking.AlertAfter, 24*time.Hour)
}

// failed reports err to OnError unless it is no failure (see OnError).
func (s *Service) failed(ctx context.Context, err error) {
	if err == nil || s.OnError == nil || ctx.Err() != nil || errors.Is(err, ErrStateChanged) {
		return
	}
	s.OnError(err)
}

// backoff is the wait before check number attempt+1, with ±20% jitter so
// that replicas do not poll in step.
func (s *Service) backoff(attempt int) time.Duration {
	d := orDefault(s.Tracking.Base, 5*time.Second)
	limit := orDefault(s.Tracking.Max, 10*time.Minute)
	for range min(attempt, 20) {
		d *= 2
		if d >= limit {
			d = limit
			break
		}
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// TrackerLease is the lease of the erasure tracker and its lifetime: the
// holder renews it at every tick and before every check, and another
// replica takes over within LeaseTTL of the holder's death.
const (
	TrackerLease = "erasure-tracker"
	LeaseTTL     = 12 * time.Second
)

// Run is the background tracker: it reconciles and scrubs when it starts
// and every ReconcileEvery, and checks due requests every Tick, until ctx
// is cancelled. Its calls to Dixa use the low-priority lane. With a Lease,
// only the tracker holding it works; the others wait for it to expire.
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(orDefault(s.Tracking.Tick, 2*time.Second))
	defer tick.Stop()
	every := orDefault(s.Tracking.ReconcileEvery, time.Minute)
	holder := uuid.NewString()
	if s.Lease != nil {
		defer s.Lease.Release(context.WithoutCancel(ctx), TrackerLease, holder)
	}
	var last time.Time
	for {
		if s.hold(ctx, holder) {
			if now := s.now(); last.IsZero() || now.Sub(last) >= every || now.Before(last) {
				last = now
				s.Housekeep(ctx)
			}
			if _, err := s.pass(ctx, func() bool { return s.hold(ctx, holder) }); err != nil && ctx.Err() == nil {
				s.log().Error("erasure poller pass failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// hold takes or renews the tracker's lease; true when this tracker may
// work (always, without a Lease). A database that does not answer means
// no work: another replica may hold the lease.
func (s *Service) hold(ctx context.Context, holder string) bool {
	if s.Lease == nil {
		return true
	}
	ok, err := s.Lease.Hold(ctx, TrackerLease, holder, LeaseTTL)
	if err != nil && ctx.Err() == nil {
		s.log().Warn("erasure tracker lease not renewed", "err", err)
	}
	return ok && err == nil
}

// Housekeep reconciles requests stuck in approved and finishes pending
// scrubs.
func (s *Service) Housekeep(ctx context.Context) {
	if _, err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
		s.log().Error("erasure reconciliation failed", "err", err)
	}
	if _, err := s.ScrubPending(ctx); err != nil && ctx.Err() == nil {
		s.log().Error("erasure scrub failed", "err", err)
	}
}

// Pass checks every erasure that is due and returns how many it checked.
func (s *Service) Pass(ctx context.Context) (int, error) { return s.pass(ctx, nil) }

// pass is Pass; mine, when set, is asked before each check and stops the
// pass when the tracker's lease is lost.
func (s *Service) pass(ctx context.Context, mine func() bool) (int, error) {
	due, err := s.Store.DueForPoll(ctx, s.now(), 20)
	if err != nil {
		s.failed(ctx, err)
		return 0, err
	}
	for _, e := range due {
		if ctx.Err() != nil || (mine != nil && !mine()) {
			break
		}
		if _, err := s.Check(apiclient.WithLowPriority(ctx), e); err != nil && !errors.Is(err, ErrStateChanged) {
			s.log().Warn("erasure check failed", "erasure", e.ID, "err", err)
		}
	}
	return len(due), nil
}

// Status returns a request for its status page. A submitted or processed
// one whose last check is older than StaleAfter is checked first, so that
// someone watching sees progress without waiting for the poller.
func (s *Service) Status(ctx context.Context, id string) (Erasure, error) {
	e, err := s.Get(ctx, id)
	if err != nil || (e.State != Submitted && e.State != Processed) {
		return e, err
	}
	if s.now().Sub(e.LastCheckedAt) < orDefault(s.Tracking.StaleAfter, 3*time.Second) {
		return e, nil
	}
	if ne, err := s.Check(ctx, e); err == nil {
		e = ne
	}
	return e, nil
}

// Check advances one erasure: a submitted one is asked about at Dixa; a
// processed one is verified.
func (s *Service) Check(ctx context.Context, e Erasure) (Erasure, error) {
	ne, err := s.check(ctx, e)
	s.failed(ctx, err)
	return ne, err
}

func (s *Service) check(ctx context.Context, e Erasure) (Erasure, error) {
	if e.State == Submitted {
		var done bool
		var err error
		if e, done, err = s.poll(ctx, e); err != nil || !done {
			return e, err
		}
	}
	if e.State == Processed {
		return s.verify(ctx, e)
	}
	return e, nil
}

// later records an unsuccessful check and when to try again.
func (s *Service) later(ctx context.Context, e Erasure) (Erasure, error) {
	now := s.now()
	return s.Store.Transition(ctx, e.ID, e.State, func(x *Erasure) error {
		x.PollAttempts++
		x.LastCheckedAt = now
		x.NextPollAt = now.Add(s.backoff(x.PollAttempts))
		return nil
	})
}

// poll asks Dixa about a submitted request; done is set once Dixa reports
// it processed.
func (s *Service) poll(ctx context.Context, e Erasure) (Erasure, bool, error) {
	req, err := s.Dixa.GetAnonymizationRequest(ctx, e.DixaRequestID)
	if err != nil {
		s.log().Warn("anonymization status not available", "erasure", e.ID, "err", err)
		ne, terr := s.later(ctx, e)
		return ne, false, errors.Join(err, terr)
	}
	if !req.Processed() {
		if now := s.now(); s.unprocessedTooLong(e, now) {
			waited := now.Sub(e.SubmittedAt)
			s.log().Error("erasure still not processed by Dixa", "erasure", e.ID, "dixaRequestId", e.DixaRequestID, "waited", waited.Round(time.Minute).String())
		}
		ne, terr := s.later(ctx, e)
		return ne, false, terr
	}
	now := s.now()
	ne, err := s.Store.Transition(ctx, e.ID, Submitted, func(x *Erasure) error {
		x.State, x.ProcessedAt, x.LastCheckedAt, x.NextPollAt, x.PollAttempts = Processed, req.ProcessedAt.Time, now, now, 0
		return nil
	})
	if err != nil {
		return e, false, err
	}
	s.record(ctx, tracked(Event{Action: ActProcessed, TargetType: "erasure", TargetID: e.ID, Outcome: OutcomeOK, Details: map[string]string{
		"subjectId": e.SubjectID, "dixaRequestId": e.DixaRequestID, "processedAt": req.ProcessedAt.UTC().Format(time.RFC3339Nano)}}))
	return ne, true, nil
}
