package session

import (
	"context"
	"sync"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/ui"
)

// StartView starts the interactive view on stderr when the output has
// one, and returns nil otherwise. ctx bounds the view: run's outlives the
// run (it stays until q), listen's ends with listening.
func (s *Session) StartView(ctx context.Context, uo ui.Options) *ui.Program {
	if !s.Output.View {
		return nil
	}
	uo.Output, uo.NoColor, uo.Now = s.o.IO.ErrOut, s.o.IO.ColorDisabled, s.o.Now
	if s.o.ViewInput != nil {
		uo.Input = s.o.ViewInput
	}
	uo.Load = Loader(s.Store)
	prog := ui.Start(ctx, uo)
	if s.o.Rules.Scrollback {
		s.after = newScrollback(s.o.Now)
		s.human.set(event.Multi(s.after, prog))
	} else {
		s.human.set(prog)
	}
	return prog
}

// Scrollback leaves what the view showed, and the exit code, as plain
// lines on stderr once the view (and its alternate screen) is gone.
func (s *Session) Scrollback(code int) {
	if s.after != nil {
		s.after.print(s.o.IO.ErrOut, !s.o.IO.ColorDisabled, code)
	}
}

// swapSink forwards to a sink chosen after the chain was wired.
type swapSink struct {
	mu sync.Mutex
	s  event.Sink
}

func (w *swapSink) set(s event.Sink) {
	w.mu.Lock()
	w.s = s
	w.mu.Unlock()
}

func (w *swapSink) Emit(e event.Event) {
	w.mu.Lock()
	s := w.s
	w.mu.Unlock()
	if s != nil {
		s.Emit(e)
	}
}
