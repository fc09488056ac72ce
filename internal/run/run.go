// Package run orchestrates `sail run`: open the inbox, create the response
// with its completion webhook pointing there, wait for the first of a
// verified delivery or a terminal status seen by the fallback poll, compare
// the payload with GET, and decide the exit code. It owns the lifecycle
// (deadline, interrupt, cleanup); front ends only see events.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/inbox"
	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/status"
	"github.com/sailresearch/sail/internal/webhook"
)

// API is what the orchestrator needs from Sail; *sail.Client implements it.
type API interface {
	Create(ctx context.Context, req sail.CreateRequest) (*sail.Response, error)
	Get(ctx context.Context, id string) (*sail.Response, error)
	Cancel(ctx context.Context, id string) (*sail.Response, error)
	Wait(ctx context.Context, id string, o sail.WaitOptions) (*sail.Response, error)
}

// The --token words that are not a token.
const (
	TokenAuto = event.TokenModeAuto
	TokenNone = event.TokenModeNone
)

// Options configures one run.
type Options struct {
	API     API
	Request sail.CreateRequest // WebhookURL/WebhookToken are filled in here

	// Webhook enables the inbox; Inbox must then be open (the caller owns
	// it, so batch runs can share one).
	Webhook bool
	Inbox   *inbox.Inbox
	Token   string // auto | none | a literal token

	PollInterval      time.Duration // fallback poll; 0 → 5s
	NoPoll            bool
	WebhookGrace      time.Duration // after a terminal poll, wait this long for the webhook; 0 → 60s
	Settle            time.Duration // after completion, keep receiving this long so late retries/duplicates show
	CancelOnInterrupt bool
	// EmitDeliveries sends this run's deliveries to Sink too. Batch runs set
	// it: their receiver is shared and reports to no one.
	EmitDeliveries bool

	Sink event.Sink
	Now  func() time.Time
}

// Result is what the run produced, for --output text|payload.
type Result struct {
	ID         string
	Status     string
	OutputText string
	Payload    []byte // redacted
}

// Run executes one run. The error carries the exit code; it has already
// been emitted as an Error event.
func Run(ctx context.Context, o Options) (*Result, error) {
	r := &runner{o: o}
	r.defaults()
	res, err := r.run(ctx)
	if err != nil {
		ev := event.Error{ExitCode: exitcode.Of(err), Message: err.Error(), Hint: exitcode.Hint(err), ID: r.id}
		r.emit(ev)
	}
	return res, err
}

type runner struct {
	o         Options
	id        string
	createdAt time.Time
	lastState string
}

func (r *runner) defaults() {
	if r.o.PollInterval <= 0 {
		r.o.PollInterval = 5 * time.Second
	}
	if r.o.WebhookGrace <= 0 {
		r.o.WebhookGrace = 60 * time.Second
	}
	if r.o.Sink == nil {
		r.o.Sink = event.Discard
	}
	if r.o.Now == nil {
		r.o.Now = time.Now
	}
	if r.o.Token == "" {
		r.o.Token = TokenAuto
	}
}

func (r *runner) emit(e event.Event) { r.o.Sink.Emit(e) }

// interrupted turns the end of ctx into the right error: 124 for the
// deadline, 130 for Ctrl-C, cancelling the response when asked to.
func (r *runner) interrupted(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		msg := "timed out waiting"
		if r.id != "" {
			msg = fmt.Sprintf("timed out waiting for %s", r.id)
		}
		return exitcode.WithHint(exitcode.Timeout, errors.New(msg), "raise --timeout; the response keeps running: sail responses wait "+r.id)
	}
	msg := "interrupted"
	hint := ""
	if r.id != "" {
		hint = "the response keeps running: sail responses wait " + r.id
		if r.o.CancelOnInterrupt {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if _, err := r.o.API.Cancel(cctx, r.id); err != nil {
				hint = "could not cancel it (" + err.Error() + "); sail responses wait " + r.id
			} else {
				hint = "cancelled " + r.id
			}
		}
	}
	return exitcode.WithHint(exitcode.Interrupted, errors.New(msg), hint)
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	req := r.o.Request
	if req.Endpoint == "" {
		req.Endpoint = sail.Responses // as sail.CreateRequest documents
	}
	var deliveries chan event.Delivery
	done := make(chan struct{})
	defer close(done)

	if r.o.Webhook {
		if r.o.Inbox == nil {
			return nil, errors.New("run: webhook mode needs an open inbox")
		}
		token, mode := r.o.Token, event.TokenModeFixed
		switch token {
		case TokenAuto:
			token, mode = webhook.NewToken(), TokenAuto
		case TokenNone:
			token, mode = "", TokenNone
		}
		path := webhook.RandomPath()
		deliveries = make(chan event.Delivery, 16)
		remove := r.o.Inbox.Receiver.Handle(webhook.Route{Path: path, Token: token, OnDelivery: func(d event.Delivery) {
			select {
			case deliveries <- d:
			case <-done:
			}
		}})
		defer remove()
		req.WebhookURL = r.o.Inbox.URL(path)
		req.WebhookToken = token
		r.emit(event.Ready{
			WebhookURL: req.WebhookURL, Tunnel: r.o.Inbox.Tunnel.Provider(), ListenAddr: r.o.Inbox.Tunnel.ListenAddr(),
			TokenMode: mode, Note: r.o.Inbox.Tunnel.Note(), Endpoint: string(req.Endpoint), Model: req.Model,
		})
	}
	if req.Endpoint == sail.Responses {
		req.Background = true
	}

	// Measured from the request, not the answer: on a fast server the
	// webhook can arrive before the create's own answer does.
	r.createdAt = r.o.Now()
	created, err := r.o.API.Create(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, r.interrupted(ctx)
		}
		return nil, fmt.Errorf("create response: %w", err)
	}
	r.id = created.ID
	r.lastState = created.Status
	ev := event.Created{ID: created.ID, Endpoint: string(req.Endpoint), Model: created.Model, Status: shownStatus(created)}
	if ev.Model == "" {
		ev.Model = req.Model
	}
	if req.Endpoint != sail.Responses {
		ev.OutputText = created.OutputText
	}
	r.emit(ev)

	if !r.o.Webhook {
		return r.finishWithoutWebhook(ctx, req.Endpoint, created)
	}
	return r.waitForWebhook(ctx, req.Endpoint, created, deliveries)
}

// finishWithoutWebhook polls (responses) or reports the direct answer.
func (r *runner) finishWithoutWebhook(ctx context.Context, ep sail.Endpoint, created *sail.Response) (*Result, error) {
	final, source := created, "direct"
	if ep == sail.Responses && !status.IsTerminal(created.Status) {
		source = "poll"
		var err error
		final, err = r.o.API.Wait(ctx, created.ID, sail.WaitOptions{Interval: 200 * time.Millisecond, MaxInterval: r.o.PollInterval, OnStatus: r.onStatus})
		if err != nil {
			if ctx.Err() != nil {
				return nil, r.interrupted(ctx)
			}
			return nil, fmt.Errorf("wait for %s: %w", created.ID, err)
		}
	}
	r.onStatus(final)
	res := &Result{ID: final.ID, Status: final.Status, OutputText: final.OutputText, Payload: payload.Redact(final.Raw, "")}
	r.emit(event.Completed{ID: final.ID, Status: final.Status, OutputText: final.OutputText, Usage: final.Usage, Source: source, Payload: res.Payload})
	return res, statusError(final.ID, final.Status)
}

// onStatus emits a status event when the normalised status changes, so
// "pending" then "queued" is no change, while the event shows the value
// as Sail sent it (either dialect may appear: docs/events.md).
func (r *runner) onStatus(resp *sail.Response) {
	if resp.Status != r.lastState {
		r.lastState = resp.Status
		r.emit(event.Status{ID: resp.ID, Status: shownStatus(resp)})
	}
}

// shownStatus is the status as the server spelled it, or the normalised
// one when it sent none (chat and messages answers).
func shownStatus(resp *sail.Response) string {
	if resp.WireStatus != "" {
		return resp.WireStatus
	}
	return resp.Status
}

// statusError is exit 6 for a response that ended without completing.
func statusError(id, status string) error {
	switch status {
	case "failed", "cancelled", "incomplete":
		return exitcode.New(exitcode.ResponseFailed, "response %s ended %s", id, status)
	}
	return nil
}

func (r *runner) waitForWebhook(ctx context.Context, ep sail.Endpoint, created *sail.Response, deliveries <-chan event.Delivery) (*Result, error) {
	// Only /v1/responses has a documented GET by id, so only it can be polled.
	canPoll := ep == sail.Responses
	var pollC <-chan time.Time
	var poller *time.Ticker
	if canPoll && !r.o.NoPoll {
		// One early poll shows the response moving (queued → in_progress)
		// on slow runs; after it the fallback poll is as slow as asked.
		poller = time.NewTicker(min(time.Second, r.o.PollInterval))
		defer poller.Stop()
		pollC = poller.C
	}
	var graceC <-chan time.Time
	var polled *sail.Response
	startGrace := func(status string) {
		if graceC != nil {
			return
		}
		timer := time.NewTimer(r.o.WebhookGrace)
		graceC = timer.C
		r.emit(event.Notice{Level: "info", Message: fmt.Sprintf("response is %s; waiting up to %s for the webhook", status, r.o.WebhookGrace)})
	}
	if !canPoll {
		// chat and messages answered directly: the result is known, only the
		// webhook is outstanding.
		polled = created
		startGrace(created.Status)
	}
	stopped := r.o.Inbox.Stopped()
	for {
		select {
		case <-ctx.Done():
			return nil, r.interrupted(ctx)
		case err := <-stopped:
			stopped = nil
			msg := err.Error()
			if canPoll {
				msg += "; falling back to polling GET /v1/responses/" + r.id
				if poller == nil {
					poller = time.NewTicker(r.o.PollInterval)
					defer poller.Stop() // once: stopped is nil from here on
					pollC = poller.C
				}
			}
			r.emit(event.Notice{Level: "warn", Message: msg})
			if !canPoll {
				return r.notDelivered(polled, "the tunnel stopped before the webhook arrived")
			}
		case <-pollC:
			if poller != nil {
				poller.Reset(r.o.PollInterval)
			}
			resp, err := r.o.API.Get(ctx, r.id)
			if err != nil {
				if ctx.Err() != nil {
					return nil, r.interrupted(ctx)
				}
				if exitcode.Of(err) == exitcode.Config {
					return nil, err
				}
				r.emit(event.Notice{Level: "warn", Message: "poll: " + err.Error()})
				continue
			}
			r.onStatus(resp)
			if status.IsTerminal(resp.Status) {
				polled = resp
				startGrace(resp.Status)
			}
		case <-graceC:
			return r.notDelivered(polled, fmt.Sprintf("webhook not delivered within %s of the response finishing", r.o.WebhookGrace))
		case d := <-deliveries:
			if r.o.EmitDeliveries {
				r.emit(d)
			}
			if d.Duplicate {
				continue // shown by the receiver's events, never counted twice
			}
			switch d.Verdict {
			case event.VerdictMismatch, event.VerdictMissing:
				return r.rejected(ctx, ep, created, d)
			}
			if !d.Accepted() {
				continue // e.g. the store failed: the sender got 500 and retries
			}
			return r.verify(ctx, ep, created, d)
		}
	}
}

// verify compares an accepted delivery with GET (responses) or with the
// direct answer (chat, messages) and reports the result.
func (r *runner) verify(ctx context.Context, ep sail.Endpoint, created *sail.Response, d event.Delivery) (*Result, error) {
	info, err := payload.Inspect(d.Body)
	if err != nil {
		return nil, exitcode.New(exitcode.Verify, "webhook payload: %v", err)
	}
	if info.Status != "" && info.Status != r.lastState {
		r.lastState = info.Status
		shown := info.WireStatus
		if shown == "" {
			shown = info.Status // derived: chat and messages carry none
		}
		r.emit(event.Status{ID: r.id, Status: shown})
	}
	var diffs []string
	var values []event.Difference
	matches := true
	// truth is what the run reports when the webhook disagrees: GET's
	// answer (or the direct one), never the unverified delivery.
	truth := created
	if ep == sail.Responses {
		got, err := r.o.API.Get(ctx, r.id)
		if err != nil {
			if ctx.Err() != nil {
				return nil, r.interrupted(ctx)
			}
			return nil, fmt.Errorf("fetch %s to compare with the webhook: %w", r.id, err)
		}
		truth = got
		cmp, err := payload.Diff(d.Body, got.Raw, "")
		if err != nil {
			return nil, exitcode.New(exitcode.Verify, "compare webhook payload with GET: %v", err)
		}
		matches, diffs, values = cmp.Equal, cmp.Paths, cmp.Diffs
	} else if info.OutputText != created.OutputText {
		matches, diffs = false, []string{"output_text"}
		w, _ := json.Marshal(info.OutputText)
		g, _ := json.Marshal(created.OutputText)
		values = []event.Difference{{Path: "output_text", Webhook: string(w), Get: string(g)}}
	}
	r.emit(event.Verified{ID: r.id, Matches: matches, Differences: diffs, Diffs: values})

	ms := d.ReceivedAt.Sub(r.createdAt).Milliseconds()
	if ms < 0 {
		ms = 0
	}
	res := &Result{ID: r.id, Status: info.Status, OutputText: info.OutputText, Payload: d.Body}
	usage, source := info.Usage, "webhook"
	if !matches {
		res = &Result{ID: r.id, Status: truth.Status, OutputText: truth.OutputText, Payload: payload.Redact(truth.Raw, "")}
		usage, source = truth.Usage, "poll"
		if ep != sail.Responses {
			source = "direct"
		}
	}
	r.emit(event.Completed{
		ID: r.id, Status: res.Status, OutputText: res.OutputText, Usage: usage,
		WebhookDelivered: true, CreateToWebhookMS: &ms, WebhookMatchesGet: &matches,
		Differences: diffs, Source: source, Payload: res.Payload,
	})
	r.settle(ctx)
	if !matches {
		against := "GET /v1/responses/" + r.id
		if ep != sail.Responses {
			against = "the direct " + string(ep) + " answer"
		}
		return res, exitcode.New(exitcode.Verify, "webhook payload differs from %s", against)
	}
	return res, statusError(r.id, res.Status)
}

// rejected reports a delivery whose token check failed, with the result
// fetched by GET when possible.
func (r *runner) rejected(ctx context.Context, ep sail.Endpoint, created *sail.Response, d event.Delivery) (*Result, error) {
	final := created
	if ep == sail.Responses {
		if got, err := r.o.API.Get(ctx, r.id); err == nil {
			final = got
			r.onStatus(got)
		}
	}
	res := r.completedWithout(final)
	what := "the wrong bearer token"
	if d.Verdict == event.VerdictMissing {
		what = "no bearer token"
	}
	r.settle(ctx)
	return res, exitcode.WithHint(exitcode.Verify,
		fmt.Errorf("webhook verification failed: the delivery carried %s (answered 401)", what),
		"the sender does not know the token sail put in metadata.webhook_token")
}

// notDelivered reports the result fetched by polling when the webhook never
// came.
func (r *runner) notDelivered(final *sail.Response, why string) (*Result, error) {
	res := r.completedWithout(final)
	return res, exitcode.WithHint(exitcode.Verify, errors.New(why),
		"the result above was fetched with GET; check that the webhook URL is reachable from Sail")
}

func (r *runner) completedWithout(final *sail.Response) *Result {
	res := &Result{ID: r.id, Status: final.Status, OutputText: final.OutputText, Payload: payload.Redact(final.Raw, "")}
	r.emit(event.Completed{ID: r.id, Status: final.Status, OutputText: final.OutputText, Usage: final.Usage, Source: "poll", Payload: res.Payload})
	return res
}

// settle keeps the inbox open briefly so retries and duplicates that are
// already on their way are still shown.
func (r *runner) settle(ctx context.Context) {
	if r.o.Settle <= 0 {
		return
	}
	t := time.NewTimer(r.o.Settle)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
