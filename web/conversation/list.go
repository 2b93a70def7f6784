package conversation

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync/atomic"

	"github.com/example/dixa-console/apiclient"
)

// DefaultPageLimit is the page size asked of Dixa when none is configured.
const DefaultPageLimit = 50

// MaxListPages bounds the pages read for a customer's recent list: a
// customer with more conversations than that is told so, with a way to
// all of them page by page.
const MaxListPages = 4

// fallbackLimits are the smaller page sizes tried after Dixa refuses one.
var fallbackLimits = []int{25, 10}

// ListAPI is what the list needs from Dixa.
type ListAPI interface {
	ListEndUserConversations(ctx context.Context, id string, o apiclient.PageOptions) (apiclient.Page[apiclient.Conversation], error)
}

// Lister reads customers' conversation lists with the largest page size
// Dixa accepts. It is shared by every request; the accepted size is kept in
// memory for the life of the process.
type Lister struct {
	api   ListAPI
	limit atomic.Int64
}

// NewLister returns a Lister asking for pageLimit conversations a page
// (DefaultPageLimit when pageLimit <= 0).
func NewLister(api ListAPI, pageLimit int) *Lister {
	if pageLimit <= 0 {
		pageLimit = DefaultPageLimit
	}
	l := &Lister{api: api}
	l.limit.Store(int64(pageLimit))
	return l
}

// Limit is the page size in use: the configured one, or a smaller one after
// Dixa refused it.
func (l *Lister) Limit() int { return int(l.limit.Load()) }

// Page reads one page of a customer's conversations, in Dixa's order. The
// first page (key "") that Dixa refuses with 400 is asked again with the
// next smaller page size, and a size that works is kept. A refused page
// key is returned as it is (ErrBadRequest).
func (l *Lister) Page(ctx context.Context, userID, key string) (apiclient.Page[apiclient.Conversation], error) {
	limit := l.Limit()
	for {
		p, err := l.api.ListEndUserConversations(ctx, userID, apiclient.PageOptions{PageLimit: limit, PageKey: key})
		if err == nil || key != "" || !errors.Is(err, apiclient.ErrBadRequest) {
			return p, err
		}
		next, ok := smaller(limit)
		if !ok {
			return p, err
		}
		// Another request may have lowered it already: never raise it.
		l.limit.CompareAndSwap(int64(limit), int64(next))
		limit = min(next, l.Limit())
	}
}

// smaller returns the next fallback page size below limit.
func smaller(limit int) (int, bool) {
	for _, f := range fallbackLimits {
		if f < limit {
			return f, true
		}
	}
	return 0, false
}

// Recent is a customer's conversations as the profile shows them.
type Recent struct {
	// Items are the conversations to show: every open or pending one, newest
	// first, then the newest of the others, Limit in all (more when more
	// than Limit need attention).
	Items []apiclient.Conversation
	// Attention is how many of the conversations read are open or pending.
	Attention int
	// Read is how many conversations were read; Complete says whether that
	// is all of them.
	Read     int
	Complete bool
	// Limit is the page size used.
	Limit int
}

// More reports whether the customer has conversations that are not shown.
func (r Recent) More() bool { return !r.Complete || r.Read > len(r.Items) }

// Recent reads up to MaxListPages pages of a customer's conversations and
// orders them for the profile (see Recent's fields).
func (l *Lister) Recent(ctx context.Context, userID string) (Recent, error) {
	var (
		all []apiclient.Conversation
		key string
		r   Recent
	)
	for page := 0; page < MaxListPages; page++ {
		p, err := l.Page(ctx, userID, key)
		if err != nil {
			return Recent{}, err
		}
		all = append(all, p.Items...)
		key = p.NextKey
		// An empty page with a next key would loop: treat it as the end.
		if key == "" || len(p.Items) == 0 {
			r.Complete = true
			break
		}
	}
	r.Limit, r.Read = l.Limit(), len(all)
	Newest(all)
	var attention, rest []apiclient.Conversation
	for _, c := range all {
		if NeedsAttention(c) {
			attention = append(attention, c)
		} else {
			rest = append(rest, c)
		}
	}
	r.Attention = len(attention)
	r.Items = append(attention, rest[:min(len(rest), max(0, r.Limit-len(attention)))]...)
	return r, nil
}

// Newest orders conversations by creation time, newest first (the higher
// id first at the same instant).
func Newest(cs []apiclient.Conversation) {
	slices.SortStableFunc(cs, func(a, b apiclient.Conversation) int {
		if c := b.CreatedAt.Compare(a.CreatedAt.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// NeedsAttention reports whether a conversation is open or pending (not
// closed, not anonymized): someone should answer it, and it blocks an
// erasure without force.
func NeedsAttention(c apiclient.Conversation) bool {
	if c.IsAnonymized() {
		return false
	}
	switch c.State {
	case apiclient.StateOpen, apiclient.StatePending, apiclient.StateAwaitingPending:
		return true
	}
	return false
}
