package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/sail"
)

// apiModel is one model as GET /v1/models names its fields, so that
// `sail models --json` reads like the API (and like OpenAI's CLI).
type apiModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// NewCmdModels builds `sail models`.
func NewCmdModels(f *Factory, _ func() error) *cobra.Command {
	var api apiFlags
	var asJSON, long bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the models the API offers",
		Long: `List GET /v1/models: one id per line, or with --long a table with the
owner and the creation date. --json prints the API's objects (id, object,
created, owned_by) as one JSON array.`,
		Example: "  sail models\n  sail models --long\n  sail models --json | jq -r '.[].id'",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && long {
				return usageError(cmd, errors.New("--json and --long are mutually exclusive"))
			}
			c, _, err := api.client(f, cmd)
			if err != nil {
				return err
			}
			models, err := c.Models(cmd.Context())
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				b, err := json.Marshal(toAPIModels(models))
				if err != nil {
					return err
				}
				return printJSON(f, b)
			case long:
				tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tOWNED BY\tCREATED")
				for _, m := range models {
					created := "-"
					if m.Created > 0 {
						created = time.Unix(m.Created, 0).UTC().Format("2006-01-02")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", render.Sanitize(m.ID), render.OrDash(render.Sanitize(m.OwnedBy)), created)
				}
				return tw.Flush()
			}
			for _, m := range models {
				fmt.Fprintln(f.IO.Out, render.Sanitize(m.ID))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's model objects as a JSON array")
	cmd.Flags().BoolVarP(&long, "long", "l", false, "a table with owner and creation date")
	api.register(cmd)
	return cmd
}

func toAPIModels(ms []sail.Model) []apiModel {
	out := make([]apiModel, 0, len(ms))
	for _, m := range ms {
		out = append(out, apiModel{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy})
	}
	return out
}
