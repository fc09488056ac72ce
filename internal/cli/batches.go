package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/session"
	"github.com/sailresearch/sail/internal/status"
)

// NewCmdBatches groups the commands of Sail's Batches API.
func NewCmdBatches(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "batches",
		Aliases: []string{"batch"},
		Short:   "Create, inspect, wait for and read Sail batches (/v1/batches)",
		Long: `Sail's Batches API carries up to 100,000 responses requests (256 MB) in one
POST /v1/batches, each under its own custom_id. These commands create a batch
from the same JSONL lines as 'sail run -f', show its requests' statuses, wait
for it and write one result line per custom_id.

To see every request's completion webhook arrive and verify it, use
'sail run --webhook -f FILE --sail-batch' instead (see docs/ci.md).`,
		Example: `  id=$(sail batches create -f evals.jsonl --label nightly)
  sail batches wait "$id" --timeout 1h
  sail batches results "$id" -o results.jsonl`,
		Args: usageArgs(cobra.NoArgs),
	}
	cmd.AddCommand(NewCmdBatchesCreate(f, nil), NewCmdBatchesGet(f, nil), NewCmdBatchesList(f, nil), NewCmdBatchesWait(f, nil), NewCmdBatchesResults(f, nil))
	return cmd
}

// BatchesCreateOptions are the inputs of `sail batches create`.
type BatchesCreateOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error) // with this command line's flags applied
	Client func() (*sail.Client, error)

	File     string
	Label    string
	Endpoint string
	JSON     bool
	API      apiFlags
}

const batchesCreateLong = `Create a Sail batch from FILE: one JSON object per line, the same lines as
'sail run -f' ({"custom_id", "input", "model", "instructions", "metadata",
"max_output_tokens"}). A line without custom_id gets "line-N". Every line
must be valid and every custom_id unique; the limits (100,000 requests,
256 MB) are checked before anything is sent, naming the line that breaks
them. The batch id goes to stdout; --json prints the API's answer instead.
Retries carry the same Idempotency-Key, so a retried create cannot start a
second batch.`

// NewCmdBatchesCreate builds `sail batches create`.
func NewCmdBatchesCreate(f *Factory, runF func(context.Context, *BatchesCreateOptions) error) *cobra.Command {
	o := &BatchesCreateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a batch from a JSONL file and print its id",
		Long:  batchesCreateLong,
		Example: `  sail batches create -f evals.jsonl --label nightly
  id=$(sail batches create -f evals.jsonl)
  cat evals.jsonl | sail batches create -f - --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.File == "" {
				return usageError(cmd, errors.New("-f FILE is required"))
			}
			switch o.Endpoint {
			case "responses", "/v1/responses":
			default:
				return exitcode.WithHint(exitcode.Usage, fmt.Errorf("--endpoint %q: Sail batches carry responses requests only", o.Endpoint), "use --endpoint responses")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return batchesCreateRun(cmd.Context(), o)
		},
	}
	o.Config = f.configFor(cmd, apiConfigKeys)
	o.Client = f.apiClientFor(o.Config)
	fl := cmd.Flags()
	fl.StringVarP(&o.File, "file", "f", "", "JSONL of {\"input\", \"custom_id\", …} objects, - for stdin")
	fl.StringVar(&o.Label, "label", "", "batch label: 1 to 128 of A-Z a-z 0-9 _ -")
	fl.StringVarP(&o.Endpoint, "endpoint", "e", "responses", "endpoint of the requests (Sail batches carry responses only)")
	fl.StringP("model", "m", "", "model for lines that name none (default from config)")
	fl.BoolVar(&o.JSON, "json", false, "print the API's answer as JSON")
	o.API.register(cmd)
	_ = cmd.RegisterFlagCompletionFunc("endpoint", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"responses\tOpenAI Responses (/v1/responses)"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagFilename("file", "jsonl", "json")
	registerCompletions(cmd, f)
	return cmd
}

func batchesCreateRun(ctx context.Context, o *BatchesCreateOptions) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	path, cleanup, err := spoolInput(o.IO.In, o.File)
	if err != nil {
		return err
	}
	defer cleanup()
	defaults := sail.CreateRequest{Endpoint: sail.Responses, Model: cfg.Get("model")}
	b, err := c.CreateBatch(ctx, sail.BatchCreateRequest{Label: o.Label, Requests: fileRequests(path, defaults)})
	if err != nil {
		return err
	}
	if o.JSON {
		return printJSON(o.IO, b.Raw)
	}
	if o.IO.StderrTTY {
		fmt.Fprintf(o.IO.ErrOut, "created batch with %d requests; next: sail batches wait %s\n", b.RequestCounts["total"], render.Sanitize(b.ID))
	}
	_, err = fmt.Fprintln(o.IO.Out, render.Sanitize(b.ID))
	return err
}

// spoolInput returns a path that can be read more than once: FILE itself,
// or stdin copied to a temporary file (the create reads its input once to
// check the limits and again to stream the body).
func spoolInput(in io.Reader, file string) (string, func(), error) {
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return "", nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("-f: %w", err), "pass a JSONL file of {\"input\": …} objects, or - for stdin")
		}
		fh.Close()
		return file, func() {}, nil
	}
	tmp, err := os.CreateTemp("", "sail-batch-*.jsonl")
	if err != nil {
		return "", nil, fmt.Errorf("spool stdin: %w", err)
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("spool stdin: %w", err)
	}
	return tmp.Name(), cleanup, nil
}

// fileRequests yields the batch requests of a JSONL file, reading it anew
// on each call. A malformed line stops it with an error naming the line.
func fileRequests(path string, defaults sail.CreateRequest) func(func(sail.BatchRequest) error) error {
	return func(yield func(sail.BatchRequest) error) error {
		fh, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("-f: %w", err)
		}
		defer fh.Close()
		r := batch.NewReader(fh)
		for {
			it, err := r.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return exitcode.WithHint(exitcode.Usage, err, "fix the line; a batch is sent whole or not at all")
			}
			if it.Endpoint != "" && it.Endpoint != string(sail.Responses) {
				return exitcode.WithHint(exitcode.Usage, fmt.Errorf("line %d: \"endpoint\" %q: Sail batches carry responses requests only", it.Line, it.Endpoint), "drop the line's endpoint")
			}
			params, err := sail.ResponsesBody(batch.ItemRequest(it, defaults))
			if err != nil {
				return exitcode.WithHint(exitcode.Of(err), fmt.Errorf("line %d: %w", it.Line, err), exitcode.Hint(err))
			}
			id := it.CustomID
			if id == "" {
				id = fmt.Sprintf("line-%d", it.Line)
			}
			if err := yield(sail.BatchRequest{CustomID: id, Params: params, Line: it.Line}); err != nil {
				return err
			}
		}
	}
}

// completeBatchIDs offers the newest batch ids (one page of
// GET /v1/batches) for commands that take a BATCH_ID.
func completeBatchIDs(client func() (*sail.Client, error)) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
		defer cancel()
		bs, err := c.ListBatches(ctx, sail.BatchListParams{Limit: 50})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, b := range bs {
			// Ids and labels come from the server: only plain ones are offered.
			if render.Sanitize(b.ID) != b.ID || strings.ContainsAny(b.ID, "\t ") {
				continue
			}
			d := time.Unix(b.CreatedAt, 0).UTC().Format(time.RFC3339)
			if b.Label != "" && render.Sanitize(b.Label) == b.Label {
				d = b.Label + ", " + d
			}
			out = append(out, b.ID+"\t"+d)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// statusCounts counts request_status by status, in Sail's spelling.
func statusCounts(b *sail.Batch) (order []string, counts map[string]int) {
	counts = map[string]int{}
	for _, s := range b.RequestStatus {
		counts[s]++
	}
	for s := range counts {
		order = append(order, s)
	}
	sort.Strings(order)
	return order, counts
}

// BatchesGetOptions are the inputs of `sail batches get`.
type BatchesGetOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*sail.Client, error)

	ID   string
	JSON bool
	API  apiFlags
}

// NewCmdBatchesGet builds `sail batches get`.
func NewCmdBatchesGet(f *Factory, runF func(context.Context, *BatchesGetOptions) error) *cobra.Command {
	o := &BatchesGetOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "get BATCH_ID",
		Short: "Show a batch: its requests counted by status",
		Long: `Fetch GET /v1/batches/{id} and print its label, creation time and how many
requests are in each status (Sail's upper-case names: PENDING, RUNNING,
COMPLETED, FAILED…). --json prints the whole answer, with each custom_id's
status.`,
		Example: `  sail batches get batch_0123
  sail batches get batch_0123 --json | jq '.request_status | map_values(.status)'`,
		Args: usageArgs(oneBatchID),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return batchesGetRun(cmd.Context(), o)
		},
	}
	o.Client = f.apiClientFor(f.configFor(cmd, apiConfigKeys))
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the API's answer as JSON")
	o.API.register(cmd)
	cmd.ValidArgsFunction = completeBatchIDs(o.Client)
	return cmd
}

func batchesGetRun(ctx context.Context, o *BatchesGetOptions) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	b, err := c.GetBatch(ctx, o.ID)
	if err != nil {
		return err
	}
	if o.JSON {
		return printJSON(o.IO, b.Raw)
	}
	return printBatch(o.IO.Out, b)
}

func printBatch(out io.Writer, b *sail.Batch) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "id\t%s\n", render.Sanitize(b.ID))
	if b.Label != "" {
		fmt.Fprintf(w, "label\t%s\n", render.Sanitize(b.Label))
	}
	if b.CreatedAt > 0 {
		fmt.Fprintf(w, "created\t%s\n", time.Unix(b.CreatedAt, 0).UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "requests\t%d\n", len(b.RequestStatus))
	order, counts := statusCounts(b)
	for _, s := range order {
		fmt.Fprintf(w, "%s\t%d\n", render.Sanitize(render0(s)), counts[s])
	}
	return w.Flush()
}

// render0 shows an empty status as a dash.
func render0(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// BatchesListOptions are the inputs of `sail batches list`.
type BatchesListOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*sail.Client, error)

	Page sail.BatchListParams
	JSON bool
	API  apiFlags
}

// NewCmdBatchesList builds `sail batches list`.
func NewCmdBatchesList(f *Factory, runF func(context.Context, *BatchesListOptions) error) *cobra.Command {
	o := &BatchesListOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List batches, newest first",
		Long: `List batches with GET /v1/batches, one page at a time: --limit (1–200,
default 25), --after ID for the page after a batch, --before ID for the
page before it.`,
		Example: `  sail batches list
  sail batches list --limit 200 --after batch_0123
  sail batches list --json | jq -r '.[].id'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("limit") && (o.Page.Limit < 1 || o.Page.Limit > 200) {
				return exitcode.WithHint(exitcode.Usage, fmt.Errorf("--limit %d is out of range", o.Page.Limit), "use --limit 1 to 200")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return batchesListRun(cmd.Context(), o)
		},
	}
	o.Client = f.apiClientFor(f.configFor(cmd, apiConfigKeys))
	fl := cmd.Flags()
	fl.IntVar(&o.Page.Limit, "limit", 0, "batches per page, 1 to 200 (default 25)")
	fl.StringVar(&o.Page.AfterID, "after", "", "the page after this batch id (older)")
	fl.StringVar(&o.Page.BeforeID, "before", "", "the page before this batch id (newer)")
	fl.BoolVar(&o.JSON, "json", false, "print the API's answer as JSON")
	o.API.register(cmd)
	return cmd
}

func batchesListRun(ctx context.Context, o *BatchesListOptions) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	bs, err := c.ListBatches(ctx, o.Page)
	if err != nil {
		return err
	}
	if o.JSON {
		raws := make([]json.RawMessage, len(bs))
		for i, b := range bs {
			raws[i] = b.Raw
		}
		all, _ := json.Marshal(raws)
		return printJSON(o.IO, all)
	}
	w := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tLABEL\tCREATED\tREQUESTS")
	for _, b := range bs {
		created := "-"
		if b.CreatedAt > 0 {
			created = time.Unix(b.CreatedAt, 0).UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\n", render.Sanitize(b.ID), render.Sanitize(render0(b.Label)), created, b.RequestCounts["total"])
	}
	return w.Flush()
}

// BatchesWaitOptions are the inputs of `sail batches wait`.
type BatchesWaitOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*sail.Client, error)
	Now    func() time.Time
	// Progress starts the progress display: a bar on a terminal, plain
	// lines otherwise.
	Progress func() *batch.Meter

	ID       string
	Timeout  time.Duration
	Interval time.Duration
	API      apiFlags
}

// NewCmdBatchesWait builds `sail batches wait`.
func NewCmdBatchesWait(f *Factory, runF func(context.Context, *BatchesWaitOptions) error) *cobra.Command {
	o := &BatchesWaitOptions{IO: f.IO, Now: f.Now, Progress: func() *batch.Meter { return batch.NewMeter(f.IO, f.Now) }}
	cmd := &cobra.Command{
		Use:   "wait BATCH_ID",
		Short: "Wait until every request of a batch has finished",
		Long: `Poll GET /v1/batches/{id} until every request is terminal, with a progress
bar on a terminal (plain lines otherwise), then print the counts by status.

Exit codes: 0 every request completed; 6 some request ended failed,
cancelled or incomplete; 124 --timeout elapsed; 130 interrupted.`,
		Example: `  sail batches wait batch_0123
  sail batches wait batch_0123 --timeout 2h --poll-interval 30s`,
		Args: usageArgs(oneBatchID),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			if o.Timeout <= 0 || o.Interval <= 0 {
				return exitcode.New(exitcode.Usage, "--timeout and --poll-interval must be positive")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return batchesWaitRun(cmd.Context(), o)
		},
	}
	o.Client = f.apiClientFor(f.configFor(cmd, apiConfigKeys))
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 24*time.Hour, "give up after this long (exit 124)")
	cmd.Flags().DurationVar(&o.Interval, "poll-interval", 5*time.Second, "time between polls")
	o.API.register(cmd)
	cmd.ValidArgsFunction = completeBatchIDs(o.Client)
	return cmd
}

func batchesWaitRun(ctx context.Context, o *BatchesWaitOptions) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	return waitBatch(ctx, o, c)
}

// waitBatch polls with a delay doubling from 200ms to o.Interval until
// every request is terminal.
func waitBatch(ctx context.Context, o *BatchesWaitOptions, c *sail.Client) error {
	prog := o.Progress()
	start := o.Now()
	var last *sail.Batch
	delay := min(200*time.Millisecond, o.Interval)
	for {
		b, err := c.GetBatch(ctx, o.ID)
		switch {
		case err == nil:
			last = b
		case ctx.Err() != nil:
		case exitcode.Of(err) == exitcode.Error && isTransient(err):
			prog.Log("warning: poll: " + err.Error())
		default:
			prog.Finish()
			return err
		}
		if last != nil {
			pr := batchProgressOf(last, o.Now().Sub(start))
			prog.Update(pr)
			if pr.Done == pr.Read {
				return batchWaited(o, prog, last, pr)
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			prog.Finish()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return exitcode.WithHint(exitcode.Timeout, fmt.Errorf("timed out waiting for batch %s", render.Sanitize(o.ID)), "raise --timeout; the batch keeps running")
			}
			return exitcode.WithHint(exitcode.Interrupted, errors.New("interrupted"), "the batch keeps running: sail batches wait "+render.Sanitize(o.ID))
		case <-t.C:
		}
		delay = min(delay*2, o.Interval)
	}
}

// batchProgressOf counts a batch's requests: done are terminal, failed
// are done but not completed.
func batchProgressOf(b *sail.Batch, elapsed time.Duration) batch.Progress {
	done, failed := 0, 0
	for _, s := range b.RequestStatus {
		if status.IsTerminal(s) {
			done++
			if status.Normalize(s) != sail.StatusCompleted {
				failed++
			}
		}
	}
	return batch.Progress{Read: len(b.RequestStatus), Done: done, Failed: failed, InFlight: len(b.RequestStatus) - done, Elapsed: elapsed}
}

// batchWaited reports a finished batch: its counts, and exit 6 when a
// request did not complete.
func batchWaited(o *BatchesWaitOptions, prog *batch.Meter, b *sail.Batch, pr batch.Progress) error {
	prog.Finish()
	if err := printBatch(o.IO.Out, b); err != nil {
		return err
	}
	if pr.Failed > 0 {
		return exitcode.New(exitcode.ResponseFailed, "%d of %d requests of batch %s did not complete", pr.Failed, pr.Done, render.Sanitize(o.ID))
	}
	return nil
}

func isTransient(err error) bool {
	var ae *sail.APIError
	if errors.As(err, &ae) {
		return ae.Transient()
	}
	var ne *sail.NetworkError
	return errors.As(err, &ne)
}

// batchResultLine is one line of `sail batches results`.
type batchResultLine struct {
	CustomID   string       `json:"custom_id"`
	ID         string       `json:"id,omitempty"`
	Status     string       `json:"status"`
	OutputText string       `json:"output_text"`
	Usage      *event.Usage `json:"usage"`
	Error      string       `json:"error,omitempty"`
}

// BatchesResultsOptions are the inputs of `sail batches results`.
type BatchesResultsOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*sail.Client, error)

	ID          string
	Out         string
	Concurrency int
	API         apiFlags
}

// NewCmdBatchesResults builds `sail batches results`.
func NewCmdBatchesResults(f *Factory, runF func(context.Context, *BatchesResultsOptions) error) *cobra.Command {
	o := &BatchesResultsOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "results BATCH_ID",
		Short: "Write one result line per custom_id of a batch",
		Long: `Fetch each request's response object (GET /v1/batches/{id}/{custom_id}) and
write one JSON line per custom_id, sorted by custom_id, as each arrives:
{"custom_id", "id", "status", "output_text", "usage", "error"}. Requests
still running are listed with their status and no text. Exit 1 if a result
could not be fetched (the others are still written).`,
		Example: `  sail batches results batch_0123 -o results.jsonl
  sail batches results batch_0123 | jq -r 'select(.status != "completed") | .custom_id'`,
		Args: usageArgs(oneBatchID),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			if o.Concurrency < 1 {
				return exitcode.New(exitcode.Usage, "--concurrency must be at least 1")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return batchesResultsRun(cmd.Context(), o)
		},
	}
	o.Client = f.apiClientFor(f.configFor(cmd, apiConfigKeys))
	cmd.Flags().StringVarP(&o.Out, "out", "o", "", "write the lines to this file instead of stdout")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", 8, "results fetched at once")
	o.API.register(cmd)
	cmd.ValidArgsFunction = completeBatchIDs(o.Client)
	return cmd
}

func batchesResultsRun(ctx context.Context, o *BatchesResultsOptions) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	b, err := c.GetBatch(ctx, o.ID)
	if err != nil {
		return err
	}
	w := session.DataWriter(o.IO)
	if o.Out != "" {
		fh, err := os.OpenFile(o.Out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return exitcode.WithHint(exitcode.Usage, fmt.Errorf("-o: %w", err), "pass a writable file path")
		}
		defer fh.Close()
		w = fh
	}
	return writeBatchResults(ctx, c, b, w, o.Concurrency)
}

// writeBatchResults fetches results with up to n in flight and writes them
// in custom_id order as soon as each one's turn comes: memory holds at most
// n results, however large the batch.
func writeBatchResults(ctx context.Context, c *sail.Client, b *sail.Batch, out io.Writer, n int) error {
	ids := make([]string, 0, len(b.RequestStatus))
	for id := range b.RequestStatus {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	slots := make(chan chan batchResultLine, n)
	go func() {
		defer close(slots)
		for _, id := range ids {
			ch := make(chan batchResultLine, 1)
			select {
			case slots <- ch:
			case <-ctx.Done():
				return
			}
			go func(id string) {
				line := batchResultLine{CustomID: id, Status: status.Normalize(b.RequestStatus[id])}
				r, err := c.BatchResult(ctx, b.ID, id)
				if err != nil {
					line.Error = err.Error()
				} else {
					line.ID, line.Status, line.OutputText, line.Usage = r.ID, r.Status, r.OutputText, r.Usage
				}
				ch <- line
			}(id)
		}
	}()
	failed := 0
	var werr error
	for ch := range slots {
		line := <-ch
		if line.Error != "" {
			failed++
		}
		if werr == nil {
			werr = enc.Encode(line)
		}
	}
	if err := bw.Flush(); werr == nil {
		werr = err
	}
	switch {
	case werr != nil:
		return fmt.Errorf("write results: %w", werr)
	case ctx.Err() != nil:
		return exitcode.WithHint(exitcode.Of(ctx.Err()), errors.New("interrupted"), "")
	case failed > 0:
		return exitcode.New(exitcode.Error, "%d of %d results could not be fetched (see their error field)", failed, len(ids))
	}
	return nil
}

// oneBatchID says what is missing in the user's terms instead of cobra's
// "accepts 1 arg(s), received 0".
func oneBatchID(_ *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return errors.New("which batch? give its id (sail batches list shows them)")
	case len(args) > 1:
		return fmt.Errorf("one batch id at a time, got %d", len(args))
	}
	return nil
}
