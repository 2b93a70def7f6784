package web

import (
	"context"
	"errors"
	"time"

	"golang.org/x/oauth2"

	"github.com/example/dixa-console/web/auth"
	"github.com/example/dixa-console/web/reqctx"
)

// Limits of the oidc group refresh.
const (
	// refreshTimeout bounds one refresh at the provider.
	refreshTimeout = 15 * time.Second
	// refreshRetry is the longest a session waits before trying again
	// after a refresh failed for a passing reason (provider down,
	// timeout); never longer than the role freshness bound.
	refreshRetry = 30 * time.Second
)

// groupRefresher renews a session's tokens at the identity provider and
// returns the new token's claims (*auth.OIDC).
type groupRefresher interface {
	Refresh(ctx context.Context, tok *oauth2.Token) (auth.Claims, *oauth2.Token, error)
}

// refreshGroups reads the groups of the session rec again at the provider
// and returns the session as it is afterwards, or nil when it has ended.
//
// There is one refresh per session at a time: concurrent requests of the
// session wait for the same one (a provider that rotates refresh tokens
// would refuse a second refresh with the old token). It runs detached from
// the request, with its own timeout, so that a request cancelled meanwhile
// (a search replaced by the next keystroke) does not cancel it; such a
// request stops waiting and is served with the groups it has.
func (a *authState) refreshGroups(ctx context.Context, rec *auth.Record) *auth.Record {
	ch := a.refreshes.DoChan(rec.ID, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return a.refreshSession(rctx, rec), nil
	})
	select {
	case res := <-ch:
		cur, _ := res.Val.(*auth.Record)
		return cur
	case <-ctx.Done():
		return rec
	}
}

// refreshSession does one refresh for the session rec. The session ends
// (nil) only when the provider says its grant is invalid (invalid_grant)
// or the new token names another person. Any other failure is logged and
// the session keeps its groups; the next request after a short wait
// (refreshRetry, or the freshness bound if shorter) tries again.
func (a *authState) refreshSession(ctx context.Context, rec *auth.Record) *auth.Record {
	log := reqctx.Logger(ctx)
	cur, err := a.sessions.Get(ctx, rec.ID)
	if err != nil {
		log.Error("session store failed before a group refresh; keeping the session's groups", "err", err.Error())
		return rec
	}
	now := a.now()
	if cur == nil || now.Sub(cur.GroupsAt) <= a.roleFresh || now.Before(cur.RetryAt) {
		return cur // ended, refreshed by an earlier flight, or waiting to retry
	}
	c, tok, err := a.refresher.Refresh(ctx, cur.Token)
	switch {
	case errors.Is(err, auth.ErrGrantInvalid):
		log.Warn("session ended: the identity provider no longer honours its grant", "reason", err.Error(), "actor", cur.Claims.ID)
		return a.endSession(ctx, cur.ID)
	case err != nil:
		retry := min(a.roleFresh, refreshRetry)
		log.Warn("could not refresh the groups at the identity provider; the session keeps its groups and tries again later",
			"reason", err.Error(), "actor", cur.Claims.ID, "retry_in", retry.String())
		return a.updateSession(ctx, cur, func(r *auth.Record) { r.RetryAt = now.Add(retry) })
	case c.ID != cur.Claims.ID:
		log.Warn("session ended: the refreshed token names another person", "actor", cur.Claims.ID, "token_actor", c.ID)
		return a.endSession(ctx, cur.ID)
	}
	return a.updateSession(ctx, cur, func(r *auth.Record) {
		r.Claims.Groups, r.Claims.Name, r.Token, r.GroupsAt, r.RetryAt = c.Groups, c.Name, tok, now, time.Time{}
		if c.Email != "" {
			r.Claims.Email = c.Email
		}
	})
}

// endSession revokes the session id; it is over even if the store fails
// to forget it (the caller treats the request as signed out).
func (a *authState) endSession(ctx context.Context, id string) *auth.Record {
	if err := a.sessions.Revoke(ctx, id); err != nil {
		reqctx.Logger(ctx).Error("session store failed to revoke a session", "err", err.Error())
	}
	return nil
}

// updateSession applies f to the session cur in the store. A store that
// fails leaves the request served with cur.
func (a *authState) updateSession(ctx context.Context, cur *auth.Record, f func(*auth.Record)) *auth.Record {
	next, err := a.sessions.Update(ctx, cur.ID, f)
	if err != nil {
		reqctx.Logger(ctx).Error("session store failed after a group refresh", "err", err.Error())
		return cur
	}
	return next
}
