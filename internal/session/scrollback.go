package session

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/render"
)

// maxScrollbackDeliveries bounds the deliveries kept for the lines left
// after the interactive view: a sender that floods the route must not grow
// memory or bury the result.
const maxScrollbackDeliveries = 20

// scrollback keeps what the interactive view showed that matters after it
// is gone: the created response, each delivery, the comparison, the result
// and the error. print writes them with the plain renderer, so what stays
// on the terminal reads like --no-tui.
type scrollback struct {
	mu         sync.Mutex
	now        func() time.Time
	start, end time.Time
	events     []event.Event
	deliveries int
}

func newScrollback(now func() time.Time) *scrollback {
	return &scrollback{now: now, start: now()}
}

func (s *scrollback) Emit(e event.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.(type) {
	case event.Delivery:
		s.deliveries++
		if s.deliveries > maxScrollbackDeliveries {
			return
		}
	case event.Completed:
		s.end = s.now()
	case event.Created, event.Verified, event.Error:
	default:
		return
	}
	s.events = append(s.events, e)
}

func (s *scrollback) print(w io.Writer, color bool, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The renderer times the run from its own creation to Completed; give
	// it the run's times, not the moment of printing.
	calls := 0
	end := s.end
	if end.IsZero() {
		end = s.now()
	}
	clock := func() time.Time {
		calls++
		if calls == 1 {
			return s.start
		}
		return end
	}
	p := render.NewPlain(w, render.StyleRun, color, clock)
	for _, e := range s.events {
		p.Emit(e)
	}
	if extra := s.deliveries - maxScrollbackDeliveries; extra > 0 {
		fmt.Fprintf(w, "  … and %d more deliveries (sail history)\n", extra)
	}
	fmt.Fprintf(w, "exit %d\n", code)
}
