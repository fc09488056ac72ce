package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/iostreams"
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

// ModelsOptions are the inputs of `sail models`.
type ModelsOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*sail.Client, error)

	API  apiFlags
	JSON bool
	Long bool
}

// NewCmdModels builds `sail models`.
func NewCmdModels(f *Factory, runF func(context.Context, *ModelsOptions) error) *cobra.Command {
	o := &ModelsOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the models the API offers",
		Long: `List GET /v1/models: one id per line, or with --long a table with the
owner and the creation date. --json prints the API's objects (id, object,
created, owned_by) as one JSON array.`,
		Example: "  sail models\n  sail models --long\n  sail models --json | jq -r '.[].id'",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.JSON && o.Long {
				return usageError(cmd, errors.New("--json and --long are mutually exclusive"))
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return modelsRun(cmd.Context(), o)
		},
	}
	o.Client = f.apiClientFor(f.configFor(cmd, apiConfigKeys))
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the API's model objects as a JSON array")
	cmd.Flags().BoolVarP(&o.Long, "long", "l", false, "a table with owner and creation date")
	o.API.register(cmd)
	return cmd
}

func modelsRun(ctx context.Context, o *ModelsOptions) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	models, err := c.Models(ctx)
	if err != nil {
		return err
	}
	switch {
	case o.JSON:
		b, err := json.Marshal(toAPIModels(models))
		if err != nil {
			return err
		}
		return printJSON(o.IO, b)
	case o.Long:
		tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
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
		fmt.Fprintln(o.IO.Out, render.Sanitize(m.ID))
	}
	return nil
}

func toAPIModels(ms []sail.Model) []apiModel {
	out := make([]apiModel, 0, len(ms))
	for _, m := range ms {
		out = append(out, apiModel{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy})
	}
	return out
}
