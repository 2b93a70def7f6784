// Package agents is the console's directory of the organisation's agents
// and admins, so that people are shown by name and never as a UUID.
//
// The rules:
//   - the whole list (GET /agents, every page) is read once and shared by
//     everyone, then read again every Refresh (10 minutes) in the
//     rate limiter's low-priority lane, so that reading it never slows a
//     person down; a failed read keeps the previous list and is retried
//     after a minute;
//   - an id that is not in the list is looked up once with GET
//     /agents/{id} (one call however many people ask at the same moment);
//     an agent found that way is kept until the next read of the list, and
//     an id Dixa does not know (a deleted agent: old conversations still
//     name them) is remembered for MissTTL, so that it is not asked for
//     again on every view;
//   - an unknown or deleted agent is shown as "Unknown agent" with the id
//     beside it; one that could not be looked up (Dixa failing) says so,
//     and is asked for again next time.
package agents

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/example/dixa-console/apiclient"
)

// Source is what the directory needs from Dixa; *apiclient.Client
// satisfies it.
type Source interface {
	Agents(ctx context.Context, o apiclient.AgentListOptions) iter.Seq2[apiclient.Agent, error]
	GetAgent(ctx context.Context, id string) (apiclient.Agent, error)
}

// Defaults of Options.
const (
	// Refresh is how often the whole list is read again.
	Refresh = 10 * time.Minute
	// MissTTL is how long an id Dixa does not know is remembered as unknown.
	MissTTL = time.Hour
	// retryAfterFailure is how soon a failed read of the list is retried.
	retryAfterFailure = time.Minute
	// fetchTimeout bounds a read shared by several requests: it runs
	// detached from the request that started it, so that one person leaving
	// does not fail everyone waiting on it.
	fetchTimeout = 30 * time.Second
	// listPageLimit is the page size of the list read.
	listPageLimit = 100
	// maxLookups bounds the single look-ups one call of Names makes; the
	// ids beyond it are shown as not looked up.
	maxLookups = 10
)

// Status says what the console knows of an agent id.
type Status int

const (
	// Known: Dixa has the agent; Name and Email are set.
	Known Status = iota
	// Unknown: Dixa has no agent with that id (deleted, or never was).
	Unknown
	// Unavailable: the agent could not be looked up just now.
	Unavailable
)

// Person is an agent as the console shows them.
type Person struct {
	ID     string
	Name   string // the display name, "" unless Known
	Email  string
	Status Status
}

// Options tune a Directory; the zero value means the defaults.
type Options struct {
	Refresh time.Duration
	MissTTL time.Duration
	// Now is the clock of the caches (tests); nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Directory is the shared agent directory. Create it with New; start its
// refresh with Run. It is safe for concurrent use.
type Directory struct {
	src Source
	opt Options
	sf  singleflight.Group

	mu     sync.RWMutex
	list   map[string]Person // the last full read
	loaded time.Time         // when it was read; zero: never
	failed time.Time         // when a read last failed
	single map[string]lookup // ids looked up one by one

	readOnce sync.Once
	ready    chan struct{} // closed when the first read has ended
}

// lookup is the outcome of a single look-up and when it was made.
type lookup struct {
	p  Person
	at time.Time
}

// New returns an empty directory in front of src.
func New(src Source, o Options) *Directory {
	if o.Refresh <= 0 {
		o.Refresh = Refresh
	}
	if o.MissTTL <= 0 {
		o.MissTTL = MissTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Directory{src: src, opt: o, single: map[string]lookup{}, ready: make(chan struct{})}
}

// Run reads the list at once and then every Refresh (after a failure,
// within a minute) until ctx is cancelled. Reads go through the
// low-priority lane.
func (d *Directory) Run(ctx context.Context) {
	for {
		wait := d.opt.Refresh
		if err := d.load(ctx, true); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.opt.Log.Warn("agent directory not read; the previous one stays", "err", err)
			wait = min(wait, retryAfterFailure)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Ready is closed once the first read of the list has ended, whether it
// worked or not.
func (d *Directory) Ready() <-chan struct{} { return d.ready }

// Loaded returns when the list was last read, zero if never.
func (d *Directory) Loaded() time.Time {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.loaded
}

// shouldLoad reports whether a view must read the list first: it has never
// been read, and no read failed within the last minute (while Dixa fails,
// views do not each try again).
func (d *Directory) shouldLoad() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.loaded.IsZero() && (d.failed.IsZero() || d.opt.Now().Sub(d.failed) >= retryAfterFailure)
}

// load reads the whole list, shared with any read already in flight, and
// waits for it as long as ctx allows.
func (d *Directory) load(ctx context.Context, background bool) error {
	ch := d.sf.DoChan("list", func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		if background {
			fctx = apiclient.WithLowPriority(fctx)
		}
		return nil, d.read(fctx)
	})
	select {
	case <-ctx.Done():
		return ctx.Err()
	case r := <-ch:
		return r.Err
	}
}

// read reads every page of the list and replaces the directory's.
func (d *Directory) read(ctx context.Context) error {
	defer d.readOnce.Do(func() { close(d.ready) })
	list := map[string]Person{}
	for a, err := range d.src.Agents(ctx, apiclient.AgentListOptions{PageLimit: listPageLimit}) {
		if err != nil {
			d.mu.Lock()
			d.failed = d.opt.Now()
			d.mu.Unlock()
			return err
		}
		list[a.ID] = known(a)
	}
	now := d.opt.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.list, d.loaded = list, now
	// Agents found one by one are in the new list (or gone from Dixa);
	// remembered misses stay until they expire.
	for id, l := range d.single {
		if l.p.Status == Known || !d.fresh(l, now) {
			delete(d.single, id)
		}
	}
	return nil
}

func known(a apiclient.Agent) Person {
	name := a.DisplayName
	if name == "" {
		name = a.Email
	}
	return Person{ID: a.ID, Name: name, Email: a.Email, Status: Known}
}

// Names returns the people behind ids (duplicates and "" are skipped). It
// makes no upstream call when every id is in the list or remembered. A
// directory that has never been read is read first, within ctx.
func (d *Directory) Names(ctx context.Context, ids ...string) map[string]Person {
	out := make(map[string]Person, len(ids))
	if len(ids) == 0 {
		return out
	}
	if d.shouldLoad() {
		if err := d.load(ctx, false); err != nil {
			d.opt.Log.Warn("agent directory not read; looking agents up one by one", "err", err)
		}
	}
	var missing []string
	now := d.opt.Now()
	d.mu.RLock()
	for _, id := range ids {
		if _, done := out[id]; done || id == "" {
			continue
		}
		if p, ok := d.list[id]; ok {
			out[id] = p
		} else if l, ok := d.single[id]; ok && d.fresh(l, now) {
			out[id] = l.p
		} else {
			out[id] = Person{ID: id, Status: Unavailable}
			missing = append(missing, id)
		}
	}
	d.mu.RUnlock()
	d.lookupAll(ctx, missing, out)
	return out
}

// fresh reports whether a single look-up may still be used: a miss for
// MissTTL, a found agent until the list is read again (at most Refresh).
func (d *Directory) fresh(l lookup, now time.Time) bool {
	ttl := d.opt.Refresh
	if l.p.Status == Unknown {
		ttl = d.opt.MissTTL
	}
	return now.Sub(l.at) < ttl
}

// lookupAll looks the ids up in parallel (at most maxLookups of them) and
// writes the outcomes into out.
func (d *Directory) lookupAll(ctx context.Context, ids []string, out map[string]Person) {
	if len(ids) > maxLookups {
		ids = ids[:maxLookups]
	}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, id := range ids {
		wg.Go(func() {
			p := d.lookup(ctx, id)
			mu.Lock()
			out[id] = p
			mu.Unlock()
		})
	}
	wg.Wait()
}

// lookup asks Dixa for one agent, once for all concurrent askers, and
// remembers a found agent or a miss; a failure is not remembered.
func (d *Directory) lookup(ctx context.Context, id string) Person {
	ch := d.sf.DoChan("agent/"+id, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		a, err := d.src.GetAgent(fctx, id)
		var p Person
		switch {
		case err == nil:
			p = known(a)
		case errors.Is(err, apiclient.ErrNotFound), errors.Is(err, apiclient.ErrBadRequest):
			// A malformed id is refused before any call: no agent either.
			p = Person{ID: id, Status: Unknown}
		default:
			return Person{ID: id, Status: Unavailable}, err
		}
		d.mu.Lock()
		d.single[id] = lookup{p: p, at: d.opt.Now()}
		d.mu.Unlock()
		return p, nil
	})
	select {
	case <-ctx.Done():
		return Person{ID: id, Status: Unavailable}
	case r := <-ch:
		if r.Err != nil {
			d.opt.Log.Warn("agent not looked up", "agent", id, "err", r.Err)
		}
		return r.Val.(Person)
	}
}
