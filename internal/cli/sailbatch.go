package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/exitcode"
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

// validate refuses --sail-batch flags that cannot work, before the batch
// file is read or the results file is touched.
func (s *sailBatchFlags) validate(ep sail.Endpoint) error {
	if !s.Enabled {
		return nil
	}
	if s.MaxRequests < 0 || s.MaxBytes < 0 {
		return exitcode.New(exitcode.Usage, "--sail-batch limits must not be negative")
	}
	if err := sail.CheckBatchLabel(s.Label); err != nil {
		return err
	}
	if ep != "" && ep != sail.Responses {
		return exitcode.WithHint(exitcode.Usage,
			fmt.Errorf("--sail-batch sends responses requests only, not %s", ep),
			"drop --endpoint, or drop --sail-batch")
	}
	return nil
}

// runner is nil (one create per item), or with --sail-batch the Sail batch
// path.
func (s *sailBatchFlags) runner() batch.Runner {
	if !s.Enabled {
		return nil
	}
	return sailbatch.Runner(s.Label, sail.BatchLimits{MaxRequests: s.MaxRequests, MaxBytes: s.MaxBytes})
}
