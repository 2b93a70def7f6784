package dixacache

import (
	"context"
	"time"
)

// Event is one invalidation, as carried between replicas.
type Event struct {
	// Kind is "user" (drop the person's entries and every list), "erased"
	// (drop them and never cache the person again) or "lists".
	Kind string `json:"k"`
	ID   string `json:"id,omitempty"`
}

// The kinds of Event.
const (
	KindUser   = "user"
	KindErased = "erased"
	KindLists  = "lists"
	// KindAll drops every entry (a replica that lost its connection to
	// the other replicas' events may have missed some).
	KindAll = "all"
)

// Bus carries invalidations to the other replicas. Publish sends an event
// to every other replica, which applies it with Cache.Apply. With one
// process (SQLite) there is no bus.
type Bus interface {
	Publish(ctx context.Context, e Event) error
}

// Listener is a Bus that also receives the other replicas' events; the
// server runs Listen with Cache.Apply until it stops.
type Listener interface {
	Listen(ctx context.Context, apply func(Event))
}

// Invalidate drops everything held about the end user and every list and
// search, here and on the other replicas. Call it on every write.
func (c *Cache) Invalidate(ctx context.Context, id string) {
	c.send(ctx, Event{Kind: KindUser, ID: ownerOf(id)})
}

// InvalidateLists drops every list and search (a customer was created).
func (c *Cache) InvalidateLists(ctx context.Context) {
	c.send(ctx, Event{Kind: KindLists})
}

// Erased purges the person's entries and keeps them out of the cache from
// now on (long after any entry could have been served).
func (c *Cache) Erased(ctx context.Context, id string) {
	c.send(ctx, Event{Kind: KindErased, ID: ownerOf(id)})
}

func (c *Cache) send(ctx context.Context, e Event) {
	c.Apply(e)
	if c.o.Bus != nil {
		// A failed publish leaves other replicas with at most TTL-old data;
		// the bus logs it.
		_ = c.o.Bus.Publish(context.WithoutCancel(ctx), e)
	}
}

// Apply applies an invalidation here (from this replica or another).
func (c *Cache) Apply(e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	now := c.o.Now()
	switch e.Kind {
	case KindErased:
		c.erased[e.ID] = now
		c.dropOwner(e.ID)
	case KindUser:
		c.dropOwner(e.ID)
	case KindAll:
		for c.lru.Len() > 0 {
			c.remove(c.lru.Back())
		}
	}
	for k := range c.lists {
		c.remove(c.items[k])
	}
	// Tombstones outlive any entry that could still be served (TTL plus
	// the stale window), and more.
	keep := 2 * (c.o.TTL + c.o.StaleMax)
	for id, at := range c.erased {
		if now.Sub(at) > max(keep, time.Hour) {
			delete(c.erased, id)
		}
	}
}

// dropOwner removes the person's entries; the caller holds mu.
func (c *Cache) dropOwner(id string) {
	for k := range c.owners[id] {
		c.remove(c.items[k])
	}
}
