// Package batch carries many prompts through one inbox: each item gets its
// own route (random path and token), runs the single-run orchestration of
// package run, and yields one result line as soon as it finishes. Nothing
// about an item is kept after its result is written.
package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/inbox"
	"github.com/sailresearch/sail/internal/run"
	"github.com/sailresearch/sail/internal/sail"
)

// Result is the NDJSON line written for each item.
type Result struct {
	CustomID          string `json:"custom_id,omitempty"`
	Line              int    `json:"line"`
	ID                string `json:"id,omitempty"`
	Status            string `json:"status,omitempty"`
	OutputText        string `json:"output_text"`
	Verdict           string `json:"verdict"` // ok | none | mismatch | missing | not_delivered | "" without --webhook
	Attempts          int    `json:"attempts"`
	WebhookMatchesGet *bool  `json:"webhook_matches_get"`
	CreateToWebhookMS *int64 `json:"create_to_webhook_ms"`
	Error             string `json:"error,omitempty"`
	ExitCode          int    `json:"exit_code"`
}

// Key matches Item.Key, for --resume.
func (r Result) Key() string {
	if r.CustomID != "" {
		return r.CustomID
	}
	return fmt.Sprintf("line:%d", r.Line)
}

// Options configures a batch.
type Options struct {
	API      run.API
	Webhook  bool
	Inbox    *inbox.Inbox
	Defaults sail.CreateRequest // model, endpoint, instructions, metadata… for items that omit them
	Token    string             // auto | none | literal

	Concurrency  int           // creates in flight; default 8
	ItemTimeout  time.Duration // per item; 0 = bounded only by ctx
	PollInterval time.Duration
	NoPoll       bool
	WebhookGrace time.Duration
	Max429Waits  int // how many Retry-After waits a create may take; default 5

	Strict      bool // stop at the first malformed line
	SkipInvalid bool // malformed lines do not make the exit code non-zero
	// Stop ends creating (the first Ctrl-C): items in flight go on under
	// ctx, which bounds them (deadline, second Ctrl-C). nil: only ctx.
	Stop <-chan struct{}
	// Total is the number of items that will run when known up front (a
	// regular file scanned first), for a true progress bar; 0 = unknown.
	Total       int
	Skip        func(key string) bool // --resume
	OnResult    func(Result) error    // called serially, in completion order
	OnLineError func(*LineError)      // malformed line, reported and skipped
	OnProgress  func(Progress)        // after each result
	Now         func() time.Time
	// Say shows a line to people (stderr) without tearing the progress
	// display; nil shows it nowhere. A Runner reports through it.
	Say func(string)
}

// Progress is what the progress display needs.
type Progress struct {
	Read, Done, Failed, InFlight, Skipped int
	// Total is the number of items to run when known up front, else 0.
	Total   int
	Elapsed time.Duration
}

// Summary is the end-of-run report.
type Summary struct {
	Items          int            `json:"items"`
	Verified       int            `json:"verified"`
	ByExitCode     map[int]int    `json:"by_exit_code"`
	ByStatus       map[string]int `json:"by_status"`
	WebhookMissing int            `json:"webhooks_missing"`
	LineErrors     int            `json:"line_errors"`
	Skipped        int            `json:"skipped"`
	P50MS          int64          `json:"create_to_webhook_p50_ms"`
	P95MS          int64          `json:"create_to_webhook_p95_ms"`
	MaxMS          int64          `json:"create_to_webhook_max_ms"`
	Elapsed        time.Duration  `json:"-"`
	ExitCode       int            `json:"exit_code"`
}

// severity orders exit codes for the batch's own exit code: the most severe
// among items wins. Usage stands for input lines that were not items.
// Documented in docs/ci.md.
var severity = map[int]int{
	exitcode.OK:             0,
	exitcode.Error:          1,
	exitcode.ResponseFailed: 2,
	exitcode.Timeout:        3,
	exitcode.Verify:         4,
	exitcode.Tunnel:         5,
	exitcode.Usage:          6,
	exitcode.Config:         7,
	exitcode.Interrupted:    8,
}

// Worse returns the more severe of two exit codes.
func Worse(a, b int) int {
	if severity[b] > severity[a] {
		return b
	}
	return a
}

// Runner carries a batch's items: Run, one create each, or another path
// such as Sail's Batches API.
type Runner func(ctx context.Context, r *Reader, o Options) (Summary, error)

// Run reads items from r and runs them. It returns when every item read has
// a result, the input is exhausted, or ctx ends (then items in flight are
// given their own deadline to finish and the rest are not started).
func Run(ctx context.Context, r *Reader, o Options) (Summary, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Max429Waits == 0 {
		o.Max429Waits = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	start := o.Now()
	sum := Summary{ByExitCode: map[int]int{}, ByStatus: map[string]int{}}
	var latencies []int64 // one int64 per delivered item: 80 KB at 10,000 items

	items := make(chan Item)
	results := make(chan Result)
	var readErr error
	prog := Progress{Total: o.Total}
	var progMu sync.Mutex
	stopped := func() bool {
		select {
		case <-o.Stop:
			return true
		default:
			return false
		}
	}

	// Reader: stops creating on ctx end or a strict line error.
	go func() {
		defer close(items)
		for {
			it, err := r.Next()
			if err == io.EOF {
				return
			}
			var le *LineError
			if errors.As(err, &le) {
				progMu.Lock()
				sum.LineErrors++
				progMu.Unlock()
				if o.OnLineError != nil {
					o.OnLineError(le)
				}
				if o.Strict {
					readErr = exitcode.WithHint(exitcode.Usage, err, "fix the line, or drop --strict to skip malformed lines")
					return
				}
				continue
			}
			if err != nil {
				readErr = err
				return
			}
			progMu.Lock()
			prog.Read++
			skip := o.Skip != nil && o.Skip(it.Key())
			if skip {
				prog.Skipped++
				sum.Skipped++
			}
			progMu.Unlock()
			if skip {
				continue
			}
			if stopped() {
				return
			}
			select {
			case items <- it:
			case <-o.Stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()

	var wg sync.WaitGroup
	api := retry429{API: o.API, max: o.Max429Waits}
	for i := 0; i < o.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range items {
				if stopped() {
					continue // handed over as Stop came: never created
				}
				progMu.Lock()
				prog.InFlight++
				progMu.Unlock()
				results <- runItem(ctx, api, it, o)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	var outErr error
	for res := range results {
		sum.Items++
		sum.ByExitCode[res.ExitCode]++
		if res.Status != "" {
			sum.ByStatus[res.Status]++
		}
		if res.ExitCode == exitcode.OK {
			sum.Verified++
		}
		if res.Verdict == "not_delivered" {
			sum.WebhookMissing++
		}
		if res.CreateToWebhookMS != nil {
			latencies = append(latencies, *res.CreateToWebhookMS)
		}
		sum.ExitCode = Worse(sum.ExitCode, res.ExitCode)
		if o.OnResult != nil && outErr == nil {
			outErr = o.OnResult(res)
		}
		progMu.Lock()
		prog.InFlight--
		prog.Done++
		if res.ExitCode != exitcode.OK {
			prog.Failed++
		}
		p := prog
		progMu.Unlock()
		if o.OnProgress != nil {
			p.Elapsed = o.Now().Sub(start)
			o.OnProgress(p)
		}
	}
	sum.Elapsed = o.Now().Sub(start)
	sum.P50MS, sum.P95MS, sum.MaxMS = percentiles(latencies)
	if ctx.Err() != nil {
		sum.ExitCode = Worse(sum.ExitCode, exitcode.Of(ctx.Err()))
	}
	if stopped() {
		sum.ExitCode = Worse(sum.ExitCode, exitcode.Interrupted)
	}
	if sum.LineErrors > 0 && !o.SkipInvalid {
		sum.ExitCode = Worse(sum.ExitCode, exitcode.Usage)
	}
	if readErr != nil {
		return sum, readErr
	}
	if outErr != nil {
		return sum, fmt.Errorf("write result: %w", outErr)
	}
	return sum, sum.Err()
}

// Err is the batch's error for its exit code, saying what led to it.
func (s Summary) Err() error {
	if s.ExitCode == exitcode.OK {
		return nil
	}
	var parts []string
	if s.ExitCode == exitcode.Interrupted {
		parts = append(parts, fmt.Sprintf("interrupted after %d items; the rest were not started", s.Items))
	}
	if failed := s.Items - s.Verified; failed > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d items did not verify", failed, s.Items))
	}
	if s.LineErrors > 0 && s.ExitCode == exitcode.Usage {
		parts = append(parts, fmt.Sprintf("%d input lines were not items and were skipped", s.LineErrors))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d items finished", s.Items))
	}
	err := errors.New(strings.Join(parts, "; "))
	if s.ExitCode == exitcode.Usage {
		return exitcode.WithHint(exitcode.Usage, err, "fix the lines reported above, or pass --skip-invalid to let them be skipped")
	}
	return exitcode.WithHint(s.ExitCode, err, "")
}

func percentiles(v []int64) (p50, p95, max int64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	at := func(q float64) int64 {
		i := int(q*float64(len(v)-1) + 0.5)
		return v[i]
	}
	return at(0.50), at(0.95), v[len(v)-1]
}

// runItem runs one item and condenses its events into a Result.
func runItem(ctx context.Context, api run.API, it Item, o Options) Result {
	req := ItemRequest(it, o.Defaults)
	// One key for every try of this item's create, so a retry after 429 can
	// never start a second job.
	req.IdempotencyKey = sail.NewIdempotencyKey()

	c := &collector{res: Result{CustomID: it.CustomID, Line: it.Line}}
	if o.Webhook {
		c.res.Verdict = "not_delivered"
	}
	ictx := ctx
	if o.ItemTimeout > 0 {
		var cancel context.CancelFunc
		ictx, cancel = context.WithTimeout(ctx, o.ItemTimeout)
		defer cancel()
	}
	_, err := run.Run(ictx, run.Options{
		API: api, Request: req, Webhook: o.Webhook, Inbox: o.Inbox, Token: o.Token,
		PollInterval: o.PollInterval, NoPoll: o.NoPoll, WebhookGrace: o.WebhookGrace,
		EmitDeliveries: true, Sink: c, Now: o.Now,
	})
	if err != nil {
		c.res.ExitCode = exitcode.Of(err)
		c.res.Error = err.Error()
	}
	return c.res
}

// collector turns one item's events into its Result; run.Run emits from
// one goroutine, so no lock is needed.
type collector struct {
	res Result
}

func (c *collector) Emit(e event.Event) {
	switch e := e.(type) {
	case event.Created:
		c.res.ID, c.res.Status = e.ID, e.Status
	case event.Status:
		c.res.Status = e.Status
	case event.Delivery:
		c.res.Attempts++
		if !e.Duplicate && (c.res.Verdict == "not_delivered" || c.res.Verdict == "") {
			c.res.Verdict = e.Verdict
		}
	case event.Completed:
		c.res.ID, c.res.Status, c.res.OutputText = e.ID, e.Status, e.OutputText
		c.res.WebhookMatchesGet, c.res.CreateToWebhookMS = e.WebhookMatchesGet, e.CreateToWebhookMS
	}
}

// retry429 waits out Retry-After on a 429 answer to a create, up to max
// times, before giving up.
type retry429 struct {
	run.API
	max int
}

func (r retry429) Create(ctx context.Context, req sail.CreateRequest) (*sail.Response, error) {
	for i := 0; ; i++ {
		resp, err := r.API.Create(ctx, req)
		var ae *sail.APIError
		if err == nil || i >= r.max || !errors.As(err, &ae) || ae.StatusCode != 429 {
			return resp, err
		}
		wait := ae.RetryAfter
		if wait <= 0 {
			wait = time.Second << i
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// ItemRequest is the create request of one item: its fields over the
// batch's defaults. Sail batches (package sailbatch) build their requests
// with it too, so both modes send the same thing.
func ItemRequest(it Item, defaults sail.CreateRequest) sail.CreateRequest {
	req := defaults
	req.Input = it.Input
	if it.Model != "" {
		req.Model = it.Model
	}
	if it.Endpoint != "" {
		req.Endpoint = sail.Endpoint(it.Endpoint)
	}
	if it.Instructions != "" {
		req.Instructions = it.Instructions
	}
	if it.MaxOutputTokens > 0 {
		req.MaxOutputTokens = it.MaxOutputTokens
	}
	if len(it.Metadata) > 0 {
		md := make(map[string]string, len(defaults.Metadata)+len(it.Metadata))
		for k, v := range defaults.Metadata {
			md[k] = v
		}
		for k, v := range it.Metadata {
			md[k] = v
		}
		req.Metadata = md
	}
	it.ApplyParams(&req)
	return req
}
