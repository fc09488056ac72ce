package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/sailresearch/sail/internal/event"
)

// Result is how the TUI ended.
type Result struct {
	// QuitBeforeDone is true when the program ended (q, ctrl+c, or ctx
	// cancelled) before a Completed or Error event arrived: the caller
	// treats it as an interrupt. For `sail listen`, whose normal end is q,
	// that is the usual outcome.
	QuitBeforeDone bool
}

// frameInterval paces the batches the pump hands the update loop: Bubble
// Tea redraws after every message, so one batch per interval is one redraw
// per interval however fast events come. A quiet listener shows an event
// at once; a flood is redrawn ten times a second, which is as fast as
// anyone reads a counter and keeps the view's CPU away from the receiver.
// Keys are messages of their own and still redraw at once.
const frameInterval = 100 * time.Millisecond

// Program is a running TUI. It implements event.Sink.
type Program struct {
	ctx    context.Context
	cancel context.CancelFunc
	tea    *tea.Program
	q      *queue
	done   chan struct{}
	pumped chan struct{} // closed when the pump goroutine has returned
	res    Result
	err    error
	// final is the model the program ended with.
	final Model
}

var _ event.Sink = (*Program)(nil)

// Start runs the TUI in a goroutine until the user quits, ExitOnComplete
// fires or ctx is cancelled, and returns at once. extra options go last, so
// tests can fix the window size or the colour profile.
//
// Bubble Tea's signal handler is left out: ctrl+c arrives as a key (the
// terminal is in raw mode) and quits like q, while SIGINT/SIGTERM from
// elsewhere stay with the caller, who cancels ctx.
func Start(ctx context.Context, o Options, extra ...tea.ProgramOption) *Program {
	// Replays run under a context that ends with the program, so quitting
	// does not leave one posting in the background.
	runCtx, cancel := context.WithCancel(ctx)
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler()}
	if o.Output != nil {
		opts = append(opts, tea.WithOutput(o.Output))
	}
	if o.Input != nil {
		opts = append(opts, tea.WithInput(o.Input))
	}
	if o.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	opts = append(opts, extra...)
	p := &Program{
		ctx:    ctx,
		cancel: cancel,
		tea:    tea.NewProgram(NewModel(o).withContext(runCtx), opts...),
		q:      newQueue(queueEvents, queueBytes),
		done:   make(chan struct{}),
		pumped: make(chan struct{}),
	}
	go p.run()
	go p.pump(runCtx)
	return p
}

// pump moves queued events into the update loop, all that are pending at
// once, at most once a frame. Send blocks while the loop is busy, and
// events queue meanwhile: a slow frame makes the next batch bigger, never
// the receiver slower.
func (p *Program) pump(ctx context.Context) {
	defer close(p.pumped)
	tick := time.NewTimer(0)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.q.wake:
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		evs, over := p.q.take()
		if len(evs) > 0 || !over.empty() {
			// Send returns when the loop took it or the program ended.
			p.tea.Send(batchMsg{evs: evs, over: over})
		}
		tick.Reset(frameInterval)
	}
}

func (p *Program) run() {
	defer close(p.done)
	defer func() { <-p.pumped }() // runs after cancel below: the pump has stopped when Wait returns
	defer p.cancel()
	final, err := p.tea.Run()
	m, ok := final.(Model)
	p.final = m
	p.res.QuitBeforeDone = !ok || !m.done
	if err != nil && p.ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
		// The caller cancelled ctx and knows why; it is not a TUI failure.
		err = nil
	}
	if err != nil {
		p.err = fmt.Errorf("terminal UI: %w (run with --json, or redirect stderr, for plain output)", err)
	}
}

// Emit queues e for the TUI and returns at once: it never waits for the
// view, so the receiver acknowledges as fast as without one. When the view
// is far behind, deliveries are counted instead of queued (see Overflow).
// Events emitted by one goroutine reach the view in order. Safe to call
// after Wait.
func (p *Program) Emit(e event.Event) {
	select {
	case <-p.done:
		return
	default:
	}
	p.q.push(e)
}

// Wait blocks until the TUI has ended and the terminal is restored. The
// error is non-nil only when the TUI itself failed (no terminal, a write
// error); cancelling ctx is not an error.
func (p *Program) Wait() (Result, error) {
	<-p.done
	return p.res, p.err
}

// Done is closed when the TUI has ended, for callers that select on it.
func (p *Program) Done() <-chan struct{} { return p.done }
