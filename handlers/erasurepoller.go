package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/example/dixa-console/apiclient"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/store"
)

// ErasureTracker follows erasures submitted to Dixa until Dixa reports
// them processed (GET /anonymization/request/{id} until processedAt), then
// verifies them by re-reading the customer and their conversations. Run is
// the background poller (low-priority lane of the shared rate limit, with
// back-off); the status page calls CheckIfStale so that someone watching
// sees progress without waiting for the next background pass. Every step
// is a conditional state change, so several replicas (or the page and the
// poller) never record one twice.
type ErasureTracker struct {
	API   ErasureAPI
	Store ErasureStore
	Log   *slog.Logger
	// Tick is how often the poller looks for due work (0: 2s).
	Tick time.Duration
	// Base and Max bound the back-off between checks of one request
	// (0: 5s and 10m); it doubles per unsuccessful check.
	Base, Max time.Duration
	// StaleAfter is how old the last check must be before the status page
	// makes another (0: 3s).
	StaleAfter time.Duration
	// AlertAfter is how long a request may stay unprocessed before every
	// check logs an error and it counts in Snapshot's UnprocessedOverdue
	// (0: 24h, Dixa's documented worst case).
	AlertAfter time.Duration
	// OnError, when set, is called for every check of an erasure and
	// every pass that failed (the poll-error metric). A check that lost
	// a race with another replica, or was cut short by shutdown, has not
	// failed.
	OnError func(error)
	Now     func() time.Time
}

// ErasureSnapshot is what an operator alerts on (security checklist item
// 33), as the console's database has it at one moment.
type ErasureSnapshot struct {
	// UnprocessedOverdue counts the erasures submitted to Dixa more than
	// AlertAfter ago whose request had no processedAt at the last check.
	UnprocessedOverdue int
	// PastDeadline counts the requests neither verified nor rejected after
	// their legal deadline (store.Erasure.Overdue): blocked and failed
	// ones count, as they need someone.
	PastDeadline int
}

// Snapshot counts the erasures in the states an operator must hear about.
// It reads the database, so every replica reports the same figures.
func (t *ErasureTracker) Snapshot(ctx context.Context) (ErasureSnapshot, error) {
	all, err := t.Store.ListErasures(ctx)
	if err != nil {
		return ErasureSnapshot{}, err
	}
	now := t.now()
	var s ErasureSnapshot
	for _, e := range all {
		if t.unprocessedTooLong(e, now) {
			s.UnprocessedOverdue++
		}
		if e.Overdue(now) {
			s.PastDeadline++
		}
	}
	return s, nil
}

// unprocessedTooLong reports whether e was submitted more than AlertAfter
// ago and Dixa has not (as far as we know) processed it.
func (t *ErasureTracker) unprocessedTooLong(e store.Erasure, now time.Time) bool {
	return e.State == store.StateSubmitted && !e.SubmittedAt.IsZero() && now.Sub(e.SubmittedAt) > orDefault(t.AlertAfter, 24*time.Hour)
}

// failed reports err to OnError unless it is no failure (see OnError).
func (t *ErasureTracker) failed(ctx context.Context, err error) {
	if err == nil || t.OnError == nil || ctx.Err() != nil || errors.Is(err, store.ErrStateChanged) {
		return
	}
	t.OnError(err)
}

// trackerIdentity is the actor of the audit entries the tracker writes.
var trackerIdentity = reqctx.Identity{ID: "system:erasure-tracker", Name: "Erasure tracker", Role: "system", Via: "background poller"}

func (t *ErasureTracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (t *ErasureTracker) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.New(slog.DiscardHandler)
}

// backoff is the wait before check number attempt+1, with ±20% jitter so
// that replicas do not poll in step.
func (t *ErasureTracker) backoff(attempt int) time.Duration {
	d := orDefault(t.Base, 5*time.Second)
	max := orDefault(t.Max, 10*time.Minute)
	for range min(attempt, 20) {
		d *= 2
		if d >= max {
			d = max
			break
		}
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Run polls until ctx is cancelled.
func (t *ErasureTracker) Run(ctx context.Context) {
	tick := time.NewTicker(orDefault(t.Tick, 2*time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := t.Pass(ctx); err != nil && ctx.Err() == nil {
			t.log().Error("erasure poller pass failed", "err", err)
		}
	}
}

// Pass checks every erasure that is due and returns how many it checked.
func (t *ErasureTracker) Pass(ctx context.Context) (int, error) {
	due, err := t.Store.DueForPoll(ctx, t.now(), 20)
	if err != nil {
		t.failed(ctx, err)
		return 0, err
	}
	for _, e := range due {
		if ctx.Err() != nil {
			break
		}
		if _, err := t.Check(apiclient.WithLowPriority(ctx), e); err != nil && !errors.Is(err, store.ErrStateChanged) {
			t.log().Warn("erasure check failed", "erasure", e.ID, "err", err)
		}
	}
	return len(due), nil
}

// CheckIfStale checks e when its last check is older than StaleAfter (the
// status page's polling); otherwise it returns e unchanged.
func (t *ErasureTracker) CheckIfStale(ctx context.Context, e store.Erasure) (store.Erasure, error) {
	if t.now().Sub(e.LastCheckedAt) < orDefault(t.StaleAfter, 3*time.Second) {
		return e, nil
	}
	return t.Check(ctx, e)
}

// Check advances one erasure: a submitted one is asked about at Dixa; a
// processed one is verified.
func (t *ErasureTracker) Check(ctx context.Context, e store.Erasure) (store.Erasure, error) {
	ne, err := t.check(reqctx.WithIdentity(ctx, trackerIdentity), e)
	t.failed(ctx, err)
	return ne, err
}

func (t *ErasureTracker) check(ctx context.Context, e store.Erasure) (store.Erasure, error) {
	if e.State == store.StateSubmitted {
		var done bool
		var err error
		if e, done, err = t.poll(ctx, e); err != nil || !done {
			return e, err
		}
	}
	if e.State == store.StateProcessed {
		return t.verify(ctx, e)
	}
	return e, nil
}

// later records an unsuccessful check and when to try again.
func (t *ErasureTracker) later(ctx context.Context, e store.Erasure, note string) (store.Erasure, error) {
	now := t.now()
	return t.Store.Transition(ctx, e.ID, e.State, func(x *store.Erasure) error {
		x.PollAttempts++
		x.LastCheckedAt = now
		x.NextPollAt = now.Add(t.backoff(x.PollAttempts))
		if note != "" {
			x.Failure = note
		}
		return nil
	})
}

func (t *ErasureTracker) poll(ctx context.Context, e store.Erasure) (store.Erasure, bool, error) {
	req, err := t.API.GetAnonymizationRequest(ctx, e.DixaRequestID)
	if err != nil {
		t.log().Warn("anonymization status not available", "erasure", e.ID, "err", err)
		ne, terr := t.later(ctx, e, "")
		return ne, false, errors.Join(err, terr)
	}
	if !req.Processed() {
		if now := t.now(); t.unprocessedTooLong(e, now) {
			waited := now.Sub(e.SubmittedAt)
			t.log().Error("erasure still not processed by Dixa", "erasure", e.ID, "dixaRequestId", e.DixaRequestID, "waited", waited.Round(time.Minute).String())
		}
		ne, terr := t.later(ctx, e, "")
		return ne, false, terr
	}
	now := t.now()
	ne, err := t.Store.Transition(ctx, e.ID, store.StateSubmitted, func(x *store.Erasure) error {
		x.State, x.ProcessedAt, x.LastCheckedAt, x.NextPollAt, x.PollAttempts = store.StateProcessed, req.ProcessedAt.Time, now, now, 0
		return nil
	})
	if err != nil {
		return e, false, err
	}
	Record(ctx, t.Store, ActErasureProcessed, "erasure", e.ID, store.OutcomeOK, map[string]string{
		"subjectId": e.SubjectID, "dixaRequestId": e.DixaRequestID, "processedAt": req.ProcessedAt.UTC().Format(time.RFC3339Nano)})
	return ne, true, nil
}

// verifyRetries is how many times a verification that finds data left is
// repeated (with back-off) before the erasure is marked failed, in case
// Dixa's processing is visible a little later than processedAt.
const verifyRetries = 2

// verify re-reads the customer and every conversation: the personal
// fields must be blank (and none of the recorded identifier digests may
// match what is there now), every conversation must be anonymized.
func (t *ErasureTracker) verify(ctx context.Context, e store.Erasure) (store.Erasure, error) {
	var left []string
	u, err := t.API.GetEndUser(ctx, e.SubjectID)
	switch {
	case errors.Is(err, apiclient.ErrNotFound):
		// The record itself is gone: nothing personal is left in it.
	case err != nil:
		ne, terr := t.later(ctx, e, "")
		return ne, errors.Join(err, terr)
	default:
		left = leftoverFields(u)
		digests, err := t.Store.ErasureDigests(ctx, e.ID)
		if err != nil {
			return e, err
		}
		have := map[string]bool{}
		for _, d := range digests {
			have[d] = true
		}
		if u.DisplayName != "" && have[t.Store.IdentifierDigest("name", u.DisplayName)] {
			left = append(left, "displayName")
		}
		for _, kv := range identifiers(u) {
			if have[t.Store.IdentifierDigest(kv[0], kv[1])] && !containsStr(left, kv[0]) {
				left = append(left, kv[0])
			}
		}
	}
	var notAnon []int64
	if err == nil {
		convs, cerr := conversations(ctx, t.API, e.SubjectID)
		if cerr != nil && !errors.Is(cerr, apiclient.ErrNotFound) {
			ne, terr := t.later(ctx, e, "")
			return ne, errors.Join(cerr, terr)
		}
		for _, c := range convs {
			if c.Type != apiclient.ConvAnonymized {
				notAnon = append(notAnon, c.ID)
			}
		}
	}
	now := t.now()
	if len(left) == 0 && len(notAnon) == 0 {
		ne, err := t.Store.Transition(ctx, e.ID, store.StateProcessed, func(x *store.Erasure) error {
			x.State, x.VerifiedAt, x.LastCheckedAt, x.Failure = store.StateVerified, now, now, ""
			return nil
		})
		if err != nil {
			return e, err
		}
		Record(ctx, t.Store, ActErasureVerified, "erasure", e.ID, store.OutcomeOK, map[string]string{
			"subjectId": e.SubjectID, "dixaRequestId": e.DixaRequestID})
		return ne, nil
	}
	msg := verificationProblem(left, notAnon)
	if e.PollAttempts < verifyRetries {
		return t.later(ctx, e, "")
	}
	ne, err := t.Store.Transition(ctx, e.ID, store.StateProcessed, func(x *store.Erasure) error {
		x.State, x.LastCheckedAt, x.Failure = store.StateFailed, now, msg
		return nil
	})
	if err != nil {
		return e, err
	}
	Record(ctx, t.Store, ActErasureFailed, "erasure", e.ID, store.OutcomeFailed, map[string]string{
		"subjectId": e.SubjectID, "dixaRequestId": e.DixaRequestID, "fieldsLeft": strings.Join(left, ","),
		"conversationsNotAnonymized": joinInts(notAnon)})
	t.log().Error("erasure verification failed", "erasure", e.ID, "fields", strings.Join(left, ","), "conversations", len(notAnon))
	return ne, nil
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// leftoverFields names the personal fields of u that are not blank.
func leftoverFields(u apiclient.EndUser) []string {
	var out []string
	for name, set := range map[string]bool{
		"email": u.Email != "", "phoneNumber": u.PhoneNumber != "", "additionalEmails": len(u.AdditionalEmails) > 0,
		"additionalPhoneNumbers": len(u.AdditionalPhoneNumbers) > 0, "firstName": u.FirstName != "", "lastName": u.LastName != "",
		"middleNames": len(u.MiddleNames) > 0, "avatarUrl": u.AvatarURL != "", "externalId": u.ExternalID != "",
	} {
		if set {
			out = append(out, name)
		}
	}
	for _, a := range u.CustomAttributes {
		if a.Value.IsSet {
			out = append(out, "customAttributes")
			break
		}
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func verificationProblem(fields []string, convs []int64) string {
	var parts []string
	if len(fields) > 0 {
		parts = append(parts, "fields still filled: "+strings.Join(fields, ", "))
	}
	if len(convs) > 0 {
		ids := joinInts(convs)
		if len(convs) > 20 {
			ids = joinInts(convs[:20]) + ", …"
		}
		parts = append(parts, fmt.Sprintf("%s not anonymized: %s", plural(len(convs), "conversation"), ids))
	}
	return "Verification after Dixa's processing found " + strings.Join(parts, "; ") + "."
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
