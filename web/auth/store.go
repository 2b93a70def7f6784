package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Store keeps, on the server, what a cookie only names: session records
// and sign-ins in progress. A cookie whose id is not in the store counts
// for nothing. Sessions puts the lifetimes on top (it decides what has
// expired); a Store only keeps and forgets. MemoryStore is the one in
// memory; one in the database implements the same methods.
type Store interface {
	// Get returns the session record id, and false when there is none.
	Get(ctx context.Context, id string) (Record, bool, error)
	// Put adds or replaces the record rec.ID.
	Put(ctx context.Context, rec Record) error
	// Update changes the record id in one step (no other change to it in
	// between) and returns it as changed; false when there is none.
	Update(ctx context.Context, id string, f func(*Record)) (Record, bool, error)
	// Delete forgets the record id; an unknown id is no error.
	Delete(ctx context.Context, id string) error

	// PutPending keeps a sign-in in progress under id until expires.
	// ErrStoreFull: too many are in progress; the sign-in is refused.
	PutPending(ctx context.Context, id string, p Pending, expires time.Time) error
	// TakePending returns the sign-in in progress id and forgets it in one
	// step: of two takes of the same id, at most one finds it. One past
	// its expiry at now is not found.
	TakePending(ctx context.Context, id string, now time.Time) (Pending, bool, error)

	// Sweep forgets the records last seen before seenBefore or created
	// before createdBefore, and the pending sign-ins expired at now.
	Sweep(ctx context.Context, seenBefore, createdBefore, now time.Time) error
	// Len is the number of session records (tests, metrics).
	Len(ctx context.Context) (int, error)
}

// ErrStoreFull means the store holds as many sign-ins in progress as it
// may; new ones are refused until some finish or expire.
var ErrStoreFull = errors.New("too many sign-ins in progress")

// DefaultMaxPending bounds the sign-ins in progress a MemoryStore keeps:
// each GET /login makes one, and anyone may ask for that page.
const DefaultMaxPending = 10000

// MemoryStore is a Store in memory: everyone is signed out when the
// process restarts.
type MemoryStore struct {
	// MaxPending bounds the sign-ins in progress; zero: DefaultMaxPending.
	MaxPending int

	mu      sync.Mutex
	records map[string]*Record
	pending map[string]pendingEntry
}

type pendingEntry struct {
	p       Pending
	expires time.Time
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records: map[string]*Record{}, pending: map[string]pendingEntry{}}
}

// copyRecord returns rec with its own group list, so a caller's changes
// never reach the store unless put back.
func copyRecord(rec *Record) Record {
	cp := *rec
	cp.Claims.Groups = slices.Clone(rec.Claims.Groups)
	return cp
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, id string) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.records[id]
	if !ok {
		return Record{}, false, nil
	}
	return copyRecord(rec), true, nil
}

// Put implements Store.
func (m *MemoryStore) Put(_ context.Context, rec Record) error {
	cp := copyRecord(&rec)
	m.mu.Lock()
	m.records[rec.ID] = &cp
	m.mu.Unlock()
	return nil
}

// Update implements Store.
func (m *MemoryStore) Update(_ context.Context, id string, f func(*Record)) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.records[id]
	if !ok {
		return Record{}, false, nil
	}
	f(rec)
	return copyRecord(rec), true, nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	delete(m.records, id)
	m.mu.Unlock()
	return nil
}

// PutPending implements Store. When full it first forgets the expired
// sign-ins; only if none has expired is the new one refused.
func (m *MemoryStore) PutPending(_ context.Context, id string, p Pending, expires time.Time) error {
	limit := m.MaxPending
	if limit <= 0 {
		limit = DefaultMaxPending
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pending) >= limit {
		// The sign-in starts now: what expired before it can go.
		m.sweepPendingLocked(p.Started)
		if len(m.pending) >= limit {
			return ErrStoreFull
		}
	}
	m.pending[id] = pendingEntry{p: p, expires: expires}
	return nil
}

// TakePending implements Store.
func (m *MemoryStore) TakePending(_ context.Context, id string, now time.Time) (Pending, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.pending[id]
	if !ok {
		return Pending{}, false, nil
	}
	delete(m.pending, id)
	if !now.Before(e.expires) {
		return Pending{}, false, nil
	}
	return e.p, true, nil
}

func (m *MemoryStore) sweepPendingLocked(now time.Time) {
	for id, e := range m.pending {
		if !now.Before(e.expires) {
			delete(m.pending, id)
		}
	}
}

// Sweep implements Store.
func (m *MemoryStore) Sweep(_ context.Context, seenBefore, createdBefore, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, rec := range m.records {
		if rec.LastSeen.Before(seenBefore) || rec.Created.Before(createdBefore) {
			delete(m.records, id)
		}
	}
	m.sweepPendingLocked(now)
	return nil
}

// Len implements Store.
func (m *MemoryStore) Len(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.records), nil
}

// PendingLen is the number of sign-ins in progress (tests).
func (m *MemoryStore) PendingLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}
