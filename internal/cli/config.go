package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/iostreams"
)

// NewCmdConfig groups configuration commands.
func NewCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show sail's configuration and where each value comes from",
		Long: `Settings are resolved in this order: command-line flags, then environment
variables (SAIL_API_KEY, SAIL_API_URL, SAIL_MODEL, NGROK_AUTHTOKEN, …), then the
config file ($SAIL_CONFIG, else $XDG_CONFIG_HOME/sail/config.toml, else
~/.config/sail/config.toml), then built-in defaults.

The config file is TOML with the keys shown by 'sail config show', e.g.

  model = "zai-org/GLM-5"
  tunnel = "ngrok"
  models = ["moonshotai/Kimi-K2.5", "zai-org/GLM-5"]

Keep secrets (api_key, ngrok_authtoken) in the environment, or chmod 600 the file.`,
		Args: usageArgs(cobra.NoArgs),
	}
	cmd.AddCommand(newCmdConfigShow(f, nil))
	return cmd
}

// ConfigShowOptions are the inputs of `sail config show`.
type ConfigShowOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error)
	Env    config.Env // HOME, to show paths under it as ~/…
	// HistoryDir is where the history goes when history_dir is unset.
	HistoryDir string
	JSON       bool
}

func newCmdConfigShow(f *Factory, runF func(context.Context, *ConfigShowOptions) error) *cobra.Command {
	o := &ConfigShowOptions{IO: f.IO, Config: f.Config, Env: f.Env, HistoryDir: new(historyFlags).dir(f)}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print every setting with its source; secrets are masked",
		Example: `  sail config show
  SAIL_MODEL=zai-org/GLM-5 sail config show --json | jq .model`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return configShowRun(o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print as JSON")
	return cmd
}

func configShowRun(o *ConfigShowOptions) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	if o.JSON {
		type entry struct {
			Value  string `json:"value"`
			Source string `json:"source"`
			Env    string `json:"env"`
		}
		out := map[string]entry{}
		for _, v := range cfg.All() {
			out[v.Key.Name] = entry{Value: effectiveValue(v, o.HistoryDir), Source: string(v.Source), Env: v.Key.Env}
		}
		b, _ := json.Marshal(out)
		_, err := fmt.Fprintln(o.IO.Out, string(b))
		return err
	}
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE\tENV")
	shortened := false
	for _, v := range cfg.All() {
		val := effectiveValue(v, o.HistoryDir)
		if val == "" {
			val = "(unset)"
		}
		short := elideMiddle(tildeHome(o.Env, val), maxConfigValue)
		shortened = shortened || short != val
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Key.Name, short, v.Source, v.Key.Env)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if shortened {
		fmt.Fprintln(o.IO.ErrOut, "long values are shortened with …; sail config show --json has them in full")
	}
	if cfg.Path != "" {
		fmt.Fprintf(o.IO.ErrOut, "config file: %s\n", cfg.Path)
	}
	return nil
}

// maxConfigValue keeps `sail config show` within 100 columns: the other
// columns take at most 45 (key 15, source 7, env 17, and the gaps).
const maxConfigValue = 52

// effectiveValue is the value sail uses: a secret masked, and an unset
// history_dir shown as the directory it defaults to.
func effectiveValue(v config.Value, defaultHistoryDir string) string {
	if v.Key.Name == "history_dir" && v.Value == "" {
		return defaultHistoryDir
	}
	return v.Display()
}

// elideMiddle shortens s to n runes by replacing its middle with "…":
// both ends of a path or a list say more than its middle.
func elideMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// tildeHome writes a path under $HOME as ~/…, as people type it.
func tildeHome(env config.Env, p string) string {
	home := env("HOME")
	if home == "" || !filepath.IsAbs(p) {
		return p
	}
	if rel, err := filepath.Rel(home, p); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		return "~" + string(filepath.Separator) + rel
	}
	return p
}
