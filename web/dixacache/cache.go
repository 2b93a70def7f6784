// Package dixacache is the console's shared read cache in front of Dixa:
// identical reads in flight at once are made once, repeats within the TTL
// are served from memory, and every write the console makes drops what it
// touches at once (on every replica, through a Bus). Memory is bounded by
// entry count and by bytes, least recently used first. An erased person's
// entries are purged when the erasure is sent and never served again.
//
// With several replicas the bus delivers invalidations late, so a bus that
// also keeps Versions makes every read served from memory check that no
// replica has written the person since the entry was fetched: a write on
// one replica is never followed by an older read on another.
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
	// Bus carries invalidations to the other replicas; nil: this process
	// only. A Bus that is also Versions is checked by every read served
	// from memory.
	Bus Bus
}

// Cache holds recent Dixa reads. The zero value is not usable; use New.
type Cache struct {
	o  Options
	vs Versions // nil: invalidations of this process are all there is
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
	ver        int64 // the owner's write count when the fetch began
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
	vs, _ := o.Bus.(Versions)
	return &Cache{o: o, vs: vs, lru: list.New(), items: map[string]*list.Element{}, owners: map[string]map[string]struct{}{},
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
// served and its age noted in the context. With Versions, an entry is
// served only while the owner's write count is the one its fetch began
// under; a read whose count cannot be had is fetched and not kept.
func read[T any](c *Cache, ctx context.Context, key, owner string, fetch func(context.Context) (T, error)) (T, error) {
	fresh := Fresh(ctx)
	var cur check
	if !fresh {
		if v, age, ver, ok := c.find(key, owner); ok && age < c.o.TTL {
			if cur = c.check(ctx, owner); cur.serves(ver) {
				return v.(T), nil
			}
		}
	}
	if !cur.done {
		cur = c.check(ctx, owner)
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	keep := cur.ok && !cur.erased
	call := func() (any, error) {
		v, err := fetch(ctx)
		if err == nil && keep {
			c.store(key, owner, v, gen, cur.ver)
		}
		return v, err
	}
	var (
		v   any
		err error
	)
	if fresh || !keep {
		v, err = call()
	} else {
		// The flight is keyed by generation and write count: a read that
		// starts after a write never joins a fetch that started before it.
		v, err, _ = c.sf.Do(key+"#"+itoa(gen)+"#"+itoa(uint64(cur.ver)), func() (any, error) {
			return call()
		})
	}
	if err != nil {
		var zero T
		if errors.Is(err, apiclient.ErrRateLimited) && !fresh {
			if sv, age, ver, ok := c.find(key, owner); ok && age <= c.o.StaleMax && cur.serves(ver) {
				noteStale(ctx, age)
				return sv.(T), nil
			}
		}
		return zero, err
	}
	return v.(T), nil
}

// check is what a read knows of the owner's writes on every replica.
type check struct {
	done   bool  // asked (or nothing to ask)
	ok     bool  // known: entries may be served and kept
	ver    int64 // the owner's write count
	erased bool
}

// serves reports whether an entry fetched under write count ver may be
// served.
func (k check) serves(ver int64) bool { return k.ok && !k.erased && k.ver == ver }

// check returns the owner's write count; without Versions the
// invalidations of this process are all there is (count 0). Within one
// request (WithChecks) a count is asked once per owner while this replica
// applies no invalidation: a count read after the request began is as new
// as the request needs.
func (c *Cache) check(ctx context.Context, owner string) check {
	if c.vs == nil {
		return check{done: true, ok: true}
	}
	m, _ := ctx.Value(checksKey{}).(*checks)
	if m == nil {
		return c.ask(ctx, owner)
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	m.mu.Lock()
	if call, ok := m.calls[owner]; ok && call.gen == gen {
		m.mu.Unlock()
		select {
		case <-call.done:
			return call.res
		case <-ctx.Done():
			return check{done: true}
		}
	}
	call := &checkCall{done: make(chan struct{}), gen: gen}
	m.calls[owner] = call
	m.mu.Unlock()
	call.res = c.ask(ctx, owner)
	close(call.done)
	if !call.res.ok {
		m.mu.Lock()
		if m.calls[owner] == call {
			delete(m.calls, owner)
		}
		m.mu.Unlock()
	}
	return call.res
}

// ask reads the owner's write count from Versions.
func (c *Cache) ask(ctx context.Context, owner string) check {
	v, err := c.vs.Version(ctx, owner)
	if err != nil {
		return check{done: true}
	}
	if v.Erased && owner != "" {
		c.mu.Lock()
		_, known := c.erased[owner]
		c.mu.Unlock()
		if !known {
			c.Apply(Event{Kind: KindErased, ID: owner})
		}
	}
	return check{done: true, ok: true, ver: v.N, erased: v.Erased}
}

// lookup returns the entry and its age, marking it recently used.
func (c *Cache) lookup(key, owner string) (any, time.Duration, bool) {
	v, age, _, ok := c.find(key, owner)
	return v, age, ok
}

// find returns the entry, its age and the write count it was fetched
// under, marking it recently used.
func (c *Cache) find(key, owner string) (any, time.Duration, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, gone := c.erased[owner]; gone && owner != "" {
		return nil, 0, 0, false
	}
	el, ok := c.items[key]
	if !ok {
		return nil, 0, 0, false
	}
	e := el.Value.(*entry)
	age := c.o.Now().Sub(e.at)
	if age > c.o.StaleMax {
		c.remove(el)
		return nil, 0, 0, false
	}
	c.lru.MoveToFront(el)
	return e.val, age, e.ver, true
}

// store keeps a fetched value unless a write happened here since the fetch
// began, or the owner was erased; ver is the owner's write count read
// before the fetch began.
func (c *Cache) store(key, owner string, v any, gen uint64, ver int64) {
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
	e := &entry{key: key, owner: owner, val: v, size: size, at: c.o.Now(), ver: ver}
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

// sizeOf estimates a value's memory from its JSON encoding. Decoded, a
// value holds more than its JSON (string and slice headers, times, maps):
// about 1.4 times as much for Dixa's customers, conversations and lists,
// measured by TestCacheCountsAtLeastItsRealMemory. Twice the JSON keeps the
// count above the real memory, so that MaxBytes is a real bound.
func sizeOf(v any) int64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 4096
	}
	return 2 * int64(len(b))
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
