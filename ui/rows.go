package ui

import (
	"time"

	"charm.land/bubbles/v2/viewport"

	"github.com/sailresearch/sail/internal/event"
)

// DefaultMaxRows is how many deliveries the view keeps when Options.MaxRows
// is 0: the history's default size, so every row can still be opened.
const DefaultMaxRows = 1000

// Bodies of recent deliveries are kept in memory so that following the
// newest one never reads the disk, and so that --no-history (no store to
// load from) can still show what just arrived. Bounded both ways: a few
// large payloads must not pin hundreds of megabytes.
const (
	ringBodies = 256
	ringBytes  = 32 << 20
)

// pageRows is how many older deliveries one step past the oldest row loads
// from the history.
const pageRows = 100

// Stored is a delivery's body and headers as the history keeps them.
type Stored struct {
	Body    []byte
	Headers map[string]string
}

// stored is one ring slot.
type storedBody struct {
	seq uint64
	Stored
}

// bodyRing keeps the newest bodies by row sequence number, in a fixed
// circular array. It is only used from the update loop.
type bodyRing struct {
	slots [ringBodies]storedBody
	head  int // oldest
	n     int
	bytes int
}

func (r *bodyRing) put(seq uint64, s Stored) {
	if len(s.Body) == 0 && len(s.Headers) == 0 {
		return
	}
	if r.n == ringBodies {
		r.evict()
	}
	r.slots[(r.head+r.n)%ringBodies] = storedBody{seq: seq, Stored: s}
	r.n++
	r.bytes += len(s.Body)
	// The newest body always stays, whatever its size.
	for r.n > 1 && r.bytes > ringBytes {
		r.evict()
	}
}

func (r *bodyRing) evict() {
	r.bytes -= len(r.slots[r.head].Body)
	r.slots[r.head] = storedBody{} // free it now
	r.head = (r.head + 1) % ringBodies
	r.n--
}

func (r *bodyRing) get(seq uint64) (Stored, bool) {
	// Recent rows are selected far more often: search from the newest.
	for i := r.n - 1; i >= 0; i-- {
		sl := &r.slots[(r.head+i)%ringBodies]
		if sl.seq == seq {
			return sl.Stored, true
		}
		if sl.seq < seq {
			break
		}
	}
	return Stored{}, false
}

// deque is a bounded list that drops from the front: the view's rows and
// run's timeline. Appending is amortised O(1) and never keeps more than
// about twice the bound in memory.
type deque[T any] struct {
	buf  []T
	head int
}

func (d *deque[T]) items() []T { return d.buf[d.head:] }

func (d *deque[T]) len() int { return len(d.buf) - d.head }

// push appends v and drops from the front until at most limit remain; it
// returns how many were dropped.
func (d *deque[T]) push(v T, limit int) int {
	if len(d.buf) == cap(d.buf) && d.head > 0 {
		live := d.buf[d.head:]
		if d.head >= len(live) {
			// Enough room in front: slide down instead of growing.
			n := copy(d.buf, live)
			clear(d.buf[n:])
			d.buf = d.buf[:n]
		} else {
			nb := make([]T, len(live), 2*len(live)+16)
			copy(nb, live)
			d.buf = nb
		}
		d.head = 0
	}
	d.buf = append(d.buf, v)
	dropped := 0
	var zero T
	for d.len() > limit {
		d.buf[d.head] = zero // release what it references now
		d.head++
		dropped++
	}
	return dropped
}

// prepend puts vs (oldest first) before the first item.
func (d *deque[T]) prepend(vs []T) {
	nb := make([]T, 0, len(vs)+d.len()+16)
	nb = append(append(nb, vs...), d.items()...)
	d.buf, d.head = nb, 0
}

// detail is what the detail tabs show for the selection, derived once per
// selection: loading the body, pretty-printing it and finding its output
// text happen here and nowhere else.
type detail struct {
	valid bool
	seq   uint64 // the row it belongs to; 0 is the Completed payload
	Stored
	pretty []string
	isJSON bool
	output string
	err    string // why the body could not be shown
}

// work counts the expensive steps, so tests and benchmarks can check that
// they happen per selection and per frame, not per event.
type work struct {
	Loads          int // bodies fetched from the history through Options.Load
	Details        int // bodies prepared for display (pretty-print + output)
	PayloadRenders int // Payload tab renders (highlight + wrap)
	DetailRenders  int // any tab's content rebuilt
	Frames         int // View calls
	Batches        int // queued batches taken from Program's queue
}

// shared is the part of the model that its copies share: caches filled
// lazily by View, which has a value receiver. Bubble Tea only ever uses the
// latest copy, so sharing is safe.
type shared struct {
	vp    viewport.Model
	shown detailKey
	det   detail
	ring  bodyRing
	work  work

	// listen's rendered rows of the last frame, by row and state.
	rowsPrev  map[rowKey]string
	rowsWidth int
	rowsDark  bool
}

// rowKey is what a listen row's rendering depends on besides the width and
// the palette.
type rowKey struct {
	seq uint64
	ver int
	sel bool
}

// counts are the totals of listen's header line, kept as events arrive so a
// frame never walks the rows.
type counts struct {
	total, accepted, rejected, dups int
}

func (c *counts) add(d event.Delivery) {
	c.total++
	if d.Accepted() {
		c.accepted++
	} else {
		c.rejected++
	}
	if d.Duplicate {
		c.dups++
	}
}

// Overflow counts what Program's queue folded away because the view fell
// behind: the deliveries are counted, never listed.
type Overflow struct {
	Deliveries, Accepted, Rejected, Duplicates int
	// Other counts dropped forwards and notices.
	Other int
	// Since is when the first of the dropped deliveries arrived.
	Since time.Time
}

func (o *Overflow) add(e event.Event) {
	switch e := e.(type) {
	case event.Delivery:
		if o.Deliveries == 0 {
			o.Since = e.ReceivedAt
		}
		o.Deliveries++
		if e.Accepted() {
			o.Accepted++
		} else {
			o.Rejected++
		}
		if e.Duplicate {
			o.Duplicates++
		}
	default:
		o.Other++
	}
}

func (o Overflow) empty() bool { return o.Deliveries == 0 && o.Other == 0 }
