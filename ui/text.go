package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/rivo/uniseg"

	"github.com/sailresearch/sail/internal/render"
)

// seg is a piece of a line with one style.
type seg struct {
	text  string
	paint paint
	match bool // part of a search match
	cur   bool // part of the current search match
	first bool // the first piece of its match
	last  bool // the last piece of its match
}

// wrapSegs breaks a line of segments into rows of at most width cells,
// cutting at grapheme boundaries so wide characters are never split. It
// returns the rendered rows and the row index (relative to the first row)
// where the current match starts, or -1.
func wrapSegs(segs []seg, width int) (rows []string, curRow int) {
	curRow = -1
	width = max(width, 1)
	var b strings.Builder
	used := 0
	flush := func() {
		rows = append(rows, b.String())
		b.Reset()
		used = 0
	}
	for _, s := range segs {
		if s.cur && s.first && curRow < 0 {
			// The match starts on the current row unless it does not
			// fit there at all.
			curRow = len(rows)
			if used >= width {
				curRow++
			}
		}
		rest := s.text
		for rest != "" {
			// Fast path: the remainder fits on this row.
			if w := cells(rest); used+w <= width {
				b.WriteString(s.paint.render(rest))
				used += w
				break
			}
			var piece strings.Builder
			state := -1
			for rest != "" {
				g, next, w, st := uniseg.FirstGraphemeClusterInString(rest, state)
				if used+w > width {
					if used == 0 && piece.Len() == 0 {
						// A grapheme wider than the row: show it anyway.
						piece.WriteString(g)
						used += w
						rest, state = next, st
					}
					break
				}
				piece.WriteString(g)
				used += w
				rest, state = next, st
			}
			if piece.Len() > 0 {
				b.WriteString(s.paint.render(piece.String()))
			}
			if rest != "" {
				flush()
			}
		}
	}
	if b.Len() > 0 || len(rows) == 0 {
		flush()
	}
	return rows, curRow
}

// cells is the display width of s, with a fast path for ASCII, which most
// of a JSON payload is.
func cells(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// clean makes text from the network safe to print: each line goes
// through render.Sanitize (controls, escape sequences and bidi overrides
// shown escaped), tabs become spaces and carriage returns are dropped.
// Newlines are kept.
func clean(s string) string {
	if !strings.ContainsAny(s, "\n\t\r") {
		return render.Sanitize(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = render.Sanitize(strings.ReplaceAll(strings.ReplaceAll(l, "\r", ""), "\t", "    "))
	}
	return strings.Join(lines, "\n")
}

// oneLine cleans s and folds it to a single line for rows and headers.
func oneLine(s string) string {
	return strings.Join(strings.Fields(clean(s)), " ")
}

// fit truncates a (possibly styled) line to width cells, marking the cut
// with an ellipsis.
func fit(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, max(width, 0), "…")
}

// padTo pads a (possibly styled) cell with spaces to width cells, so rows
// of a list line up whatever the verdict or size.
func padTo(s string, width int) string {
	if w := ansi.StringWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// fmtElapsed formats a duration the way a stopwatch does: 7s, 1m05s, 2h03m.
func fmtElapsed(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm", s/3600, (s%3600)/60)
	}
}

// fmtMS formats a latency in milliseconds.
func fmtMS(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.1fs", ms/1000)
	}
	return fmt.Sprintf("%.0fms", ms)
}
