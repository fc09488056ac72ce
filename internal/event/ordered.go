package event

import "sync"

// Ordered wraps the sink shared by the receiver and the run so the stream
// always reads ready → created → delivery: on loopback the webhook can reach
// the receiver before the create call's own answer reaches us. Delivery and
// forwarding events, and notices (a sender reporting a failed attempt), are
// held until Created (or an Error) has gone through.
func Ordered(next Sink) Sink {
	return &ordered{next: next}
}

type ordered struct {
	mu       sync.Mutex
	next     Sink
	released bool
	held     []Event
}

func (o *ordered) Emit(e Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.released {
		switch e.(type) {
		case Delivery, Forwarded, Notice:
			o.held = append(o.held, e)
			return
		case Created, Error:
			o.released = true
			o.next.Emit(e)
			for _, h := range o.held {
				o.next.Emit(h)
			}
			o.held = nil
			return
		}
	}
	o.next.Emit(e)
}
