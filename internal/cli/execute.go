package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/sailresearch/sail/internal/exitcode"
)

// Execute runs sail with args and returns the process exit code. It is the
// one place where an error becomes a message on stderr and an exit code.
func Execute(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	// cobra reports an unknown subcommand as a plain error.
	if strings.HasPrefix(err.Error(), "unknown command ") || strings.HasPrefix(err.Error(), "unknown flag") {
		err = exitcode.WithHint(exitcode.Usage, err, "run 'sail --help' for usage")
	}
	code := exitcode.Of(err)
	if !exitcode.IsSilent(err) {
		fmt.Fprintf(f.IO.ErrOut, "Error: %s\n", err)
		if h := exitcode.Hint(err); h != "" {
			fmt.Fprintf(f.IO.ErrOut, "  → %s\n", h)
		}
	}
	return code
}
