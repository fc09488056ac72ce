package session

import (
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/render"
)

// Stream names one of the process's output streams.
type Stream int

// The streams plain lines can go to.
const (
	Stdout Stream = iota + 1
	Stderr
)

// What stdout can carry.
const (
	Events  = "events"  // NDJSON, one event a line
	Text    = "text"    // the answer
	Payload = "payload" // the webhook payload
)

// Rules are how a command's output follows its flags and the terminal.
// run and listen differ only in these values; Choose applies them.
type Rules struct {
	// OnTerminal is what stdout carries when it is a terminal and no flag
	// says otherwise: run's answer, or nothing beyond listen's lines.
	OnTerminal string
	// Lines is where plain progress lines go when no view owns the screen:
	// run keeps stdout for its answer, listen's lines are its output.
	Lines Stream
	Style render.Style
	// Ordered holds the receiver's events until the command's own Created:
	// a command that creates what it then receives (run) would otherwise
	// show a fast delivery before the create.
	Ordered bool
	// Scrollback leaves what the interactive view showed as plain lines
	// after it closes.
	Scrollback bool
}

// The rules of sail run and sail listen.
var (
	RunRules    = Rules{OnTerminal: Text, Lines: Stderr, Style: render.StyleRun, Ordered: true, Scrollback: true}
	ListenRules = Rules{Lines: Stdout, Style: render.StyleListen}
)

// Flags are the output flags of a command.
type Flags struct {
	JSON  bool   // --json: NDJSON events on stdout, no view
	NoTUI bool   // --no-tui: plain lines instead of the interactive view
	Out   string // --output (run only): events, text or payload; "" decides
}

// Output is what each stream gets.
type Output struct {
	Stdout string // Events, Text, Payload, or "" for nothing but Lines
	View   bool   // the interactive view, on stderr
	Lines  Stream // where plain lines go; 0 for nowhere
}

// Choose decides the output: NDJSON on stdout when it is not a terminal or
// with --json; the interactive view on a stderr that can redraw (never on
// TERM=dumb); plain lines on a terminal the view and the events leave free.
func Choose(r Rules, io *iostreams.IOStreams, f Flags) Output {
	o := Output{Stdout: f.Out}
	if o.Stdout == "" {
		o.Stdout = r.OnTerminal
		if f.JSON || !io.StdoutTTY {
			o.Stdout = Events
		}
	}
	o.View = io.CanRedraw() && !f.JSON && !f.NoTUI
	tty, taken := io.StderrTTY, false
	if r.Lines == Stdout {
		tty, taken = io.StdoutTTY, o.Stdout == Events
	}
	if tty && !o.View && !f.JSON && !taken {
		o.Lines = r.Lines
	}
	return o
}
