package ui

import (
	"context"
	"errors"
	"fmt"

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

// Program is a running TUI. It implements event.Sink.
type Program struct {
	ctx    context.Context
	cancel context.CancelFunc
	tea    *tea.Program
	done   chan struct{}
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
		done:   make(chan struct{}),
	}
	go p.run()
	return p
}

func (p *Program) run() {
	defer close(p.done)
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

// Emit hands e to the TUI. It returns once the update loop has taken the
// event, and at once when the program has ended, so it never blocks for
// good and is safe to call after Wait.
func (p *Program) Emit(e event.Event) {
	select {
	case <-p.done:
		return
	default:
	}
	// tea.Program.Send returns when the loop receives the message or the
	// program's context is done, which Run guarantees on exit.
	p.tea.Send(EventMsg{Event: e})
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
