package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"charm.land/bubbles/v2/progress"
	"github.com/charmbracelet/x/ansi"
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

// batchInput opens -f (or "-"); regular reports whether it is a regular
// file, which can be read twice (validated and counted, then run).
func batchInput(f *Factory, b *batchFlags) (src io.ReadCloser, regular bool, err error) {
	if b.File == "-" {
		return io.NopCloser(f.IO.In), false, nil
	}
	fh, err := os.Open(b.File)
	if err != nil {
		return nil, false, exitcode.WithHint(exitcode.Usage, fmt.Errorf("-f: %w", err), "pass a file with one prompt per line (a JSON string or {\"input\": …}), or - for stdin")
	}
	st, err := fh.Stat()
	return fh, err == nil && st.Mode().IsRegular(), nil
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

// sameFile reports whether two paths name one file (or would, once made).
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// runBatch carries every item through one inbox. ctx bounds the items in
// flight; stop ends creating (the first Ctrl-C).
func runBatch(ctx, stop context.Context, f *Factory, o *RunOptions, client run.API, in *inbox.Inbox, defaults sail.CreateRequest) error {
	src, regular, err := batchInput(f, &o.Batch)
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

	prog := newBatchProgress(f)
	total := 0
	if regular {
		// A file can be read twice: count it for a true progress bar and,
		// with --strict, refuse it whole before the first create.
		plan, err := batch.Scan(src, skip)
		if err != nil {
			return err
		}
		if o.Batch.Strict && plan.LineErrors > 0 {
			for _, le := range plan.Errors {
				prog.log(le.Error())
			}
			if more := plan.LineErrors - len(plan.Errors); more > 0 {
				prog.log(fmt.Sprintf("… and %d more malformed lines", more))
			}
			return exitcode.WithHint(exitcode.Usage,
				fmt.Errorf("%s: %d malformed lines; nothing was created (--strict)", o.Batch.File, plan.LineErrors),
				"fix the lines above, or drop --strict to skip them")
		}
		total = plan.ToRun()
		if _, err := src.(io.Seeker).Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("-f: %w", err)
		}
	}

	out := f.IO.Out
	appendTo := ""
	if o.Batch.Out != "" {
		flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if sameFile(o.Batch.Out, o.Batch.Resume) {
			// Results of this run are appended to the earlier ones; the file
			// is compacted to one line per item before and after.
			appendTo = o.Batch.Out
			if err := compactResults(appendTo); err != nil {
				return err
			}
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

	runItems, err := o.Batch.Sail.runner(f, client, prog)
	if err != nil {
		return err
	}
	// Waiting for items in flight can take up to their deadline: say so.
	ran, said := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(said)
		select {
		case <-stop.Done():
			prog.log("interrupted: creating no more items; waiting for those in flight (Ctrl-C again to abort them)")
		case <-ran:
		}
	}()
	sum, err := runItems(ctx, batch.NewReader(src), batch.Options{
		API: client, Webhook: o.Webhook, Inbox: in, Defaults: defaults, Token: o.Token,
		Concurrency: o.Batch.Concurrency, ItemTimeout: o.Batch.ItemTimeout,
		PollInterval: o.PollInterval, NoPoll: o.NoPoll, WebhookGrace: o.WebhookGrace,
		Strict: o.Batch.Strict, SkipInvalid: o.Batch.SkipInvalid, Skip: skip, Now: f.Now,
		Stop: stop.Done(), Total: total,
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
	close(ran)
	<-said
	prog.finish()
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if appendTo != "" {
		if cerr := compactResults(appendTo); cerr != nil && err == nil {
			err = cerr
		}
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
		fmt.Fprintf(f.IO.ErrOut, ", %d malformed lines skipped", sum.LineErrors)
	}
	fmt.Fprintf(f.IO.ErrOut, " in %s", sum.Elapsed.Round(time.Millisecond))
	if o.Webhook && sum.MaxMS > 0 {
		fmt.Fprintf(f.IO.ErrOut, "; create→webhook p50 %dms p95 %dms max %dms", sum.P50MS, sum.P95MS, sum.MaxMS)
	}
	fmt.Fprintln(f.IO.ErrOut)
	if err != nil && (ctx.Err() != nil || stop.Err() != nil) {
		return exitcode.WithHint(exitcode.Of(err), err, "results so far are written; rerun with --resume to finish")
	}
	return err
}

// compactResults rewrites a results file to hold one line per item: the
// last one written for each key, so a resumed run's new result replaces
// the stale one (e.g. "interrupted") instead of sitting beside it. Lines
// that are not results (a torn last line) are dropped. The rewrite goes
// through a temporary file and a rename, so the file is never half written.
func compactResults(path string) error {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	defer fh.Close()
	// Pass one: the line number of each key's last result. Only keys are
	// kept, so memory does not grow with the results' size.
	last := map[string]int{}
	lines := 0
	err = eachResultLine(fh, func(n int, r *batch.Result, _ []byte) {
		lines = n
		if r != nil {
			last[r.Key()] = n
		}
	})
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	if len(last) == lines {
		return nil // already one valid line per item
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	w := bufio.NewWriter(tmp)
	err = eachResultLine(fh, func(n int, r *batch.Result, line []byte) {
		if r != nil && last[r.Key()] == n {
			w.Write(line)
			w.WriteByte('\n')
		}
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("-o: rewrite %s: %w", path, err)
	}
	return nil
}

// eachResultLine calls fn for each line of r, with its 1-based number and
// the result it holds (nil when it holds none).
func eachResultLine(r io.Reader, fn func(n int, res *batch.Result, line []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		var res batch.Result
		if json.Unmarshal(sc.Bytes(), &res) != nil || (res.CustomID == "" && res.Line == 0) {
			fn(n, nil, sc.Bytes())
			continue
		}
		fn(n, &res, sc.Bytes())
	}
	return sc.Err()
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
	p := &batchProgress{f: f, tty: f.IO.CanRedraw(), last: f.Now()}
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
	// The total is known up front for a regular file; for a stream it is
	// what was read so far, and the bar and ETA say only that much.
	total := pr.Total
	if total == 0 {
		total = pr.Read - pr.Skipped
	}
	pending := max(total-pr.Done, 0)
	line := fmt.Sprintf("%d done (%d failed), %d pending, %.0f/s", pr.Done, pr.Failed, pending, rate)
	if pr.Total > 0 {
		line = fmt.Sprintf("%d of %d done (%d failed), %.0f/s", pr.Done, pr.Total, pr.Failed, rate)
	}
	if !p.tty {
		fmt.Fprintf(p.f.IO.ErrOut, "progress: %s\n", line)
		return
	}
	frac := 0.0
	if total > 0 {
		frac = min(float64(pr.Done)/float64(total), 1)
	}
	if rate > 0 && pending > 0 {
		line += fmt.Sprintf(", ETA %s", (time.Duration(float64(pending)/rate) * time.Second).Round(time.Second))
	}
	bar := p.bar.ViewAs(frac)
	if p.f.IO.ColorDisabled {
		bar = ansi.Strip(bar) // the bar colours itself whatever it is told
	}
	fmt.Fprintf(p.f.IO.ErrOut, "\r%s %s\x1b[K", bar, line)
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
