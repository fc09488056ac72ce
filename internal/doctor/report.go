package doctor

import (
	"fmt"
	"io"
)

// Write prints the checks one per line, ✓ or ✗ (! for an optional one)
// with the fix under each failure, and what the result means. color adds
// ANSI colours, for a terminal.
func Write(w io.Writer, checks []Check, color bool) {
	paint := func(sgr, s string) string {
		if !color {
			return s
		}
		return "\x1b[" + sgr + "m" + s + "\x1b[0m"
	}
	for _, c := range checks {
		mark := paint("32", "✓")
		switch {
		case c.Skipped:
			mark = paint("2", "-")
		case !c.OK && c.Required:
			mark = paint("31", "✗")
		case !c.OK:
			mark = paint("33", "!")
		}
		fmt.Fprintf(w, "%s %-16s %s\n", mark, c.Name, c.Detail)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(w, "  %s %s\n", paint("2", "→"), c.Fix)
		}
	}
	if Healthy(checks) {
		fmt.Fprintln(w, "\nReady: sail run --webhook \"…\" can reach Sail and receive its webhook.")
	} else {
		fmt.Fprintln(w, "\nNot ready for the real API. Offline, this works now: sail run --webhook --emulator \"hi\"")
	}
}
