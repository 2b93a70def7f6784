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

// Versions is a Bus whose Publish also counts, before it returns, a write
// of what the event touches (the person, and "" for every list and search)
// in a store every replica reads. A cache on it asks for the count on
// every read it would serve from memory and serves the entry only if no
// write was counted since its fetch began: a write on one replica is never
// followed by an older read on another, however late the events arrive.
type Versions interface {
	Bus
	// Version returns the write count of owner (an end user's id in lower
	// case, or "" for the lists and searches).
	Version(ctx context.Context, owner string) (Version, error)
}

// Version is an owner's write count and whether the owner was erased.
type Version struct {
	N      int64
	Erased bool
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

// publishFor bounds how long a write waits for its invalidation to be
// published, trying again after a failure.
const publishFor = 5 * time.Second

// send applies e here and publishes it before returning, so that a write
// reaches the person only once every replica's reads see it (with
// Versions). A publish that keeps failing leaves other replicas with at
// most TTL-old data; the bus logs it.
func (c *Cache) send(ctx context.Context, e Event) {
	c.Apply(e)
	if c.o.Bus == nil {
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishFor)
	defer cancel()
	for wait := 50 * time.Millisecond; c.o.Bus.Publish(pctx, e) != nil; wait *= 2 {
		select {
		case <-pctx.Done():
			return
		case <-time.After(wait):
		}
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
