package webhook

import (
	"context"
	"hash/maphash"
	"sync"
)

// dispatcher runs the receiver's after-the-ack work: one FIFO queue, so
// that events reach the sink in the order deliveries were answered, plus
// concurrent asynchronous forwards. It also counts handlers in flight, so
// that Wait covers everything a request can still produce. No goroutine
// lives while there is nothing to do.
type dispatcher struct {
	mu      sync.Mutex
	closed  bool
	pending int           // handlers in flight + queued tasks + forwards
	idle    chan struct{} // closed when pending drops to zero
	queue   []func()
	running bool
}

func (d *dispatcher) addLocked() {
	if d.pending == 0 {
		d.idle = make(chan struct{})
	}
	d.pending++
}

func (d *dispatcher) done() {
	d.mu.Lock()
	d.pending--
	if d.pending == 0 {
		close(d.idle)
	}
	d.mu.Unlock()
}

// enter registers a request; false once the receiver is closed.
func (d *dispatcher) enter() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.addLocked()
	return true
}

// push queues f behind earlier work.
func (d *dispatcher) push(f func()) {
	d.mu.Lock()
	d.addLocked()
	d.queue = append(d.queue, f)
	if !d.running {
		d.running = true
		go d.run()
	}
	d.mu.Unlock()
}

func (d *dispatcher) run() {
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.running = false
			d.queue = nil // let a burst's backing array go
			d.mu.Unlock()
			return
		}
		f := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		f()
		d.done()
	}
}

// async runs f on its own goroutine, counted by Wait.
func (d *dispatcher) async(f func()) {
	d.mu.Lock()
	d.addLocked()
	d.mu.Unlock()
	go func() {
		defer d.done()
		f()
	}()
}

func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}

func (d *dispatcher) wait(ctx context.Context) error {
	d.mu.Lock()
	if d.pending == 0 {
		d.mu.Unlock()
		return nil
	}
	idle := d.idle
	d.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fifo is a set of at most max strings that forgets the oldest first, with
// a counter per string: the receiver's memory of dedupe keys and attempts
// must not grow without bound in a listener that runs for weeks. It keeps
// 64-bit hashes of the strings, not the strings: its two sets of 10,000
// were most of the receiver's live heap, which the garbage collector
// marked every few hundred deliveries; hashes hold no pointers, so it
// skips them. Two of 10,000 keys share a hash with odds under 10⁻¹¹.
type fifo struct {
	max  int
	seq  uint64
	m    map[uint64]fifoVal
	ring []fifoSlot
	next int
}

type fifoVal struct {
	n   int
	seq uint64 // which ring slot owns the entry
}

type fifoSlot struct {
	key, seq uint64
}

var fifoSeed = maphash.MakeSeed()

func newFIFO(max int) *fifo { return &fifo{max: max, m: make(map[uint64]fifoVal)} }

func (f *fifo) get(k string) int { return f.m[maphash.String(fifoSeed, k)].n }

// add adds n to k's counter, inserting k if needed, and returns the sum.
func (f *fifo) add(s string, n int) int {
	k := maphash.String(fifoSeed, s)
	if v, ok := f.m[k]; ok {
		v.n += n
		f.m[k] = v
		return v.n
	}
	f.seq++
	slot := fifoSlot{k, f.seq}
	if len(f.ring) < f.max {
		f.ring = append(f.ring, slot)
	} else {
		old := f.ring[f.next]
		if v, ok := f.m[old.key]; ok && v.seq == old.seq {
			delete(f.m, old.key)
		}
		f.ring[f.next] = slot
		f.next = (f.next + 1) % f.max
	}
	f.m[k] = fifoVal{n, f.seq}
	return n
}

// remove forgets k; its ring slot is recycled in turn.
func (f *fifo) remove(k string) { delete(f.m, maphash.String(fifoSeed, k)) }
