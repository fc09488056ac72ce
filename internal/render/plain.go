package render

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/event"
)

// Style selects the plain renderer's wording.
type Style int

const (
	// StyleRun narrates one run: tunnel, create, statuses, deliveries, result.
	StyleRun Style = iota
	// StyleListen prints one line per delivery, like a log.
	StyleListen
)

// Plain writes human-readable lines, one per event. Colour only when asked;
// the caller decides from NO_COLOR and the terminal. Every string from an
// event goes through Sanitize: most of them come from the network.
type Plain struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
	style Style
	start time.Time
	now   func() time.Time
}

// NewPlain returns a plain renderer.
func NewPlain(w io.Writer, style Style, color bool, now func() time.Time) *Plain {
	if now == nil {
		now = time.Now
	}
	return &Plain{w: w, color: color, style: style, now: now, start: now()}
}

const (
	sgrGreen  = "32"
	sgrRed    = "31"
	sgrYellow = "33"
	sgrDim    = "2"
	sgrBold   = "1"
)

func (p *Plain) paint(sgr, s string) string {
	if !p.color || s == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

func (p *Plain) line(mark, markColor, label, text string) {
	fmt.Fprintf(p.w, "%s %-10s %s\n", p.paint(markColor, mark), p.paint(sgrBold, label), text)
}

// Emit writes the line for e.
func (p *Plain) Emit(e event.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.style == StyleListen {
		p.emitListen(e)
		return
	}
	switch e := e.(type) {
	case event.Ready:
		p.line("●", sgrDim, "webhook", Sanitize(e.WebhookURL)+p.paint(sgrDim, " ("+Sanitize(e.Tunnel+tunnelNote(e.Note))+")"))
	case event.Created:
		p.line("●", sgrDim, "created", Sanitize(fmt.Sprintf("%s · %s · %s · %s", e.ID, e.Endpoint, e.Model, e.Status)))
	case event.Status:
		p.line("●", sgrDim, "status", Sanitize(e.Status))
	case event.Delivery:
		p.delivery(e)
	case event.Forwarded:
		p.forwarded(e)
	case event.Verified:
		if e.Matches {
			p.line("✓", sgrGreen, "verified", "payload matches GET /v1/responses/"+Sanitize(e.ID))
		} else {
			p.line("✗", sgrRed, "verified", "payload differs from GET /v1/responses/"+Sanitize(e.ID+" at: "+strings.Join(e.Differences, ", ")))
		}
	case event.Notice:
		mark, c := "●", sgrDim
		if e.Level == "warn" {
			mark, c = "!", sgrYellow
		}
		p.line(mark, c, "note", Sanitize(e.Message))
	case event.Completed:
		p.completed(e)
	case event.Error:
		p.line("✗", sgrRed, "error", Sanitize(e.Message))
		if e.Hint != "" {
			fmt.Fprintf(p.w, "  %s %s\n", p.paint(sgrDim, "→"), Sanitize(e.Hint))
		}
		if e.ID != "" {
			id := Sanitize(e.ID)
			fmt.Fprintf(p.w, "  %s response %s: sail responses wait %s\n", p.paint(sgrDim, "→"), id, id)
		}
	}
}

func tunnelNote(n string) string {
	if n == "" {
		return ""
	}
	return ": " + n
}

func (p *Plain) delivery(e event.Delivery) {
	mark, c := "✓", sgrGreen
	if !e.Accepted() {
		mark, c = "✗", sgrRed
	}
	parts := []string{fmt.Sprintf("#%d", e.Attempt), fmt.Sprintf("answered %d", e.HTTPStatus), "token " + Sanitize(e.Verdict), HumanBytes(e.Bytes)}
	if e.Duplicate {
		parts = append(parts, p.paint(sgrYellow, "duplicate"))
	}
	if e.Error != "" {
		parts = append(parts, Sanitize(e.Error))
	}
	p.line(mark, c, "delivery", strings.Join(parts, " · "))
}

func (p *Plain) forwarded(e event.Forwarded) {
	if e.Error != "" {
		p.line("✗", sgrRed, "forward", Sanitize(fmt.Sprintf("%s: %s", e.URL, e.Error)))
		return
	}
	mark, c := "✓", sgrGreen
	if e.StatusCode < 200 || e.StatusCode > 299 {
		mark, c = "✗", sgrRed
	}
	text := fmt.Sprintf("%s → %d in %.0fms", Sanitize(e.URL), e.StatusCode, e.LatencyMS)
	if e.Excerpt != "" {
		text += " · " + Sanitize(e.Excerpt)
	}
	p.line(mark, c, "forward", text)
}

func (p *Plain) completed(e event.Completed) {
	mark, c := "✓", sgrGreen
	if e.Status != "completed" {
		mark, c = "✗", sgrRed
	}
	parts := []string{Sanitize(e.ID), Sanitize(e.Status), "in " + p.now().Sub(p.start).Round(time.Millisecond).String()}
	if e.CreateToWebhookMS != nil {
		parts = append(parts, fmt.Sprintf("create→webhook %dms", *e.CreateToWebhookMS))
	}
	if !e.WebhookDelivered && e.Source != "direct" {
		parts = append(parts, "via "+Sanitize(e.Source))
	}
	p.line(mark, c, "completed", strings.Join(parts, " · "))
}

// emitListen prints the log-style lines of `sail listen`.
func (p *Plain) emitListen(e event.Event) {
	switch e := e.(type) {
	case event.Ready:
		fmt.Fprintf(p.w, "Listening on %s\n", p.paint(sgrBold, Sanitize(e.WebhookURL)))
		if e.Note != "" {
			fmt.Fprintf(p.w, "  %s\n", p.paint(sgrDim, Sanitize(e.Note)))
		}
		p.tryLines(e)
		fmt.Fprintf(p.w, "  %s\n", p.paint(sgrDim, "Press Ctrl-C to stop."))
	case event.Delivery:
		verdict := "token " + Sanitize(e.Verdict)
		switch e.Verdict {
		case event.VerdictOK:
			verdict = p.paint(sgrGreen, verdict)
		case event.VerdictMismatch, event.VerdictMissing:
			verdict = p.paint(sgrRed, verdict)
		}
		cols := []string{
			e.ReceivedAt.Local().Format("15:04:05"),
			fmt.Sprintf("%d", e.HTTPStatus),
			OrDash(Sanitize(e.ResponseID)), OrDash(Sanitize(e.ResponseStatus)), OrDash(Sanitize(e.Model)),
			verdict, HumanBytes(e.Bytes),
		}
		if e.Duplicate {
			cols = append(cols, p.paint(sgrYellow, "duplicate"))
		}
		if e.Error != "" {
			cols = append(cols, p.paint(sgrRed, Sanitize(e.Error)))
		} else if e.Excerpt != "" {
			cols = append(cols, `"`+Sanitize(e.Excerpt)+`"`)
		}
		fmt.Fprintln(p.w, strings.Join(cols, "  "))
	case event.Forwarded:
		fmt.Fprint(p.w, "  ")
		p.forwarded(e)
	case event.Notice:
		fmt.Fprintf(p.w, "%s %s\n", p.paint(sgrYellow, "!"), Sanitize(e.Message))
	case event.Error:
		fmt.Fprintf(p.w, "%s %s\n", p.paint(sgrRed, "✗"), Sanitize(e.Message))
	}
}

// tryLines prints what to paste to make something post to a listener,
// and the warning about a listener anyone can post to.
func (p *Plain) tryLines(e event.Ready) {
	if e.Warning != "" {
		fmt.Fprintf(p.w, "  %s %s\n", p.paint(sgrYellow, "!"), Sanitize(e.Warning))
	}
	if len(e.Try) == 0 {
		return
	}
	fmt.Fprintf(p.w, "  %s\n", p.paint(sgrDim, "Try it:"))
	for _, c := range e.Try {
		fmt.Fprintf(p.w, "    %s\n", Sanitize(c))
	}
}

// OrDash shows an absent value as "-" in columns.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// HumanBytes formats a size for people: 512 B, 1.2 kB, 30.0 MB.
func HumanBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}
