package erasure

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/example/dixa-console/apiclient"
)

// Preview is what a lead sees before requesting an erasure: the customer,
// their conversations, other customers sharing an identifier, and earlier
// requests.
type Preview struct {
	User          apiclient.EndUser
	Conversations []apiclient.Conversation
	// ConversationsIncomplete is set when not every page could be read.
	ConversationsIncomplete bool
	Duplicates              []Duplicate
	// DuplicatesLimited is set when only the first MaxDuplicateLookups
	// identifiers were looked up.
	DuplicatesLimited bool
	// DuplicatesErr is why the duplicate check stopped early, if it did.
	DuplicatesErr error
	Earlier       []Erasure
	// ActiveID is an earlier request still in progress ("" if none); a
	// draft an agent handed over is Draft instead.
	ActiveID string
	// Draft is the request an agent handed over for this customer, which
	// the lead's request completes (nil if none).
	Draft *Erasure
}

// OpenCount is how many conversations are neither closed nor anonymized.
func (p Preview) OpenCount() int { return len(openIDs(p.Conversations)) }

// Duplicate is another customer sharing an identifier with the subject.
type Duplicate struct {
	User   apiclient.EndUser
	Shared []string // "email", "phone number", "external ID"
}

// MaxDuplicateLookups bounds the list calls of a preview (one filter per
// call, Dixa allows no more), so a customer with many identifiers cannot
// eat the company's request budget.
const MaxDuplicateLookups = 12

// Preview cache: a preview's look-ups are made once for the time a request
// form is open, so that a form shown again (a mistake in it, a reload)
// costs no further Dixa calls.
const (
	previewTTL     = 15 * time.Minute
	previewEntries = 64
)

// Preview builds the preview of erasing a customer. Its Dixa look-ups run
// in the low-priority lane, count against the person's request budget
// (Spend), and are cached for previewTTL by customer.
func (s *Service) Preview(ctx context.Context, subjectID string) (Preview, error) {
	p, err := s.lookups(ctx, subjectID)
	if err != nil {
		return p, err
	}
	earlier, err := s.Store.ErasuresOf(ctx, subjectID)
	if err != nil {
		return p, err
	}
	p.Earlier = earlier
	for _, e := range earlier {
		switch {
		case e.State == Draft && p.Draft == nil:
			p.Draft = &e
		case !e.State.Final():
			p.ActiveID = e.ID
		}
	}
	return p, nil
}

// lookups returns the Dixa part of a preview, from the cache when it is
// fresh.
func (s *Service) lookups(ctx context.Context, id string) (Preview, error) {
	if p, ok := s.previews.get(id, s.now()); ok {
		return p, nil
	}
	lctx := apiclient.WithLowPriority(ctx)
	spend := func() error { return s.spend(ctx, 1) }
	if err := spend(); err != nil {
		return Preview{}, err
	}
	u, err := s.Dixa.GetEndUser(lctx, id)
	if err != nil {
		return Preview{}, err
	}
	p := Preview{User: u}
	convs, err := conversations(lctx, s.Dixa, id, spend)
	if err != nil {
		if len(convs) == 0 {
			return p, err
		}
		p.ConversationsIncomplete = true
	}
	p.Conversations = convs
	p.Duplicates, p.DuplicatesLimited, p.DuplicatesErr = s.duplicates(lctx, u, spend)
	if !p.ConversationsIncomplete && p.DuplicatesErr == nil {
		s.previews.put(id, p, s.now())
	}
	return p, nil
}

// duplicates finds other customers sharing any of u's emails, phone
// numbers or external id, with one filtered list call per identifier.
func (s *Service) duplicates(ctx context.Context, u apiclient.EndUser, spend func() error) ([]Duplicate, bool, error) {
	ids := identifiers(u)
	limited := len(ids) > MaxDuplicateLookups
	if limited {
		ids = ids[:MaxDuplicateLookups]
	}
	labels := map[string]string{"email": "email", "phone": "phone number", "externalId": "external ID"}
	byID := map[string]int{}
	var out []Duplicate
	for _, id := range ids {
		if err := spend(); err != nil {
			return out, limited, err
		}
		p, err := s.Dixa.ListEndUsers(ctx, listFilter(id))
		if errors.Is(err, apiclient.ErrNotFound) {
			continue // some APIs answer an empty filter with 404
		}
		if err != nil {
			return out, limited, err
		}
		for _, d := range p.Items {
			if d.ID == u.ID {
				continue
			}
			i, ok := byID[d.ID]
			if !ok {
				i = len(out)
				byID[d.ID] = i
				out = append(out, Duplicate{User: d})
			}
			if l := labels[id.kind]; !slices.Contains(out[i].Shared, l) {
				out[i].Shared = append(out[i].Shared, l)
			}
		}
	}
	return out, limited, nil
}

func listFilter(id identifier) apiclient.ListOptions {
	o := apiclient.ListOptions{PageLimit: 50}
	switch id.kind {
	case "email":
		o.Email = id.value
	case "phone":
		o.Phone = id.value
	case "externalId":
		o.ExternalID = id.value
	}
	return o
}

// LimitedText says that not every identifier was checked.
func LimitedText() string {
	return "This customer has many identifiers; only the first " + strconv.Itoa(MaxDuplicateLookups) + " were checked for duplicates."
}

// previewCache holds the Dixa part of recent previews, by customer, for
// previewTTL; at most previewEntries, the oldest going first. The zero
// value is ready to use.
type previewCache struct {
	mu sync.Mutex
	m  map[string]cachedPreview
}

type cachedPreview struct {
	p  Preview
	at time.Time
}

func (c *previewCache) get(id string, now time.Time) (Preview, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.Sub(e.at) > previewTTL || now.Before(e.at) {
		delete(c.m, id)
		return Preview{}, false
	}
	return e.p, true
}

func (c *previewCache) put(id string, p Preview, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedPreview{}
	}
	for k, e := range c.m {
		if now.Sub(e.at) > previewTTL {
			delete(c.m, k)
		}
	}
	for len(c.m) >= previewEntries {
		oldest := ""
		for k, e := range c.m {
			if oldest == "" || e.at.Before(c.m[oldest].at) {
				oldest = k
			}
		}
		delete(c.m, oldest)
	}
	c.m[id] = cachedPreview{p: p, at: now}
}

// forget drops every cached preview that shows the customer: their own
// and those where they appear as a duplicate.
func (c *previewCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if k == id || slices.ContainsFunc(e.p.Duplicates, func(d Duplicate) bool { return d.User.ID == id }) {
			delete(c.m, k)
		}
	}
}

// len is the number of cached previews (tests).
func (c *previewCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
