package batch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/session"
)

// CommandOptions are `sail run -f`: a batch from a file or stdin, with its
// results written as NDJSON lines.
type CommandOptions struct {
	// Session is what the batch runs on: no event output (the results are
	// the output), and a quiet receiver (each item reports its own).
	Session session.Options
	// Items configures the items; API, Inbox, Stop, Total, Skip and the
	// callbacks are filled in here.
	Items Options
	// Runner carries the items; nil is Run.
	Runner  Runner
	Timeout time.Duration // the whole batch
	// Interrupts subscribes to SIGINT and SIGTERM; the second one aborts
	// the items in flight. nil: only ctx.
	Interrupts func() (<-chan os.Signal, func())

	File   string    // -f; "-" reads In
	In     io.Reader // stdin
	Out    string    // -o; "" writes the results to stdout
	Resume string    // --resume: a results file whose verified items are skipped
}

// Command runs a batch. The first Ctrl-C (the end of ctx) only stops
// creating: the items in flight, the inbox and the emulator live on until
// their deadline or a second Ctrl-C.
func Command(ctx context.Context, o CommandOptions) error {
	stop := ctx
	ctx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	defer onSecondInterrupt(o.Interrupts, abort)()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	s, err := session.Open(ctx, o.Session)
	if err != nil {
		return err
	}
	defer s.Close()
	o.Items.API, o.Items.Inbox = s.Client, s.Inbox
	return o.run(ctx, stop)
}

// run carries every item through one inbox. ctx bounds the items in
// flight; stop ends creating.
func (o *CommandOptions) run(ctx, stop context.Context) error {
	src, regular, err := o.input()
	if err != nil {
		return err
	}
	defer src.Close()
	if o.Resume != "" {
		done, err := loadResume(o.Resume)
		if err != nil {
			return err
		}
		o.Items.Skip = func(k string) bool { return done[k] }
	}
	prog := NewMeter(o.Session.IO, o.Session.Now)
	if regular {
		if err := o.plan(src, prog); err != nil {
			return err
		}
	}
	out, appendTo, closeOut, err := o.output()
	if err != nil {
		return err
	}
	defer closeOut()
	w := bufio.NewWriter(out)
	sum, err := o.carry(ctx, stop, src, prog, json.NewEncoder(w), w)
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if appendTo != "" {
		if cerr := compactResults(appendTo); cerr != nil && err == nil {
			err = cerr
		}
	}
	o.summarize(sum)
	if err != nil && (ctx.Err() != nil || stop.Err() != nil) {
		return exitcode.WithHint(exitcode.Of(err), err, "results so far are written; rerun with --resume to finish")
	}
	return err
}

// input opens -f (or "-"); regular reports whether it is a regular file,
// which can be read twice (validated and counted, then run).
func (o *CommandOptions) input() (src io.ReadCloser, regular bool, err error) {
	if o.File == "-" {
		return io.NopCloser(o.In), false, nil
	}
	fh, err := os.Open(o.File)
	if err != nil {
		return nil, false, exitcode.WithHint(exitcode.Usage, fmt.Errorf("-f: %w", err), "pass a file with one prompt per line (a JSON string or {\"input\": …}), or - for stdin")
	}
	st, err := fh.Stat()
	return fh, err == nil && st.Mode().IsRegular(), nil
}

// plan counts a regular file for a true progress bar and, with --strict,
// refuses it whole before the first create; then it rewinds it.
func (o *CommandOptions) plan(src io.ReadCloser, prog *Meter) error {
	plan, err := Scan(src, o.Items.Skip)
	if err != nil {
		return err
	}
	if o.Items.Strict && plan.LineErrors > 0 {
		for _, le := range plan.Errors {
			prog.Log(le.Error())
		}
		if more := plan.LineErrors - len(plan.Errors); more > 0 {
			prog.Log(fmt.Sprintf("… and %d more malformed lines", more))
		}
		return exitcode.WithHint(exitcode.Usage,
			fmt.Errorf("%s: %d malformed lines; nothing was created (--strict)", o.File, plan.LineErrors),
			"fix the lines above, or drop --strict to skip them")
	}
	o.Items.Total = plan.ToRun()
	if _, err := src.(io.Seeker).Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("-f: %w", err)
	}
	return nil
}

// output opens -o, or stdout. Written to the --resume file itself, results
// are appended to the earlier ones; appendTo names the file to compact to
// one line per item, before and after.
func (o *CommandOptions) output() (w io.Writer, appendTo string, closeOut func(), err error) {
	if o.Out == "" {
		return session.DataWriter(o.Session.IO), "", func() {}, nil
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if sameFile(o.Out, o.Resume) {
		appendTo = o.Out
		if err := compactResults(appendTo); err != nil {
			return nil, "", nil, err
		}
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	fh, err := os.OpenFile(o.Out, flags, 0o600)
	if err != nil {
		return nil, "", nil, fmt.Errorf("-o: %w", err)
	}
	return fh, appendTo, func() { fh.Close() }, nil
}

// carry runs the items, writing each result as soon as it is known, and
// says so when the first Ctrl-C leaves items in flight.
func (o *CommandOptions) carry(ctx, stop context.Context, src io.Reader, prog *Meter, enc *json.Encoder, w *bufio.Writer) (Summary, error) {
	run := o.Runner
	if run == nil {
		run = Run
	}
	// Waiting for items in flight can take up to their deadline: say so.
	ran, said := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(said)
		select {
		case <-stop.Done():
			prog.Log("interrupted: creating no more items; waiting for those in flight (Ctrl-C again to abort them)")
		case <-ran:
		}
	}()
	bo := o.Items
	bo.Now, bo.Stop, bo.Say = o.Session.Now, stop.Done(), prog.Log
	bo.OnResult = func(r Result) error {
		if err := enc.Encode(r); err != nil {
			return err
		}
		// A result is on disk (or in the pipe) as soon as it is known, so
		// an interrupted run can be resumed.
		return w.Flush()
	}
	bo.OnLineError = func(le *LineError) { prog.Log("skipped " + le.Error()) }
	bo.OnProgress = prog.Update
	sum, err := run(ctx, NewReader(src), bo)
	close(ran)
	<-said
	prog.Finish()
	return sum, err
}

// summarize is the closing line on stderr.
func (o *CommandOptions) summarize(sum Summary) {
	e := o.Session.IO.ErrOut
	fmt.Fprintf(e, "%d items: %d verified", sum.Items, sum.Verified)
	for code, n := range sum.ByExitCode {
		if code != exitcode.OK {
			fmt.Fprintf(e, ", %d exit %d", n, code)
		}
	}
	if sum.WebhookMissing > 0 {
		fmt.Fprintf(e, ", %d webhooks missing", sum.WebhookMissing)
	}
	if sum.Skipped > 0 {
		fmt.Fprintf(e, ", %d skipped (--resume)", sum.Skipped)
	}
	if sum.LineErrors > 0 {
		fmt.Fprintf(e, ", %d malformed lines skipped", sum.LineErrors)
	}
	fmt.Fprintf(e, " in %s", sum.Elapsed.Round(time.Millisecond))
	if o.Items.Webhook && sum.MaxMS > 0 {
		fmt.Fprintf(e, "; create→webhook p50 %dms p95 %dms max %dms", sum.P50MS, sum.P95MS, sum.MaxMS)
	}
	fmt.Fprintln(e)
}
