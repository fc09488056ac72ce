package sailbatch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/sail"
)

// Runner carries a `sail run -f` batch through Sail batches (see Run),
// saying through batch.Options.Say which batches it made and, at the end,
// how the items finished.
func Runner(label string, limits sail.BatchLimits) batch.Runner {
	return func(ctx context.Context, r *batch.Reader, bo batch.Options) (batch.Summary, error) {
		api, ok := bo.API.(API)
		if !ok {
			return batch.Summary{}, errors.New("--sail-batch: this client has no batches API")
		}
		say := bo.Say
		if say == nil {
			say = func(string) {}
		}
		sum, paths, err := Run(ctx, r, bo, Options{
			API: api, Label: label, Limits: limits,
			OnBatch: func(id string, n int) {
				say(fmt.Sprintf("created Sail batch %s with %d requests", id, n))
			},
			OnNotice: func(msg string) { say("warning: " + msg) },
		})
		if len(paths.Batches) > 0 {
			say(fmt.Sprintf("Sail batches %s: %d items finished by webhook, %d by polling",
				strings.Join(paths.Batches, ", "), paths.Webhook, paths.Poll))
		}
		return sum, err
	}
}
