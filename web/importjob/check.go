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

// check is the dry run's part against Dixa, in the low-priority lane. For
// a create it finds rows whose email, phone number or external ID is
// already used by a customer in Dixa; for an update matched by email or
// external ID it finds each row's customer. Small files are checked with
// one filtered list request per identifier (CheckLookups); big ones by
// reading the whole customer list once (CheckScan), which costs one request
// per 100 customers instead of one per identifier. The check is read-only
// and starts again from the beginning after a restart.
func (r *Runner) check(ctx context.Context, j Job) error {
	lctx := apiclient.WithLowPriority(ctx)
	ix := checkIndex{emails: map[string][]int{}, phones: map[string][]int{}, extIDs: map[string][]int{}}
	after := 0
	for {
		rows, err := r.Store.Rows(ctx, j.ID, RowQuery{Filter: RowsCheckable, After: after, Limit: storeChunk})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		for _, row := range rows {
			after = row.Num
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
	}

	// found: row number → the customers that matched, and why.
	found := map[int][]match{}
	note := func(nums []int, u apiclient.EndUser, why string) {
		for _, n := range nums {
			dup := false
			for _, m := range found[n] {
				if m.id == u.ID {
					dup = true
				}
			}
			if !dup {
				found[n] = append(found[n], match{id: u.ID, why: why})
			}
		}
	}
	j.CheckDone = 0
	progress := func() (bool, error) {
		j.CheckDone++
		if j.CheckDone%20 != 0 {
			return true, nil
		}
		cur, mine, err := r.stillMine(ctx, j.ID, StateChecking)
		if err != nil || !mine {
			return false, err
		}
		cur.CheckDone = j.CheckDone
		cur.CheckCost = max(cur.CheckCost, j.CheckCost)
		return true, r.Store.SaveJob(ctx, cur)
	}
	wait := newBackoff(r.Backoff)
	list := func(o apiclient.ListOptions) (apiclient.Page[apiclient.EndUser], error) {
		for {
			page, err := r.API.ListEndUsers(lctx, o)
			if err == nil || !retryable(err) || ctx.Err() != nil {
				return page, err
			}
			wait.sleep(ctx, err)
		}
	}

	switch j.CheckMethod {
	case CheckLookups:
		type lookup struct {
			m    map[string][]int
			set  func(*apiclient.ListOptions, string)
			why  string
			keys []string
		}
		lookups := []lookup{
			{ix.emails, func(o *apiclient.ListOptions, k string) { o.Email = k }, "email", nil},
			{ix.phones, func(o *apiclient.ListOptions, k string) { o.Phone = k }, "phone number", nil},
			{ix.extIDs, func(o *apiclient.ListOptions, k string) { o.ExternalID = k }, "external ID", nil},
		}
		for _, l := range lookups {
			for k, nums := range l.m {
				o := apiclient.ListOptions{PageLimit: 5}
				l.set(&o, k)
				page, err := list(o)
				if err != nil {
					return err
				}
				for _, u := range page.Items {
					note(nums, u, l.why)
				}
				if ok, err := progress(); !ok || err != nil {
					return err
				}
			}
		}
	case CheckScan:
		key := ""
		for {
			page, err := list(apiclient.ListOptions{PageLimit: 100, PageKey: key})
			if err != nil {
				return err
			}
			for _, u := range page.Items {
				if u.Email != "" {
					note(ix.emails[strings.ToLower(u.Email)], u, "email")
				}
				for _, e := range u.AdditionalEmails {
					note(ix.emails[strings.ToLower(e)], u, "email")
				}
				if u.PhoneNumber != "" {
					note(ix.phones[u.PhoneNumber], u, "phone number")
				}
				for _, p := range u.AdditionalPhoneNumbers {
					note(ix.phones[p], u, "phone number")
				}
				if u.ExternalID != "" {
					note(ix.extIDs[u.ExternalID], u, "external ID")
				}
			}
			if ok, err := progress(); !ok || err != nil {
				return err
			}
			if page.NextKey == "" || len(page.Items) == 0 {
				break
			}
			key = page.NextKey
		}
		j.CheckCost = j.CheckDone
	}

	// Record the findings on the rows, in chunks, with the counts.
	cur, mine, err := r.stillMine(ctx, j.ID, StateChecking)
	if err != nil || !mine {
		return err
	}
	cur.CheckDone, cur.CheckCost = j.CheckDone, max(j.CheckCost, cur.CheckCost)
	after = 0
	for {
		rows, err := r.Store.Rows(ctx, j.ID, RowQuery{Filter: RowsCheckable, After: after, Limit: storeChunk})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		var changed []Row
		for _, row := range rows {
			after = row.Num
			ms := found[row.Num]
			switch {
			case j.Mode == ModeCreate && len(ms) > 0:
				row.Kind = KindExists
				row.Problem = fmt.Sprintf("A customer with this %s is already in Dixa (id %s).", ms[0].why, ms[0].id)
			case j.Mode == ModeUpdate && j.MatchBy != MatchID && len(ms) == 0:
				row.Kind = KindNotFound
				row.Problem = fmt.Sprintf("No customer in Dixa has the %s %s.", j.MatchBy, clip(row.Item.Key))
			case j.Mode == ModeUpdate && j.MatchBy != MatchID && len(ms) > 1:
				row.Kind = KindAmbiguous
				row.Problem = fmt.Sprintf("%d customers in Dixa have the %s %s; use the id column to say which.", len(ms), j.MatchBy, clip(row.Item.Key))
			case j.Mode == ModeUpdate && j.MatchBy != MatchID:
				row.Item.ID = ms[0].id
				changed = append(changed, row)
				continue
			default:
				continue
			}
			cur.Invalid++
			if cur.Problems == nil {
				cur.Problems = map[string]int{}
			}
			cur.Problems[row.Kind]++
			if len(row.Item.Attrs) > 0 {
				cur.AttrRows--
			}
			changed = append(changed, row)
		}
		if len(changed) > 0 {
			if err := r.Store.UpdateRows(ctx, j.ID, changed, &cur); err != nil {
				return err
			}
		}
	}
	if err := r.Store.SaveJob(ctx, cur); err != nil {
		return err
	}
	if _, err := r.Store.SetState(ctx, j.ID, []string{StateChecking}, StateReady); err != nil && !errors.Is(err, ErrStateChanged) {
		return err
	}
	return nil
}

type match struct{ id, why string }
