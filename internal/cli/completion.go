package cli

import (
	"github.com/spf13/cobra"
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

// addCompletionExamples creates cobra's completion command now rather than
// at Execute, so its shells get the Examples every sail command has.
func addCompletionExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
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
