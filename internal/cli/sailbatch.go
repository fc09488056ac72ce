package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/run"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/sailbatch"
)

// sailBatchFlags send a `sail run -f` batch through Sail's Batches API.
type sailBatchFlags struct {
	Enabled     bool
	Label       string
	MaxRequests int
	MaxBytes    int64
}

func (s *sailBatchFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&s.Enabled, "sail-batch", false, "batch: submit the items as Sail batches (POST /v1/batches) instead of one create each")
	fl.StringVar(&s.Label, "sail-batch-label", "", "batch: label of the Sail batches ([A-Za-z0-9_-], at most 128)")
	// Sail's limits are 100,000 requests and 256 MB a batch; smaller ones
	// let tests split a small file into several batches.
	fl.IntVar(&s.MaxRequests, "sail-batch-max-requests", 0, "batch: at most this many requests per Sail batch (default 100000)")
	fl.Int64Var(&s.MaxBytes, "sail-batch-max-bytes", 0, "batch: at most this many body bytes per Sail batch (default 256 MB)")
	_ = fl.MarkHidden("sail-batch-max-requests")
	_ = fl.MarkHidden("sail-batch-max-bytes")
}

type batchRunner func(context.Context, *batch.Reader, batch.Options) (batch.Summary, error)

// runner is batch.Run, or with --sail-batch the Sail batch path, which
// also reports its batches and how each item ended.
func (s *sailBatchFlags) runner(f *Factory, client run.API, prog *batchProgress) (batchRunner, error) {
	if !s.Enabled {
		return batch.Run, nil
	}
	if s.MaxRequests < 0 || s.MaxBytes < 0 {
		return nil, exitcode.New(exitcode.Usage, "--sail-batch limits must not be negative")
	}
	if err := sail.CheckBatchLabel(s.Label); err != nil {
		return nil, err
	}
	api, ok := client.(sailbatch.API)
	if !ok {
		return nil, errors.New("--sail-batch: this client has no batches API")
	}
	return func(ctx context.Context, r *batch.Reader, bo batch.Options) (batch.Summary, error) {
		if bo.Defaults.Endpoint != "" && bo.Defaults.Endpoint != sail.Responses {
			return batch.Summary{}, exitcode.WithHint(exitcode.Usage,
				fmt.Errorf("--sail-batch sends responses requests only, not %s", bo.Defaults.Endpoint),
				"drop --endpoint, or drop --sail-batch")
		}
		sum, paths, err := sailbatch.Run(ctx, r, bo, sailbatch.Options{
			API: api, Label: s.Label,
			Limits: sail.BatchLimits{MaxRequests: s.MaxRequests, MaxBytes: s.MaxBytes},
			OnBatch: func(id string, n int) {
				prog.log(fmt.Sprintf("created Sail batch %s with %d requests", id, n))
			},
			OnNotice: func(msg string) { prog.log("warning: " + msg) },
		})
		prog.finish()
		if len(paths.Batches) > 0 {
			fmt.Fprintf(f.IO.ErrOut, "Sail batches %s: %d items finished by webhook, %d by polling\n",
				strings.Join(paths.Batches, ", "), paths.Webhook, paths.Poll)
		}
		return sum, err
	}, nil
}
