// Package iostreams knows where sail's input and output go and whether each
// end is a terminal, so commands decide between TUI, human lines and NDJSON
// in one consistent way (and tests can flip every switch).
package iostreams

import (
	"bytes"
	"io"
	"os"
	"runtime"

	"golang.org/x/term"
)

// IOStreams holds the process's standard streams and what they are.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data: answers, NDJSON, --output
	ErrOut io.Writer // humans: progress, TUI, errors

	StdinTTY  bool
	StdoutTTY bool
	StderrTTY bool

	// ColorDisabled is true under NO_COLOR, TERM=dumb or when forced off.
	ColorDisabled bool

	// NoCursor is true when the terminal cannot move its cursor (TERM=dumb,
	// unknown or unset): a full-screen view or a bar redrawn in place would
	// hang or garble it, so such a terminal gets plain lines.
	NoCursor bool

	// Size returns the terminal size of stderr, or ok=false.
	Size func() (width, height int, ok bool)
}

// System returns the streams of the running process.
func System(getenv func(string) string) *IOStreams {
	isTTY := func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
	s := &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdinTTY:  isTTY(os.Stdin),
		StdoutTTY: isTTY(os.Stdout),
		StderrTTY: isTTY(os.Stderr),
		Size: func() (int, int, bool) {
			w, h, err := term.GetSize(int(os.Stderr.Fd()))
			return w, h, err == nil
		},
	}
	s.ColorDisabled = NoColor(getenv)
	s.NoCursor = NoCursor(getenv, runtime.GOOS)
	return s
}

// NoCursor reports whether TERM names a terminal without cursor
// addressing. Windows consoles set no TERM and do support it.
func NoCursor(getenv func(string) string, goos string) bool {
	switch getenv("TERM") {
	case "dumb", "unknown":
		return true
	case "":
		return goos != "windows"
	}
	return false
}

// NoColor reports whether the environment asks for no colour: NO_COLOR set to
// anything non-empty (no-color.org), or a dumb terminal.
func NoColor(getenv func(string) string) bool {
	return getenv("NO_COLOR") != "" || getenv("TERM") == "dumb"
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	s = &IOStreams{
		In: in, Out: out, ErrOut: errOut,
		ColorDisabled: true,
		Size:          func() (int, int, bool) { return 0, 0, false },
	}
	return s, in, out, errOut
}

// Interactive reports whether a person is watching stderr and can type.
func (s *IOStreams) Interactive() bool { return s.StderrTTY }

// CanRedraw reports whether stderr is a terminal that can take a
// full-screen view or a line redrawn in place.
func (s *IOStreams) CanRedraw() bool { return s.StderrTTY && !s.NoCursor }
