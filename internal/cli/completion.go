package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
)

// fixedValues are the closed sets shell completion offers for flag values.
var fixedValues = map[string][]string{
	"endpoint":              {"responses\tOpenAI Responses (/v1/responses)", "chat\tChat Completions (/v1/chat/completions)", "messages\tAnthropic Messages (/v1/messages)"},
	"tunnel":                {"auto\tpick from the API URL and NGROK_AUTHTOKEN", "local\tloopback only", "ngrok\tembedded ngrok agent", "public\tyour own tunnel (--public-url)"},
	"output":                {"events\tNDJSON events", "text\tonly the answer", "payload\tthe webhook payload"},
	"token":                 {"auto\trandom 256-bit token", "none\tno token"},
	"completion-window":     {"asap\tas soon as possible", "priority", "standard", "flex\tcheapest; needs a background response"},
	"reasoning-effort":      {"none\tresponses, chat", "minimal\tresponses, chat", "low", "medium", "high", "xhigh", "max\tmessages"},
	"emulator-outcome":      {"completed", "failed", "incomplete", "cancelled"},
	"outcome":               {"completed", "failed", "incomplete", "cancelled"},
	"status-names":          {"sail\tpending, running (Sail's API reference)", "openai\tqueued, in_progress (Sail's docs pages, OpenAI)"},
	"emulator-status-names": {"sail\tpending, running (Sail's API reference)", "openai\tqueued, in_progress (Sail's docs pages, OpenAI)"},
}

// registerCompletions attaches value completion to whichever of the known
// flags cmd has; --model completes from the configured models.
func registerCompletions(cmd *cobra.Command, f *Factory) {
	for name, values := range fixedValues {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		vals := values
		_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vals, cobra.ShellCompDirectiveNoFileComp
		})
	}
	if cmd.Flags().Lookup("model") != nil {
		_ = cmd.RegisterFlagCompletionFunc("model", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			cfg, err := f.Config()
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			return cfg.Models(), cobra.ShellCompDirectiveNoFileComp
		})
	}
}

// CompletionOptions are the inputs of `sail completion SHELL`.
type CompletionOptions struct {
	IO *iostreams.IOStreams

	Shell          string // bash, zsh, fish or powershell
	NoDescriptions bool
	// Root is the command tree the script completes.
	Root *cobra.Command
}

// NewCmdCompletion builds `sail completion` and its shells: cobra's own
// command, with its help and flags, whose shells hand their options to
// runF, else to completionRun.
func NewCmdCompletion(f *Factory, runF func(context.Context, *CompletionOptions) error) *cobra.Command {
	// cobra builds the command only under a root with other commands; this
	// one lends its name, "sail", to the help text.
	donor := &cobra.Command{Use: "sail"}
	donor.AddCommand(&cobra.Command{Use: "placeholder", Run: func(*cobra.Command, []string) {}})
	donor.InitDefaultCompletionCmd()
	var cmd *cobra.Command
	for _, c := range donor.Commands() {
		if c.Name() == "completion" {
			cmd = c
		}
	}
	donor.RemoveCommand(cmd)
	for _, sh := range cmd.Commands() {
		sh.RunE = func(c *cobra.Command, args []string) error {
			o := &CompletionOptions{IO: f.IO, Shell: c.Name(), Root: c.Root()}
			o.NoDescriptions, _ = c.Flags().GetBool("no-descriptions")
			if runF != nil {
				return runF(c.Context(), o)
			}
			return completionRun(o)
		}
	}
	return cmd
}

func completionRun(o *CompletionOptions) error {
	out, desc := o.IO.Out, !o.NoDescriptions
	switch o.Shell {
	case "bash":
		return o.Root.GenBashCompletionV2(out, desc)
	case "zsh":
		if !desc {
			return o.Root.GenZshCompletionNoDesc(out)
		}
		return o.Root.GenZshCompletion(out)
	case "fish":
		return o.Root.GenFishCompletion(out, desc)
	case "powershell":
		if !desc {
			return o.Root.GenPowerShellCompletion(out)
		}
		return o.Root.GenPowerShellCompletionWithDesc(out)
	}
	return exitcode.New(exitcode.Usage, "no completion for shell %q: use bash, zsh, fish or powershell", o.Shell)
}

// addCompletionExamples gives the completion command and its shells the
// Examples every sail command has.
func addCompletionExamples(root *cobra.Command) {
	name := root.Name()
	examples := map[string]string{
		"bash": "  # This shell only:\n  source <(" + name + " completion bash)\n\n" +
			"  # Every new shell (Linux; on macOS: $(brew --prefix)/etc/bash_completion.d/" + name + "):\n" +
			"  " + name + " completion bash > /etc/bash_completion.d/" + name,
		"zsh": "  # This shell only:\n  source <(" + name + " completion zsh)\n\n" +
			"  # Every new shell:\n  " + name + " completion zsh > \"${fpath[1]}/_" + name + "\"",
		"fish": "  # This shell only:\n  " + name + " completion fish | source\n\n" +
			"  # Every new shell:\n  " + name + " completion fish > ~/.config/fish/completions/" + name + ".fish",
		"powershell": "  # This shell only:\n  " + name + " completion powershell | Out-String | Invoke-Expression",
	}
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = "  source <(" + name + " completion bash)\n  " + name + " completion zsh > \"${fpath[1]}/_" + name + "\""
		for _, sh := range c.Commands() {
			if ex, ok := examples[sh.Name()]; ok && sh.Example == "" {
				sh.Example = ex
			}
		}
	}
}
