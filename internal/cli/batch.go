package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/progress"
	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/inbox"
	"github.com/sailresearch/sail/internal/run"
	"github.com/sailresearch/sail/internal/sail"
)

// batchFlags turn `sail run` into a batch run.
type batchFlags struct {
	File        string
	Concurrency int
	ItemTimeout time.Duration
	Strict      bool
	Out         string
	Resume      string
	Sail        sailBatchFlags
}

func (b *batchFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&b.File, "file", "f", "", "batch: JSONL of {\"input\", \"custom_id\", …} objects, - for stdin")
	fl.IntVar(&b.Concurrency, "concurrency", 8, "batch: creates in flight")
	fl.DurationVar(&b.ItemTimeout, "item-timeout", 0, "batch: give up on one item after this long")
	fl.BoolVar(&b.Strict, "strict", false, "batch: stop at the first malformed line")
	fl.StringVarP(&b.Out, "out", "o", "", "batch: write results to this file instead of stdout")
	fl.StringVar(&b.Resume, "resume", "", "batch: skip items that already verified in this results file")
	b.Sail.register(cmd)
}

// enabled reports whether the run is a batch: -f, or several prompts.
func (b *batchFlags) enabled(args []string) bool { return b.File != "" || len(args) > 1 }

// batchInput opens -f (or "-") or turns positional prompts into JSONL.
func batchInput(f *Factory, b *batchFlags, args []string) (io.ReadCloser, error) {
	if b.File == "" {
		var sb strings.Builder
		enc := json.NewEncoder(&sb)
		for _, a := range args {
			p, err := readPrompt(f.IO.In, a)
			if err != nil {
				return nil, err
			}
			msgs, isMsgs, err := sail.PromptMessages(p)
			if err != nil {
				return nil, err
			}
			if isMsgs {
				_ = enc.Encode(map[string]any{"input": msgs})
				continue
			}
			_ = enc.Encode(map[string]string{"input": p})
		}
		return io.NopCloser(strings.NewReader(sb.String())), nil
	}
	if len(args) > 0 {
		return nil, exitcode.New(exitcode.Usage, "give prompts either as arguments or with -f, not both")
	}
	if b.File == "-" {
		return io.NopCloser(f.IO.In), nil
	}
	fh, err := os.Open(b.File)
	if err != nil {
		return nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("-f: %w", err), "pass a JSONL file of {\"input\": …} objects, or - for stdin")
	}
	return fh, nil
}

// loadResume reads the keys of items that already verified in a results
// file. Only keys are kept: memory stays flat however long the file is.
func loadResume(path string) (map[string]bool, error) {
	done := map[string]bool{}
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		var r batch.Result
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue // a torn last line from an interrupted run
		}
		if r.ExitCode == exitcode.OK && (r.CustomID != "" || r.Line > 0) {
			done[r.Key()] = true
		}
	}
	return done, sc.Err()
}

// runBatch carries every item through one inbox.
func runBatch(ctx context.Context, f *Factory, o *RunOptions, args []string, client run.API, in *inbox.Inbox, defaults sail.CreateRequest) error {
	src, err := batchInput(f, &o.Batch, args)
	if err != nil {
		return err
	}
	defer src.Close()

	var skip func(string) bool
	if o.Batch.Resume != "" {
		done, err := loadResume(o.Batch.Resume)
		if err != nil {
			return err
		}
		skip = func(k string) bool { return done[k] }
	}
	out := f.IO.Out
	if o.Batch.Out != "" {
		flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if o.Batch.Out == o.Batch.Resume {
			flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
		fh, err := os.OpenFile(o.Batch.Out, flags, 0o600)
		if err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		defer fh.Close()
		out = fh
	}
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)

	prog := newBatchProgress(f)
	runItems, err := o.Batch.Sail.runner(f, client, prog)
	if err != nil {
		return err
	}
	sum, err := runItems(ctx, batch.NewReader(src), batch.Options{
		API: client, Webhook: o.Webhook, Inbox: in, Defaults: defaults, Token: o.Token,
		Concurrency: o.Batch.Concurrency, ItemTimeout: o.Batch.ItemTimeout,
		PollInterval: o.PollInterval, NoPoll: o.NoPoll, WebhookGrace: o.WebhookGrace,
		Strict: o.Batch.Strict, Skip: skip, Now: f.Now,
		OnResult: func(r batch.Result) error {
			if err := enc.Encode(r); err != nil {
				return err
			}
			// A result is on disk (or in the pipe) as soon as it is known,
			// so an interrupted run can be resumed.
			return w.Flush()
		},
		OnLineError: func(le *batch.LineError) {
			prog.log("skipped " + le.Error())
		},
		OnProgress: prog.update,
	})
	prog.finish()
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	fmt.Fprintf(f.IO.ErrOut, "%d items: %d verified", sum.Items, sum.Verified)
	for code, n := range sum.ByExitCode {
		if code != exitcode.OK {
			fmt.Fprintf(f.IO.ErrOut, ", %d exit %d", n, code)
		}
	}
	if sum.WebhookMissing > 0 {
		fmt.Fprintf(f.IO.ErrOut, ", %d webhooks missing", sum.WebhookMissing)
	}
	if sum.Skipped > 0 {
		fmt.Fprintf(f.IO.ErrOut, ", %d skipped (--resume)", sum.Skipped)
	}
	if sum.LineErrors > 0 {
		fmt.Fprintf(f.IO.ErrOut, ", %d malformed lines", sum.LineErrors)
	}
	fmt.Fprintf(f.IO.ErrOut, " in %s", sum.Elapsed.Round(time.Millisecond))
	if o.Webhook && sum.MaxMS > 0 {
		fmt.Fprintf(f.IO.ErrOut, "; create→webhook p50 %dms p95 %dms max %dms", sum.P50MS, sum.P95MS, sum.MaxMS)
	}
	fmt.Fprintln(f.IO.ErrOut)
	if err != nil && ctx.Err() != nil {
		return exitcode.WithHint(exitcode.Of(ctx.Err()), err, "results so far are written; rerun with --resume to finish")
	}
	return err
}

// batchProgress shows progress on stderr: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise.
type batchProgress struct {
	mu       sync.Mutex
	f        *Factory
	tty      bool
	bar      progress.Model
	last     time.Time
	lastLine int
}

func newBatchProgress(f *Factory) *batchProgress {
	// The first plain line comes one interval in, not at the first result.
	p := &batchProgress{f: f, tty: f.IO.StderrTTY, last: f.Now()}
	if p.tty {
		opts := []progress.Option{progress.WithWidth(30), progress.WithoutPercentage()}
		if f.IO.ColorDisabled {
			opts = append(opts, progress.WithFillCharacters('#', '.'))
		}
		p.bar = progress.New(opts...)
	}
	return p
}

func (p *batchProgress) update(pr batch.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.f.Now()
	interval := 5 * time.Second
	if p.tty {
		interval = 100 * time.Millisecond
	}
	if now.Sub(p.last) < interval {
		return
	}
	p.last = now
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Done) / s
	}
	pending := pr.Read - pr.Done - pr.Skipped
	line := fmt.Sprintf("%d done (%d failed), %d pending, %.0f/s", pr.Done, pr.Failed, pending, rate)
	if !p.tty {
		fmt.Fprintf(p.f.IO.ErrOut, "progress: %s\n", line)
		return
	}
	frac := 0.0
	if pr.Read > pr.Skipped {
		frac = float64(pr.Done) / float64(pr.Read-pr.Skipped)
	}
	if rate > 0 && pending > 0 {
		line += fmt.Sprintf(", ETA %s", (time.Duration(float64(pending)/rate) * time.Second).Round(time.Second))
	}
	fmt.Fprintf(p.f.IO.ErrOut, "\r%s %s\x1b[K", p.bar.ViewAs(frac), line)
	p.lastLine = len(line)
}

func (p *batchProgress) log(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.lastLine > 0 {
		fmt.Fprint(p.f.IO.ErrOut, "\r\x1b[K")
		p.lastLine = 0
	}
	fmt.Fprintln(p.f.IO.ErrOut, msg)
}

func (p *batchProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.lastLine > 0 {
		fmt.Fprint(p.f.IO.ErrOut, "\r\x1b[K")
	}
}
