// Package cli holds sail's cobra commands, one file per command. Each
// command is NewCmdX(f, runF): XOptions holds the command's dependencies,
// copied from the Factory (streams, a configuration getter with the
// command line's flags applied, a client factory, the clock), and what
// its flags and arguments say. RunE refuses flag conflicts and usage
// errors, then hands the options to runF when it is given, else to xRun.
// The X_flags_test.go files pass a runF that only records the options, so
// they check every command line's meaning without running anything; the
// testscripts under testdata/script run the real binary end to end.
package cli

import (
	"fmt"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sailresearch/sail/internal/exitcode"
)

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := newRootCmd(f)
	root.AddGroup(
		&cobra.Group{ID: "webhooks", Title: "Webhook commands:"},
		&cobra.Group{ID: "api", Title: "API commands:"},
	)
	for _, c := range []*cobra.Command{
		NewCmdRun(f, nil),
		NewCmdListen(f, nil),
		NewCmdHistory(f, nil),
		NewCmdReplay(f, nil),
		NewCmdTrigger(f, nil),
		NewCmdEmulator(f, nil),
	} {
		c.GroupID = "webhooks"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{
		NewCmdResponses(f),
		NewCmdBatches(f),
		NewCmdModels(f, nil),
	} {
		c.GroupID = "api"
		root.AddCommand(c)
	}
	root.AddCommand(NewCmdDoctor(f, nil), NewCmdVersion(f, nil), NewCmdConfig(f), NewCmdCompletion(f, nil), newExitCodesTopic())
	addCompletionExamples(root)
	return root
}

// newRootCmd is the root command without its subcommands: its help, and
// where its output and errors go.
func newRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "sail",
		Short: "See Sail's completion webhooks arrive, from one command",
		Long: `sail creates Sail responses whose completion webhook points at a tunnel it
opens itself, receives the webhook, verifies its token and shows the payload.

Everything also runs offline against an embedded Sail emulator (--emulator).`,
		Example: `  # The whole loop, offline:
  sail run --webhook --emulator "What is 2+2? Reply with just the number."

  # Against the real API (needs SAIL_API_KEY and NGROK_AUTHTOKEN):
  sail run --webhook "Summarize this document."

  # Just listen, and forward each delivery to your app:
  sail listen --forward-to http://localhost:3000/webhooks/sail`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetIn(f.IO.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(c, err)
	})
	root.CompletionOptions.HiddenDefaultCmd = false
	return root
}

// usageError marks err as a usage error (exit 2) and tells where help is,
// and for a mistyped flag, which one was probably meant.
func usageError(c *cobra.Command, err error) error {
	hint := fmt.Sprintf("run '%s --help' for usage", c.CommandPath())
	if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
		if meant := closestFlag(c, name); meant != "" {
			hint = fmt.Sprintf("did you mean --%s? (%s)", meant, hint)
		}
	}
	return exitcode.WithHint(exitcode.Usage, err, hint)
}

// closestFlag is the visible flag of c at most two edits from name, as
// cobra suggests commands; "" when none is that close.
func closestFlag(c *cobra.Command, name string) string {
	best, bestDist := "", 3
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if d := levenshtein.ComputeDistance(name, f.Name); !f.Hidden && d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// usageArgs wraps a cobra argument validator so its failures exit 2.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := v(c, args); err != nil {
			return usageError(c, err)
		}
		return nil
	}
}
