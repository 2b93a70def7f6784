package apiclient

import (
	"context"
	"sync"
)

type callerKey struct{}

// WithCaller marks ctx with the person a call is made for. Interactive
// calls are queued per person and served round-robin across persons, so one
// person with many tabs or a script cannot starve the others. Calls without
// a caller share one anonymous queue.
func WithCaller(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, callerKey{}, id)
}

// CallerOf returns the person ctx was marked with by WithCaller ("" if none).
func CallerOf(ctx context.Context) string {
	id, _ := ctx.Value(callerKey{}).(string)
	return id
}

// fairQueue hands out one turn at a time: the holder reserves its slot and
// keeps the turn until it may send, so the next slot goes to whoever is next
// in the round-robin across persons, not to whoever asked first. Each person
// has a FIFO of waiters. The ring holds the persons with waiters, in serving
// order, except the person holding the turn: they go to the back when the
// turn is given up, behind everyone who arrived meanwhile.
//
// A person's turn covers up to turnCalls calls in a row when they have more
// waiting: a page reads the customer and their conversations at once, and
// its second read should not wait a whole round behind its first.
type fairQueue struct {
	mu     sync.Mutex
	busy   bool                     // a caller holds the turn
	holder string                   // whose caller holds it (when busy)
	used   int                      // calls the holder has had in this turn
	queues map[string][]*fairWaiter // per person, oldest first
	ring   []string                 // persons with waiters, in serving order
}

// turnCalls is how many calls one person's turn covers: the reads of one
// page (the customer, their conversations, the agents' names).
const turnCalls = 3

type fairWaiter struct {
	ready   chan struct{} // closed when the turn is handed to this waiter
	granted bool          // guarded by fairQueue.mu
}

func newFairQueue() *fairQueue {
	return &fairQueue{queues: map[string][]*fairWaiter{}}
}

// take waits for the turn of person id. It returns the function that gives
// the turn up (call it exactly once), or ctx's error when ctx ends first.
func (q *fairQueue) take(ctx context.Context, id string) (release func(), err error) {
	q.mu.Lock()
	if !q.busy {
		q.busy, q.holder, q.used = true, id, 1
		q.mu.Unlock()
		return q.release, nil
	}
	w := &fairWaiter{ready: make(chan struct{})}
	if len(q.queues[id]) == 0 && id != q.holder {
		q.ring = append(q.ring, id)
	}
	q.queues[id] = append(q.queues[id], w)
	q.mu.Unlock()

	select {
	case <-w.ready:
		return q.release, nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	if w.granted {
		// The turn arrived together with the cancellation: pass it on.
		q.mu.Unlock()
		q.release()
		return nil, ctx.Err()
	}
	q.remove(id, w)
	q.mu.Unlock()
	return nil, ctx.Err()
}

// release hands the turn to the holder's next waiter while their turn
// lasts (or nobody else waits), else to the first waiter of the next person
// in the ring, or frees it.
func (q *fairQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	id := q.holder
	switch {
	case len(q.queues[id]) > 0 && (q.used < turnCalls || len(q.ring) == 0):
		q.used++
	case len(q.ring) > 0:
		if len(q.queues[id]) > 0 {
			q.ring = append(q.ring, id)
		}
		id = q.ring[0]
		q.ring = q.ring[1:]
		q.used = 1
	default:
		q.busy, q.holder, q.used = false, "", 0
		return
	}
	w := q.queues[id][0]
	if rest := q.queues[id][1:]; len(rest) > 0 {
		q.queues[id] = rest
	} else {
		delete(q.queues, id)
	}
	q.holder = id
	w.granted = true
	close(w.ready)
}

// remove takes a waiter that gave up out of its person's FIFO. q.mu is held.
func (q *fairQueue) remove(id string, w *fairWaiter) {
	ws := q.queues[id]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) > 0 {
		q.queues[id] = ws
		return
	}
	delete(q.queues, id)
	for i, x := range q.ring {
		if x == id {
			q.ring = append(q.ring[:i:i], q.ring[i+1:]...)
			break
		}
	}
}
