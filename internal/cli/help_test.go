package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/iostreams"
)

// helpRoot is the command tree as a user's shell sees it, with the
// commands cobra adds lazily at Execute (completion and its shells).
func helpRoot(t *testing.T) *cobra.Command {
	t.Helper()
	io, _, _, _ := iostreams.Test()
	root := NewRootCmd(NewFactory(io, func(string) string { return "" }))
	root.InitDefaultCompletionCmd()
	return root
}

// TestEveryCommandHasExamples: `sail X --help` always shows how X is used.
func TestEveryCommandHasExamples(t *testing.T) {
	var missing []string
	n := 0
	walkCommands(helpRoot(t), func(c *cobra.Command) {
		if !c.Runnable() || c.Hidden || !c.IsAvailableCommand() && c.HasParent() {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			missing = append(missing, c.CommandPath())
		}
	})
	if n < 15 {
		t.Fatalf("walked only %d runnable commands; is the tree wired?", n)
	}
	if len(missing) > 0 {
		t.Fatalf("%d commands have no Example in --help:\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
}

// TestExamplesAreIndented: cobra prints Example verbatim under "Examples:";
// every line of every command's examples is indented like sail's own
// (two spaces), so the help reads as one block.
func TestExamplesAreIndented(t *testing.T) {
	walkCommands(helpRoot(t), func(c *cobra.Command) {
		for _, l := range strings.Split(c.Example, "\n") {
			if l != "" && !strings.HasPrefix(l, "  ") {
				t.Errorf("%s: example line %q is not indented by two spaces", c.CommandPath(), l)
			}
		}
	})
}

// TestHelpShowsExamples runs --help through Execute for each command with
// examples, as a user would, and checks the section is printed.
func TestHelpShowsExamples(t *testing.T) {
	var paths [][]string
	walkCommands(helpRoot(t), func(c *cobra.Command) {
		if c.Example != "" && c.IsAvailableCommand() {
			paths = append(paths, strings.Fields(c.CommandPath())[1:])
		}
	})
	for _, p := range paths {
		code, out, errOut := runCLI(t, nil, append(p, "--help")...)
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("sail %s --help: exit %d, no Examples section (stderr %q)", strings.Join(p, " "), code, errOut)
		}
	}
}
