package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
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
	cmd.AddCommand(newCmdConfigShow(f))
	return cmd
}

func newCmdConfigShow(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print every setting with its source; secrets are masked",
		Example: `  sail config show
  SAIL_MODEL=zai-org/GLM-5 sail config show --json | jq .model`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if asJSON {
				type entry struct {
					Value  string `json:"value"`
					Source string `json:"source"`
					Env    string `json:"env"`
				}
				out := map[string]entry{}
				for _, v := range cfg.All() {
					out[v.Key.Name] = entry{Value: v.Display(), Source: string(v.Source), Env: v.Key.Env}
				}
				b, _ := json.Marshal(out)
				_, err := fmt.Fprintln(f.IO.Out, string(b))
				return err
			}
			tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE\tENV")
			for _, v := range cfg.All() {
				val := v.Display()
				if val == "" {
					val = "(unset)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Key.Name, val, v.Source, v.Key.Env)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if cfg.Path != "" {
				fmt.Fprintf(f.IO.ErrOut, "config file: %s\n", cfg.Path)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
