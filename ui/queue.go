package ui

import (
	"sync"

	"github.com/sailresearch/sail/internal/event"
)

// Bounds of the queue between the receiver and the view. The receiver
// never waits for the view: when the view falls this far behind, further
// deliveries are only counted (Overflow) until it catches up.
const (
	queueEvents = 4096
	queueBytes  = 64 << 20
)

// queue hands events from any goroutine to the update loop. push never
// blocks and never grows past its bounds; take returns everything pending
// at once, which is how a burst becomes one update.
type queue struct {
	mu       sync.Mutex
	evs      []event.Event
	bytes    int
	over     Overflow
	maxEvs   int
	maxBytes int
	wake     chan struct{} // one pending signal at most
}

func newQueue(maxEvs, maxBytes int) *queue {
	return &queue{maxEvs: maxEvs, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// droppable reports whether e may be folded into the overflow counters:
// the events a flood consists of. The lifecycle events (ready, created,
// status, verified, completed, error) are few and always kept.
func droppable(e event.Event) bool {
	switch e.(type) {
	case event.Delivery, event.Forwarded, event.Notice:
		return true
	}
	return false
}

func (q *queue) push(e event.Event) {
	e = deref(e)
	if e == nil {
		return
	}
	size := 0
	if d, ok := e.(event.Delivery); ok {
		size = len(d.Body)
	}
	q.mu.Lock()
	if droppable(e) && (len(q.evs) >= q.maxEvs || q.bytes+size > q.maxBytes) {
		q.over.add(e)
	} else {
		q.evs = append(q.evs, e)
		q.bytes += size
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take empties the queue.
func (q *queue) take() ([]event.Event, Overflow) {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs, over := q.evs, q.over
	q.evs, q.bytes, q.over = nil, 0, Overflow{}
	return evs, over
}

// batchMsg is what the pump hands the update loop: everything that arrived
// since the previous frame, and what was folded away.
type batchMsg struct {
	evs  []event.Event
	over Overflow
}
