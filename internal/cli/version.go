package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/buildinfo"
)

func versionString() string {
	i := buildinfo.Get()
	return fmt.Sprintf("sail %s (commit %s, built %s, %s %s)", i.Version, shortCommit(i.Commit), i.Date, i.GoVersion, i.Platform)
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// NewCmdVersion prints the version, commit and build date.
func NewCmdVersion(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of sail",
		Example: `  sail version
  sail version --json | jq -r .commit`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				b, _ := json.Marshal(buildinfo.Get())
				_, err := fmt.Fprintln(f.IO.Out, string(b))
				return err
			}
			_, err := fmt.Fprintln(f.IO.Out, versionString())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
