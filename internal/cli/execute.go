package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/render"
)

// Execute runs sail with args and returns the process exit code. It is the
// one place where an error becomes a message on stderr and an exit code.
func Execute(ctx context.Context, f *Factory, args []string) int {
	return execute(ctx, f, NewRootCmd(f), args)
}

// execute runs args on the command tree under root.
func execute(ctx context.Context, f *Factory, root *cobra.Command, args []string) int {
	root.SetArgs(args)
	err := unknownSubcommand(root, args)
	if err == nil {
		err = root.ExecuteContext(ctx)
	}
	if err == nil {
		return exitcode.OK
	}
	// cobra reports an unknown subcommand as a plain error.
	if exitcode.Hint(err) == "" && (strings.HasPrefix(err.Error(), "unknown command ") || strings.HasPrefix(err.Error(), "unknown flag")) {
		err = exitcode.WithHint(exitcode.Usage, err, "run 'sail --help' for usage")
	}
	code := exitcode.Of(err)
	if !exitcode.IsSilent(err) {
		// Errors quote what they were given (arguments, URLs, bodies):
		// sanitised, so an escape sequence in an argument stays text.
		fmt.Fprintf(f.IO.ErrOut, "Error: %s\n", render.Sanitize(err.Error()))
		if h := exitcode.Hint(err); h != "" {
			fmt.Fprintf(f.IO.ErrOut, "  → %s\n", render.Sanitize(h))
		}
	}
	return code
}

// unknownSubcommand catches `sail responses bogus`: cobra answers a command
// group (no Run of its own) with its help and exit 0 whatever follows, so a
// typo would look like success to a script.
func unknownSubcommand(root *cobra.Command, args []string) error {
	c, rest, err := root.Find(args)
	if err != nil || c == root || c.Runnable() || !c.HasSubCommands() {
		return nil
	}
	for _, a := range rest {
		if strings.HasPrefix(a, "-") {
			continue
		}
		err := fmt.Errorf("unknown command %q for %q", a, c.CommandPath())
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2 // cobra's own default for the root
		}
		if s := c.SuggestionsFor(a); len(s) > 0 {
			err = fmt.Errorf("%w; did you mean %q?", err, s[0])
		}
		return exitcode.WithHint(exitcode.Usage, err, fmt.Sprintf("run '%s --help' for its commands", c.CommandPath()))
	}
	return nil
}
