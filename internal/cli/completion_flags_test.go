package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/exitcode"
)

// completionLine runs a `sail completion …` line through parseLine.
func completionLine(t *testing.T, args ...string) parsed[CompletionOptions] {
	t.Helper()
	return parseLine(t, nil, func(f *Factory, runF func(context.Context, *CompletionOptions) error) *cobra.Command {
		return NewCmdCompletion(f, runF)
	}, args...)
}

func TestCompletionFlags(t *testing.T) {
	t.Parallel()
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		o := completionLine(t, "completion", sh).ok(t)
		if o.Shell != sh || o.NoDescriptions || o.Root == nil || o.Root.Name() != "sail" {
			t.Errorf("%s: %+v", sh, o)
		}
		if o := completionLine(t, "completion", sh, "--no-descriptions").ok(t); !o.NoDescriptions {
			t.Errorf("%s --no-descriptions not set", sh)
		}
	}
	completionLine(t, "completion", "nosh").refused(t, exitcode.Usage, `unknown command "nosh" for "sail completion"`)
	// cobra's own argument check: Execute adds the hint.
	completionLine(t, "completion", "bash", "extra").refused(t, exitcode.Usage, `unknown command "extra" for "sail completion bash"`)
	completionLine(t, "completion", "zsh", "--bogus").refused(t, exitcode.Usage, "unknown flag: --bogus")
}

func TestCompletionRunRefusesAnUnknownShell(t *testing.T) {
	t.Parallel()
	f := flagsFactory(t, nil)
	err := completionRun(&CompletionOptions{IO: f.IO, Shell: "tcsh", Root: newRootCmd(f)})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "tcsh") {
		t.Fatalf("tcsh: %v", err)
	}
}
