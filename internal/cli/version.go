package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/buildinfo"
	"github.com/sailresearch/sail/internal/iostreams"
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

// VersionOptions are the inputs of `sail version`.
type VersionOptions struct {
	IO   *iostreams.IOStreams
	JSON bool
}

// NewCmdVersion prints the version, commit and build date.
func NewCmdVersion(f *Factory, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	o := &VersionOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of sail",
		Example: `  sail version
  sail version --json | jq -r .commit`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return versionRun(o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print as JSON")
	return cmd
}

func versionRun(o *VersionOptions) error {
	if o.JSON {
		b, _ := json.Marshal(buildinfo.Get())
		_, err := fmt.Fprintln(o.IO.Out, string(b))
		return err
	}
	_, err := fmt.Fprintln(o.IO.Out, versionString())
	return err
}
