package batch

import (
	"fmt"
	"sync"
	"time"

	"charm.land/bubbles/v2/progress"
	"github.com/charmbracelet/x/ansi"

	"github.com/sailresearch/sail/internal/iostreams"
)

// Meter shows progress on stderr: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise.
type Meter struct {
	mu       sync.Mutex
	io       *iostreams.IOStreams
	now      func() time.Time
	tty      bool
	bar      progress.Model
	last     time.Time
	lastLine int
}

// NewMeter writes to io's stderr, reading the time from now.
func NewMeter(io *iostreams.IOStreams, now func() time.Time) *Meter {
	// The first plain line comes one interval in, not at the first result.
	p := &Meter{io: io, now: now, tty: io.CanRedraw(), last: now()}
	if p.tty {
		opts := []progress.Option{progress.WithWidth(30), progress.WithoutPercentage()}
		if io.ColorDisabled {
			opts = append(opts, progress.WithFillCharacters('#', '.'))
		}
		p.bar = progress.New(opts...)
	}
	return p
}

// Update redraws the bar (a terminal) or prints a line (every few
// seconds otherwise).
func (p *Meter) Update(pr Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	interval := 5 * time.Second
	if p.tty {
		interval = 100 * time.Millisecond
	}
	if now.Sub(p.last) < interval {
		return
	}
	p.last = now
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Done) / s
	}
	// The total is known up front for a regular file; for a stream it is
	// what was read so far, and the bar and ETA say only that much.
	total := pr.Total
	if total == 0 {
		total = pr.Read - pr.Skipped
	}
	pending := max(total-pr.Done, 0)
	line := fmt.Sprintf("%d done (%d failed), %d pending, %.0f/s", pr.Done, pr.Failed, pending, rate)
	if pr.Total > 0 {
		line = fmt.Sprintf("%d of %d done (%d failed), %.0f/s", pr.Done, pr.Total, pr.Failed, rate)
	}
	if !p.tty {
		fmt.Fprintf(p.io.ErrOut, "progress: %s\n", line)
		return
	}
	frac := 0.0
	if total > 0 {
		frac = min(float64(pr.Done)/float64(total), 1)
	}
	if rate > 0 && pending > 0 {
		line += fmt.Sprintf(", ETA %s", (time.Duration(float64(pending)/rate) * time.Second).Round(time.Second))
	}
	bar := p.bar.ViewAs(frac)
	if p.io.ColorDisabled {
		bar = ansi.Strip(bar) // the bar colours itself whatever it is told
	}
	fmt.Fprintf(p.io.ErrOut, "\r%s %s\x1b[K", bar, line)
	p.lastLine = len(line)
}

// Log prints a line for people, clearing the bar first.
func (p *Meter) Log(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.lastLine > 0 {
		fmt.Fprint(p.io.ErrOut, "\r\x1b[K")
		p.lastLine = 0
	}
	fmt.Fprintln(p.io.ErrOut, msg)
}

// Finish clears the bar.
func (p *Meter) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.lastLine > 0 {
		fmt.Fprint(p.io.ErrOut, "\r\x1b[K")
	}
}
