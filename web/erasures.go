package web

import (
	"context"
	"github.com/example/dixa-console/web/audit"
	"net/http"
	"time"

	"github.com/example/dixa-console/handlers"
	"github.com/example/dixa-console/web/erasure"
	"github.com/example/dixa-console/web/reqctx"
	"github.com/example/dixa-console/web/respond"
	"github.com/example/dixa-console/web/role"
	"github.com/example/dixa-console/web/store"
)

// maxSpendWait is how long an erasure preview waits for the person's
// request budget to refill before it gives up with "too many requests".
const maxSpendWait = 10 * time.Second

// newErasures wires the erasure workflow to the database, the Dixa
// client, the audit log, the per-person request budget and the metrics.
// The store scrubs the console's own import records when it can (it
// implements erasure.Scrubber); otherwise that step is skipped.
func (s *Server) newErasures(d Deps) (*erasure.Service, error) {
	svc := &erasure.Service{
		Store:    s.store,
		Dixa:     s.writes,
		Audit:    erasureAudit{s.store},
		Spend:    s.spendPersonBudget,
		Describe: describeDixaError,
		Approval: erasure.Approval(s.cfg.ErasureApproval),
		StepUp:   s.cfg.StepUpMaxAge,
		Now:      d.Now,
		Log:      s.log.With("component", "erasure-tracker"),
		OnError:  s.metrics.erasurePollError,
	}
	if s.store.Dialect() == store.Postgres {
		svc.Lease = s.store.Leases() // one tracker of the replicas works
	}
	if sc, ok := any(s.store).(erasure.Scrubber); ok {
		svc.Scrubber = sc
	}
	if d.ErasureTracking != nil {
		svc.Tracking = *d.ErasureTracking
	}
	if svc.Tracking.AlertAfter == 0 {
		svc.Tracking.AlertAfter = s.cfg.ErasureAlertAfter
	}
	if err := s.metrics.watchErasures(svc.Snapshot, svc.Log); err != nil {
		return nil, err
	}
	return svc, nil
}

// erasureHandlers are the erasure pages.
func (s *Server) erasureHandlers() *handlers.Erasures {
	return &handlers.Erasures{Svc: s.erasures, Audit: s.store, Trail: s.store, SignInAgain: s.auth.mode != "header"}
}

// erasureAudit writes the workflow's audit entries; the tracker's own
// steps carry the tracker as their actor.
type erasureAudit struct{ st *store.Store }

func (a erasureAudit) RecordErasure(ctx context.Context, ev erasure.Event) error {
	e := store.AuditEntry{Action: ev.Action, TargetType: ev.TargetType, TargetID: ev.TargetID, Outcome: audit.Outcome(ev.Outcome), Details: ev.Details}
	if ev.System {
		e.ActorID, e.ActorName, e.ActorRole, e.ActorVia = "system:erasure-tracker", "Erasure tracker", "system", "background poller"
	}
	return a.st.Audit(ctx, e)
}

// describeDixaError names a Dixa error as the error pages do.
func describeDixaError(err error) (int, string) {
	c := respond.Classify(err)
	return c.Status, c.Title
}

// spendPersonBudget takes n requests from the signed-in person's budget
// for Dixa calls made on their behalf beyond the request itself (an
// erasure preview's look-ups). It waits for the budget to refill, up to
// maxSpendWait in all; past that the person is asked to slow down.
func (s *Server) spendPersonBudget(ctx context.Context, n int) error {
	id, ok := reqctx.IdentityFrom(ctx)
	if !ok {
		return nil
	}
	deadline := time.Now().Add(maxSpendWait)
	for range n {
		for {
			allowed, wait := s.auth.limiter.Allow(id.ID)
			if allowed {
				break
			}
			if time.Now().Add(wait).After(deadline) {
				return &respond.Err{Status: http.StatusTooManyRequests, Title: "Too many requests",
					Message:    "You are sending requests faster than the console allows for one person, so that everyone shares the company's Dixa budget fairly.",
					RetryAfter: max(wait, time.Second)}
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
	return nil
}

// awaitingCount is the number next to "Erasures" in a lead's navigation:
// the requests waiting for their approval or to be completed. One count in
// the database per page, no call to Dixa; 0 for anyone but a lead, and
// when the database cannot say (logged).
func (s *Server) awaitingCount(ctx context.Context) int {
	id, ok := reqctx.IdentityFrom(ctx)
	if !ok || !id.Allows(role.Lead) {
		return 0
	}
	n, err := s.erasures.Awaiting(ctx, erasure.Actor{ID: id.ID, Name: id.Name})
	if err != nil {
		reqctx.Logger(ctx).Warn("erasures awaiting a lead not counted", "err", err)
		return 0
	}
	return n
}
