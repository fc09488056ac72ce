package webhook

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
)

const (
	// bigBody is the size from which a body's buffer is worth a GC first.
	bigBody = 8 << 20
	// slack is spare capacity behind a body so that Redact can grow a
	// short token into the mask without copying the body.
	slack = 64
	// freeBody is how much of every body is read whatever the in-flight
	// budget says: small deliveries are never refused because someone
	// else is sending a huge one.
	freeBody = 64 << 10
	// firstChunk is the first buffer for a body of unknown length.
	firstChunk = 16 << 10
)

var (
	// errTooLarge marks a body over the limit.
	errTooLarge = errors.New("body too large")
	// errBusy marks a body that would take the bodies being read past the
	// in-flight budget.
	errBusy = errors.New("too many large bodies in flight")
)

// budget bounds the bytes of request-body buffers held at once, so that
// many large bodies sent together cannot exhaust memory.
type budget struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64 // high-water mark of used, for tests and benchmarks
}

// take reserves n more bytes for a body that already holds held. It
// refuses when the total would pass the limit, unless the body stays
// within freeBody.
func (b *budget) take(held, n int64) bool {
	u := b.used.Add(n)
	if u > b.limit && held+n > freeBody {
		b.used.Add(-n)
		return false
	}
	for p := b.peak.Load(); u > p && !b.peak.CompareAndSwap(p, u); p = b.peak.Load() {
	}
	return true
}

func (b *budget) give(n int64) { b.used.Add(-n) }

// body is one request body in memory and its share of the budget.
type body struct {
	buf       []byte
	truncated bool // limit ≥ 0 and more was sent than buf holds
	b         *budget
	held      int64
}

// release returns the body's share of the budget; buf must not be used
// afterwards by anything that counts on the bound.
func (bd *body) release() {
	bd.b.give(bd.held)
	bd.held = 0
}

// grow replaces buf by one of capacity n, counted against the budget
// before it is allocated: sized and chunked bodies share one budget and
// one limit, checked while the body is read.
func (bd *body) grow(n int) error {
	if !bd.b.take(bd.held, int64(n)) {
		return errBusy
	}
	if n >= bigBody {
		// A previous huge buffer may be garbage the collector has not
		// reclaimed yet (the heap goal doubles after one): collect it now
		// so its pages are reused instead of adding another copy to the
		// process. A millisecond, for a rare delivery.
		runtime.GC()
	}
	nb := make([]byte, len(bd.buf), n)
	copy(nb, bd.buf)
	bd.b.give(int64(cap(bd.buf)))
	bd.held += int64(n) - int64(cap(bd.buf))
	bd.buf = nb
	return nil
}

// readBody reads the body into one buffer with a little spare capacity
// (see slack). With a Content-Length the buffer is allocated once at the
// right size; without one it doubles, never past the limit, so a chunked
// body costs at most 1.5 times the limit while it grows. The body is
// refused with errTooLarge as soon as it passes r.o.MaxBody. limit ≥ 0
// reads at most limit bytes and reports whether more was sent: a sender
// that failed the token check does not get to make us hold 32 MiB. The
// caller must call release on the result, error or not.
func (r *Receiver) readBody(req *http.Request, limit int64) (*body, error) {
	bd := &body{b: &r.inflight}
	if req.ContentLength > r.o.MaxBody {
		return bd, errTooLarge
	}
	most := r.o.MaxBody // bytes we may keep
	if limit >= 0 {
		most = min(most, limit)
	}
	want := int64(firstChunk)
	if n := req.ContentLength; n >= 0 {
		want = min(n, most+1) + slack
	}
	if err := bd.grow(int(want)); err != nil {
		return bd, err
	}
	for {
		if len(bd.buf) == cap(bd.buf) {
			// Double, but never past what the limit needs, and go straight
			// there when the step after would be a small tail.
			next, top := 2*int64(cap(bd.buf)), most+1+slack
			if next > top || top-next < next/2 {
				next = top
			}
			if err := bd.grow(int(next)); err != nil {
				return bd, err
			}
		}
		n, err := req.Body.Read(bd.buf[len(bd.buf):cap(bd.buf)])
		bd.buf = bd.buf[:len(bd.buf)+n]
		if int64(len(bd.buf)) > most {
			if limit >= 0 && most == limit {
				bd.buf, bd.truncated = bd.buf[:limit], true
				return bd, nil
			}
			return bd, errTooLarge
		}
		if errors.Is(err, io.EOF) {
			return bd, nil
		}
		if err != nil {
			return bd, fmt.Errorf("read body: %w", err)
		}
	}
}
