package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/session"
)

// batchFlags turn `sail run` into a batch run.
type batchFlags struct {
	File        string
	Concurrency int
	ItemTimeout time.Duration
	Strict      bool
	SkipInvalid bool
	Out         string
	Resume      string
	Sail        sailBatchFlags
}

func (b *batchFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&b.File, "file", "f", "", "batch: one prompt per line, as a JSON string or a {\"input\", \"custom_id\", …} object; - for stdin")
	fl.IntVar(&b.Concurrency, "concurrency", 8, "batch: creates in flight")
	fl.DurationVar(&b.ItemTimeout, "item-timeout", 0, "batch: give up on one item after this long")
	fl.BoolVar(&b.Strict, "strict", false, "batch: refuse a file with any malformed line before creating anything (stdin: stop at the first)")
	fl.BoolVar(&b.SkipInvalid, "skip-invalid", false, "batch: skip malformed lines without making the exit code non-zero")
	fl.StringVarP(&b.Out, "out", "o", "", "batch: write results to this file instead of stdout")
	fl.StringVar(&b.Resume, "resume", "", "batch: skip items that already verified in this results file")
	b.Sail.register(cmd)
}

// enabled reports whether the run is a batch: only -f makes one.
func (b *batchFlags) enabled() bool { return b.File != "" }

// checkUse refuses what would otherwise be ignored without a word: a flag
// whose help starts with "batch:" on a single run, and --item-timeout with
// --sail-batch, whose items are created together and finish with their
// Sail batch.
func (b *batchFlags) checkUse(cmd *cobra.Command) error {
	if b.enabled() {
		if b.Sail.Enabled && cmd.Flags().Changed("item-timeout") {
			return exitcode.WithHint(exitcode.Usage, errors.New("--item-timeout does not apply to --sail-batch: its items are created together and finish with their Sail batch"),
				"bound the whole run with --timeout, or drop --sail-batch")
		}
		return nil
	}
	var stray string
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if stray == "" && strings.HasPrefix(f.Usage, "batch:") {
			stray = f.Name
		}
	})
	if stray != "" {
		return exitcode.WithHint(exitcode.Usage, fmt.Errorf("--%s applies to a batch", stray), "add -f FILE (one prompt per line), or drop --"+stray)
	}
	return nil
}

// batch is `sail run -f`: every item through one inbox.
func (o *RunOptions) batch(so session.Options) batch.CommandOptions {
	defaults := o.Request
	defaults.Input, defaults.Messages = "", nil
	return batch.CommandOptions{
		Session: so,
		Items: batch.Options{
			Webhook: o.Webhook, Defaults: defaults, Token: o.Token,
			Concurrency: o.Batch.Concurrency, ItemTimeout: o.Batch.ItemTimeout,
			PollInterval: o.PollInterval, NoPoll: o.NoPoll, WebhookGrace: o.WebhookGrace,
			Strict: o.Batch.Strict, SkipInvalid: o.Batch.SkipInvalid,
		},
		Runner:     o.Batch.Sail.runner(),
		Timeout:    o.Timeout,
		Interrupts: o.Interrupts,
		File:       o.Batch.File, In: o.IO.In, Out: o.Batch.Out, Resume: o.Batch.Resume,
	}
}
