package importjob

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/example/dixa-console/apiclient"
)

// checkIndex maps the identifiers of the file's rows to row numbers.
type checkIndex struct {
	emails, phones, extIDs map[string][]int
}

func (ix *checkIndex) add(m map[string][]int, k string, num int) {
	if k != "" {
		m[k] = append(m[k], num)
	}
}

// match is a customer in Dixa that has one of a row's identifiers.
type match struct{ id, why string }

// check is the dry run's part against Dixa, in the low-priority lane. For
// a create it finds rows whose email, phone number or external ID is
// already used by a customer in Dixa; for an update matched by email or
// external ID it finds each row's customer. Small files are checked with
// one filtered list request per identifier (CheckLookups); big ones by
// reading the whole customer list once (CheckScan), which costs one request
// per 100 customers instead of one per identifier. An update then compares
// its first rows with their customers (preview; for a match by id that is
// the whole check, CheckPreview). The check is read-only and starts again
// from the beginning after a restart.
func (r *Runner) check(ctx context.Context, j Job) error {
	ix, cands, err := r.indexRows(ctx, j)
	if err != nil {
		return err
	}
	c := &checkRun{r: r, ctx: ctx, lctx: apiclient.WithLowPriority(ctx), j: j,
		found: map[int][]match{}, users: map[int]apiclient.EndUser{}, cands: map[int]bool{}, wait: newBackoff(r.Backoff)}
	c.j.CheckDone = 0
	for _, row := range cands {
		c.cands[row.Num] = true
	}
	mine := true
	switch j.CheckMethod {
	case CheckLookups:
		mine, err = c.lookups(ix)
	case CheckScan:
		mine, err = c.scan(ix)
	}
	if err != nil || !mine {
		return err
	}
	if j.Mode == ModeUpdate {
		if err := c.preview(cands); err != nil {
			return err
		}
	}
	return r.recordFindings(ctx, c.j, c.found)
}

// indexRows reads the identifiers to check from the rows without a
// problem, and returns the first of those rows of an update (candidates
// for the preview).
func (r *Runner) indexRows(ctx context.Context, j Job) (checkIndex, []Row, error) {
	ix := checkIndex{emails: map[string][]int{}, phones: map[string][]int{}, extIDs: map[string][]int{}}
	var cands []Row
	err := forEachChunk(ctx, r.Store, j.ID, RowsCheckable, func(rows []Row) error {
		for _, row := range rows {
			if j.Mode == ModeUpdate && len(cands) < previewCandidates {
				cands = append(cands, row)
			}
			p := row.Item.Patch
			switch {
			case j.Mode == ModeCreate:
				if p.Email != nil {
					ix.add(ix.emails, strings.ToLower(*p.Email), row.Num)
				}
				if p.PhoneNumber != nil {
					ix.add(ix.phones, *p.PhoneNumber, row.Num)
				}
				if p.ExternalID != nil {
					ix.add(ix.extIDs, *p.ExternalID, row.Num)
				}
			case j.MatchBy == MatchEmail:
				ix.add(ix.emails, strings.ToLower(row.Item.Key), row.Num)
			case j.MatchBy == MatchExternalID:
				ix.add(ix.extIDs, row.Item.Key, row.Num)
			}
		}
		return nil
	})
	return ix, cands, err
}

// checkRun is one pass of the check: the job with its progress, what was
// found so far, and the wait after Dixa could not take a request.
type checkRun struct {
	r     *Runner
	ctx   context.Context // for the store
	lctx  context.Context // for Dixa: the low-priority lane
	j     Job
	found map[int][]match // row number → the customers that matched, and why
	// users keeps, for the preview candidates only (cands), the customer
	// that matched each row, so that the preview reads no customer twice.
	users map[int]apiclient.EndUser
	cands map[int]bool
	wait  *backoff
}

// note records that customer u matched the rows nums by why.
func (c *checkRun) note(nums []int, u apiclient.EndUser, why string) {
	for _, n := range nums {
		dup := false
		for _, m := range c.found[n] {
			if m.id == u.ID {
				dup = true
			}
		}
		if !dup {
			c.found[n] = append(c.found[n], match{id: u.ID, why: why})
		}
		if c.cands[n] {
			c.users[n] = u
		}
	}
}

// progress counts a request; every 20 requests it saves the progress and
// reports false when the job is no longer this runner's to check.
func (c *checkRun) progress() (bool, error) {
	c.j.CheckDone++
	if c.j.CheckDone%20 != 0 {
		return true, nil
	}
	cur, mine, err := c.r.stillMine(c.ctx, c.j.ID, StateChecking)
	if err != nil || !mine {
		return false, err
	}
	cur.CheckDone = c.j.CheckDone
	cur.CheckCost = max(cur.CheckCost, c.j.CheckCost)
	return true, c.r.Store.SaveJob(c.ctx, cur)
}

// list reads a page of customers, waiting while Dixa cannot take the
// request.
func (c *checkRun) list(o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error) {
	for {
		page, err := c.r.API.ListEndUsers(c.lctx, o)
		if err == nil || !retryable(err) || c.ctx.Err() != nil {
			return page, err
		}
		c.wait.sleep(c.ctx, err)
	}
}

// lookups makes one filtered list request per identifier.
func (c *checkRun) lookups(ix checkIndex) (bool, error) {
	lookups := []struct {
		m   map[string][]int
		set func(*apiclient.ListOptions, string)
		why string
	}{
		{ix.emails, func(o *apiclient.ListOptions, k string) { o.Email = k }, "email"},
		{ix.phones, func(o *apiclient.ListOptions, k string) { o.Phone = k }, "phone number"},
		{ix.extIDs, func(o *apiclient.ListOptions, k string) { o.ExternalID = k }, "external ID"},
	}
	for _, l := range lookups {
		for k, nums := range l.m {
			o := apiclient.ListOptions{PageLimit: 5}
			l.set(&o, k)
			page, err := c.list(o)
			if err != nil {
				return false, err
			}
			for _, u := range page.Items {
				c.note(nums, u, l.why)
			}
			if ok, err := c.progress(); !ok || err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// scan reads the whole customer list, 100 per request, and matches every
// customer's identifiers against the rows'.
func (c *checkRun) scan(ix checkIndex) (bool, error) {
	key := ""
	for {
		page, err := c.list(apiclient.ListOptions{PageLimit: 100, PageKey: key})
		if err != nil {
			return false, err
		}
		for _, u := range page.Items {
			c.noteUser(ix, u)
		}
		if ok, err := c.progress(); !ok || err != nil {
			return false, err
		}
		if page.NextKey == "" || len(page.Items) == 0 {
			break
		}
		key = page.NextKey
	}
	c.j.CheckCost = c.j.CheckDone
	return true, nil
}

// noteUser records the rows that share an identifier with customer u.
func (c *checkRun) noteUser(ix checkIndex, u apiclient.EndUser) {
	if u.Email != "" {
		c.note(ix.emails[strings.ToLower(u.Email)], u, "email")
	}
	for _, e := range u.AdditionalEmails {
		c.note(ix.emails[strings.ToLower(e)], u, "email")
	}
	if u.PhoneNumber != "" {
		c.note(ix.phones[u.PhoneNumber], u, "phone number")
	}
	for _, p := range u.AdditionalPhoneNumbers {
		c.note(ix.phones[p], u, "phone number")
	}
	if u.ExternalID != "" {
		c.note(ix.extIDs[u.ExternalID], u, "external ID")
	}
}

// recordFindings writes what the check found on the rows, in chunks, with
// the job's counts, and moves the job to StateReady.
func (r *Runner) recordFindings(ctx context.Context, j Job, found map[int][]match) error {
	cur, mine, err := r.stillMine(ctx, j.ID, StateChecking)
	if err != nil || !mine {
		return err
	}
	cur.CheckDone, cur.CheckCost = j.CheckDone, max(j.CheckCost, cur.CheckCost)
	cur.Preview, cur.PreviewReads = j.Preview, j.PreviewReads
	err = forEachChunk(ctx, r.Store, j.ID, RowsCheckable, func(rows []Row) error {
		var changed []Row
		for _, row := range rows {
			if applyFinding(&cur, &row, found[row.Num]) {
				changed = append(changed, row)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		return r.Store.UpdateRows(ctx, j.ID, changed, &cur)
	})
	if err != nil {
		return err
	}
	if err := r.Store.SaveJob(ctx, cur); err != nil {
		return err
	}
	if _, err := r.Store.SetState(ctx, j.ID, []State{StateChecking}, StateReady); err != nil && !errors.Is(err, ErrStateChanged) {
		return err
	}
	return nil
}

// applyFinding records on a row what the check found for it (ms), and a
// new problem in the job's counts. A row that becomes a problem loses its
// payload: it is never sent. It reports whether the row changed.
func applyFinding(j *Job, row *Row, ms []match) bool {
	byKey := j.Mode == ModeUpdate && j.MatchBy != MatchID
	switch {
	case j.Mode == ModeCreate && len(ms) > 0:
		row.Kind = KindExists
		row.Problem = fmt.Sprintf("A customer with this %s is already in Dixa (id %s).", ms[0].why, ms[0].id)
	case byKey && len(ms) == 0:
		row.Kind = KindNotFound
		row.Problem = fmt.Sprintf("No customer in Dixa has the %s %s.", j.MatchBy, clip(row.Item.Key))
	case byKey && len(ms) > 1:
		row.Kind = KindAmbiguous
		row.Problem = fmt.Sprintf("%d customers in Dixa have the %s %s; use the id column to say which.", len(ms), j.MatchBy, clip(row.Item.Key))
	case byKey:
		row.Item.ID = ms[0].id
		return true
	default:
		return false
	}
	j.Invalid++
	if j.Problems == nil {
		j.Problems = map[string]int{}
	}
	j.Problems[row.Kind]++
	if len(row.Item.Attrs) > 0 {
		j.AttrRows--
	}
	row.Item = Item{}
	return true
}

// forEachChunk calls fn with the job's rows that pass filter, in input
// order, up to storeChunk rows at a time.
func forEachChunk(ctx context.Context, st Store, jobID string, filter int, fn func([]Row) error) error {
	after := 0
	for {
		rows, err := st.Rows(ctx, jobID, RowQuery{Filter: filter, After: after, Limit: storeChunk})
		if err != nil || len(rows) == 0 {
			return err
		}
		after = rows[len(rows)-1].Num
		if err := fn(rows); err != nil {
			return err
		}
	}
}
