// Package dixacache is the console's shared read cache in front of Dixa:
// identical reads in flight at once are made once, repeats within the TTL
// are served from memory, and every write the console makes drops what it
// touches at once (on every replica, through a Bus). Memory is bounded by
// entry count and by bytes, least recently used first. An erased person's
// entries are purged when the erasure is sent and never served again.
package dixacache

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/example/dixa-console/apiclient"
)

// Defaults of Options.
const (
	DefaultTTL        = 15 * time.Second
	DefaultStaleMax   = 5 * time.Minute
	DefaultMaxEntries = 20_000
	DefaultMaxBytes   = 64 << 20
)

// entryOverhead is what an entry costs besides its key and value: the
// list element, the map slot and the owner index.
const entryOverhead = 160

// Options tune a Cache; zero values take the defaults.
type Options struct {
	TTL        time.Duration // how long an entry is served as fresh
	StaleMax   time.Duration // how old an entry may be when served because Dixa is busy
	MaxEntries int
	MaxBytes   int64
	Now        func() time.Time
	// Bus carries invalidations to the other replicas; nil: this process only.
	Bus Bus
}

// Cache holds recent Dixa reads. The zero value is not usable; use New.
type Cache struct {
	o  Options
	sf singleflight.Group

	mu     sync.Mutex
	lru    *list.List               // of *entry, most recently used first
	items  map[string]*list.Element // by key
	owners map[string]map[string]struct{}
	lists  map[string]struct{} // keys of list and search entries
	erased map[string]time.Time
	bytes  int64
	gen    uint64 // bumped by every invalidation: older fetches are not stored
}

type entry struct {
	key, owner string
	val        any
	size       int64
	at         time.Time
}

// New makes a cache.
func New(o Options) *Cache {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.StaleMax < o.TTL {
		o.StaleMax = max(DefaultStaleMax, o.TTL)
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cache{o: o, lru: list.New(), items: map[string]*list.Element{}, owners: map[string]map[string]struct{}{},
		lists: map[string]struct{}{}, erased: map[string]time.Time{}}
}

// Stats is the cache's size.
type Stats struct {
	Entries int
	Bytes   int64
}

// Stats reports the entries held and their estimated bytes.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: c.lru.Len(), Bytes: c.bytes}
}

// read serves key from the cache when fresh, else fetches it once for
// every concurrent caller. owner is the end user the entry is about ("" for
// a list or search, which every write drops). When Dixa is busy
// (ErrRateLimited) and the caller allows it, an entry up to StaleMax old is
// served and its age noted in the context.
func read[T any](c *Cache, ctx context.Context, key, owner string, fetch func(context.Context) (T, error)) (T, error) {
	fresh := Fresh(ctx)
	if v, age, ok := c.lookup(key, owner); ok && !fresh && age < c.o.TTL {
		return v.(T), nil
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	call := func() (any, error) {
		v, err := fetch(ctx)
		if err == nil {
			c.store(key, owner, v, gen)
		}
		return v, err
	}
	var (
		v   any
		err error
	)
	if fresh {
		v, err = call()
	} else {
		// The flight is keyed by generation: a read that starts after a
		// write never joins a fetch that started before it.
		v, err, _ = c.sf.Do(key+"#"+itoa(gen), func() (any, error) {
			return call()
		})
	}
	if err != nil {
		var zero T
		if errors.Is(err, apiclient.ErrRateLimited) && !fresh {
			if sv, age, ok := c.lookup(key, owner); ok && age <= c.o.StaleMax {
				noteStale(ctx, age)
				return sv.(T), nil
			}
		}
		return zero, err
	}
	return v.(T), nil
}

// lookup returns the entry and its age, marking it recently used.
func (c *Cache) lookup(key, owner string) (any, time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, gone := c.erased[owner]; gone && owner != "" {
		return nil, 0, false
	}
	el, ok := c.items[key]
	if !ok {
		return nil, 0, false
	}
	e := el.Value.(*entry)
	age := c.o.Now().Sub(e.at)
	if age > c.o.StaleMax {
		c.remove(el)
		return nil, 0, false
	}
	c.lru.MoveToFront(el)
	return e.val, age, true
}

// store keeps a fetched value unless a write happened since the fetch
// began, or the owner was erased.
func (c *Cache) store(key, owner string, v any, gen uint64) {
	size := int64(len(key)+len(owner)) + entryOverhead + sizeOf(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || size > c.o.MaxBytes {
		return
	}
	if _, gone := c.erased[owner]; gone && owner != "" {
		return
	}
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	e := &entry{key: key, owner: owner, val: v, size: size, at: c.o.Now()}
	c.items[key] = c.lru.PushFront(e)
	c.bytes += size
	if owner == "" {
		c.lists[key] = struct{}{}
	} else {
		if c.owners[owner] == nil {
			c.owners[owner] = map[string]struct{}{}
		}
		c.owners[owner][key] = struct{}{}
	}
	for c.lru.Len() > c.o.MaxEntries || c.bytes > c.o.MaxBytes {
		c.remove(c.lru.Back())
	}
}

// remove drops one entry; the caller holds mu.
func (c *Cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*entry)
	delete(c.items, e.key)
	c.bytes -= e.size
	if e.owner == "" {
		delete(c.lists, e.key)
		return
	}
	if ks := c.owners[e.owner]; ks != nil {
		delete(ks, e.key)
		if len(ks) == 0 {
			delete(c.owners, e.owner)
		}
	}
}

// sizeOf estimates a value's memory by its JSON encoding.
func sizeOf(v any) int64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 4096
	}
	return int64(len(b))
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// listKey names a list or search by its filter.
func listKey(o apiclient.ListOptions) string {
	b, _ := json.Marshal(o)
	return "l:" + string(b)
}

func convKey(id string, o apiclient.PageOptions) string {
	b, _ := json.Marshal(o)
	return "c:" + id + ":" + string(b)
}

func ownerOf(id string) string { return strings.ToLower(id) }
