package run

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/inbox"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/status"
	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
)

// harness is an in-process emulator, a client for it, and an inbox on a
// local tunnel that a test can drop.
type harness struct {
	emu    *emulator.Emulator
	srv    *httptest.Server
	client *sail.Client
	tun    *droppingTunnel
	inbox  *inbox.Inbox
	events *event.Recorder
	sink   event.Sink
}

// newHarness opens a harness that is closed when the test ends.
func newHarness(t *testing.T, eo emulator.Options) *harness {
	t.Helper()
	h := openHarness(t, eo)
	t.Cleanup(func() { _ = h.close() })
	return h
}

// openHarness opens a harness the test closes itself, to check what
// closing reports and what it leaves behind.
func openHarness(t *testing.T, eo emulator.Options) *harness {
	t.Helper()
	if eo.RetryBackoff == 0 {
		eo.RetryBackoff = 5 * time.Millisecond
	}
	emu, err := emulator.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{emu: emu, srv: httptest.NewServer(emu), events: &event.Recorder{}}
	if h.client, err = sail.New(sail.Options{BaseURL: h.srv.URL, APIKey: "k"}); err != nil {
		h.srv.Close()
		t.Fatal(err)
	}
	tun, err := tunnel.Open(context.Background(), tunnel.Options{Provider: tunnel.Local, Addr: "127.0.0.1:0"})
	if err != nil {
		h.srv.Close()
		t.Fatal(err)
	}
	h.tun = &droppingTunnel{Tunnel: tun}
	h.sink = event.Ordered(h.events)
	h.inbox = inbox.Serve(h.tun, webhook.NewReceiver(webhook.Options{Sink: h.sink}))
	return h
}

// close shuts down in the CLI's order: the inbox, then the emulator and
// its server.
func (h *harness) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var errs []error
	if err := h.inbox.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("inbox close: %w", err))
	}
	if err := h.emu.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("emulator close: %w", err))
	}
	h.srv.Close()
	return errors.Join(errs...)
}

func (h *harness) options(ep sail.Endpoint) Options {
	return Options{
		API:          h.client,
		Request:      sail.CreateRequest{Endpoint: ep, Model: "moonshotai/Kimi-K2.5", Input: "What is 2+2?"},
		Webhook:      true,
		Inbox:        h.inbox,
		PollInterval: 20 * time.Millisecond,
		WebhookGrace: 200 * time.Millisecond,
		Sink:         h.sink,
	}
}

func kinds(r *event.Recorder, skip ...event.Kind) string {
	var out []string
next:
	for _, k := range r.Kinds() {
		for _, s := range skip {
			if k == s {
				continue next
			}
		}
		out = append(out, string(k))
	}
	return strings.Join(out, " ")
}

func find[T event.Event](r *event.Recorder) (T, bool) {
	var zero T
	for _, e := range r.Events() {
		if v, ok := e.(T); ok {
			return v, true
		}
	}
	return zero, false
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunVerifiedOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	for _, ep := range []sail.Endpoint{sail.Responses, sail.Chat, sail.Messages} {
		t.Run(string(ep), func(t *testing.T) {
			h := newHarness(t, emulator.Options{})
			res, err := Run(ctxT(t), h.options(ep))
			if err != nil {
				t.Fatalf("Run: %v (events %s)", err, kinds(h.events))
			}
			if res.OutputText != "4" || res.Status != "completed" {
				t.Fatalf("result %+v", res)
			}
			if got := kinds(h.events, event.KindStatus, event.KindNotice); got != "ready created delivery verified completed" {
				t.Fatalf("events: %s", got)
			}
			c, _ := find[event.Completed](h.events)
			if !c.WebhookDelivered || c.WebhookMatchesGet == nil || !*c.WebhookMatchesGet || c.CreateToWebhookMS == nil || c.Source != "webhook" {
				t.Fatalf("completed: %+v", c)
			}
			if strings.Contains(string(res.Payload), `"webhook_token":"`) && !strings.Contains(string(res.Payload), `"webhook_token":"•••"`) {
				t.Fatalf("token not redacted in payload: %s", res.Payload)
			}
		})
	}
}

func TestRunEmitsCreatedWithLatency(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{Latency: 20 * time.Millisecond})
	if _, err := Run(ctxT(t), h.options(sail.Responses)); err != nil {
		t.Fatal(err)
	}
	if got := kinds(h.events, event.KindStatus, event.KindNotice); got != "ready created delivery verified completed" {
		t.Fatalf("events: %s", got)
	}
}

func TestRunTokenNoneAndFixed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{})
	o := h.options(sail.Responses)
	o.Token = TokenNone
	if _, err := Run(ctxT(t), o); err != nil {
		t.Fatal(err)
	}
	d, _ := find[event.Delivery](h.events)
	if d.Verdict != event.VerdictNone {
		t.Fatalf("verdict %q, want none", d.Verdict)
	}
	r, _ := find[event.Ready](h.events)
	if r.TokenMode != TokenNone {
		t.Fatalf("token mode %q", r.TokenMode)
	}
}

func TestRunWrongTokenExit3(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{WrongToken: true})
	res, err := Run(ctxT(t), h.options(sail.Responses))
	if exitcode.Of(err) != exitcode.Verify {
		t.Fatalf("exit %d (%v), want 3", exitcode.Of(err), err)
	}
	if res == nil || res.ID == "" {
		t.Fatal("no result reported for a rejected delivery")
	}
	d, _ := find[event.Delivery](h.events)
	if d.Verdict != event.VerdictMismatch || d.HTTPStatus != 401 {
		t.Fatalf("delivery %+v", d)
	}
	e, ok := find[event.Error](h.events)
	if !ok || e.ExitCode != 3 || e.ID == "" {
		t.Fatalf("error event %+v", e)
	}
}

func TestRunDroppedWebhookFallsBackToPoll(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{DropWebhook: true})
	res, err := Run(ctxT(t), h.options(sail.Responses))
	if exitcode.Of(err) != exitcode.Verify || !strings.Contains(err.Error(), "not delivered") {
		t.Fatalf("err %v", err)
	}
	if res.OutputText != "4" {
		t.Fatalf("result from poll: %+v", res)
	}
	c, _ := find[event.Completed](h.events)
	if c.Source != "poll" || c.WebhookDelivered {
		t.Fatalf("completed %+v", c)
	}
}

func TestRunFailedOutcomeExit6(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{Outcome: "failed"})
	_, err := Run(ctxT(t), h.options(sail.Responses))
	if exitcode.Of(err) != exitcode.ResponseFailed {
		t.Fatalf("exit %d (%v), want 6", exitcode.Of(err), err)
	}
	if _, ok := find[event.Delivery](h.events); !ok {
		t.Fatal("the webhook of a failed response must still be shown")
	}
}

func TestRunDuplicateNotDoubleCounted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{DuplicateWebhook: true})
	o := h.options(sail.Responses)
	o.Settle = 500 * time.Millisecond
	if _, err := Run(ctxT(t), o); err != nil {
		t.Fatal(err)
	}
	var first, dup, completed int
	for _, e := range h.events.Events() {
		switch e := e.(type) {
		case event.Delivery:
			if e.Duplicate {
				dup++
			} else {
				first++
			}
		case event.Completed:
			completed++
		}
	}
	if first != 1 || dup != 1 || completed != 1 {
		t.Fatalf("first %d dup %d completed %d", first, dup, completed)
	}
}

// fakeAPI alters GET so the payload comparison must fail.
type fakeAPI struct {
	*sail.Client
}

func (f fakeAPI) Get(ctx context.Context, id string) (*sail.Response, error) {
	r, err := f.Client.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	r.Raw = []byte(strings.Replace(string(r.Raw), `"text":"4"`, `"text":"5"`, 1))
	return r, nil
}

func TestRunPayloadDiffersFromGet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{})
	o := h.options(sail.Responses)
	o.API = fakeAPI{h.client}
	_, err := Run(ctxT(t), o)
	if exitcode.Of(err) != exitcode.Verify {
		t.Fatalf("exit %d (%v)", exitcode.Of(err), err)
	}
	v, _ := find[event.Verified](h.events)
	if v.Matches || len(v.Differences) == 0 || !strings.Contains(strings.Join(v.Differences, ","), "text") {
		t.Fatalf("verified %+v", v)
	}
}

func TestRunTimeoutAndInterrupt(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, h.options(sail.Responses))
	if exitcode.Of(err) != exitcode.Timeout {
		t.Fatalf("exit %d (%v), want 124", exitcode.Of(err), err)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	o := h.options(sail.Responses)
	o.CancelOnInterrupt = true
	var rec event.Recorder
	o.Sink = event.SinkFunc(func(e event.Event) {
		rec.Emit(e)
		if _, ok := e.(event.Created); ok {
			cancel2()
		}
	})
	_, err = Run(ctx2, o)
	if exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("exit %d (%v), want 130", exitcode.Of(err), err)
	}
	e, _ := find[event.Error](&rec)
	if e.ID == "" || e.ExitCode != exitcode.Interrupted {
		t.Fatalf("interrupt event %+v", e)
	}
	if !strings.Contains(exitcode.Hint(err), "cancelled") {
		t.Fatalf("hint %q", exitcode.Hint(err))
	}
	got, gerr := h.client.Get(context.Background(), e.ID)
	if gerr != nil || got.Status != "cancelled" {
		t.Fatalf("response after --cancel-on-interrupt: %v %v", got, gerr)
	}
}

// droppingTunnel is a local tunnel whose listener can be killed, as an
// ngrok session that drops would.
type droppingTunnel struct {
	tunnel.Tunnel
	once sync.Once
}

func (d *droppingTunnel) drop() { d.once.Do(func() { d.Tunnel.Listener().Close() }) }

func TestRunTunnelDropFallsBackToPolling(t *testing.T) {
	t.Parallel()
	// No webhook is ever sent, so only polling can find the result. (A
	// long WebhookDelay would do the same, but the emulator's close then
	// waits out the harness's deadline for that delivery.)
	h := newHarness(t, emulator.Options{Latency: 50 * time.Millisecond, DropWebhook: true})
	o := h.options(sail.Responses)
	o.NoPoll = true // the drop must turn polling on by itself
	o.Sink = event.SinkFunc(func(e event.Event) {
		h.events.Emit(e)
		if _, ok := e.(event.Created); ok {
			h.tun.drop()
		}
	})
	res, err := Run(ctxT(t), o)
	if exitcode.Of(err) != exitcode.Verify {
		t.Fatalf("exit %d (%v), want 3 (webhook not delivered)", exitcode.Of(err), err)
	}
	if res.OutputText != "4" {
		t.Fatalf("result %+v", res)
	}
	var warned bool
	for _, e := range h.events.Events() {
		if n, ok := e.(event.Notice); ok && n.Level == "warn" && strings.Contains(n.Message, "tunnel stopped") && strings.Contains(n.Message, "polling") {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no notice about the dropped tunnel: %v", h.events.Kinds())
	}
}

func TestRunWithoutWebhook(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{Latency: 10 * time.Millisecond})
	o := h.options(sail.Responses)
	o.Webhook, o.Inbox = false, nil
	res, err := Run(ctxT(t), o)
	if err != nil || res.OutputText != "4" {
		t.Fatalf("%v %+v", err, res)
	}
	if got := kinds(h.events, event.KindStatus, event.KindNotice); got != "created completed" {
		t.Fatalf("events %s", got)
	}
	if _, ok := find[event.Status](h.events); !ok {
		t.Fatal("polling reported no status")
	}
}

func TestRunCreateErrorKeepsCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{APIKey: "right"})
	bad, _ := sail.New(sail.Options{BaseURL: h.client.BaseURL(), APIKey: "wrong"})
	o := h.options(sail.Responses)
	o.API = bad
	_, err := Run(ctxT(t), o)
	if exitcode.Of(err) != exitcode.Config {
		t.Fatalf("exit %d (%v), want 4", exitcode.Of(err), err)
	}
}

func TestOrderedHoldsDeliveriesUntilCreated(t *testing.T) {
	t.Parallel()
	var rec event.Recorder
	s := event.Ordered(&rec)
	s.Emit(event.Ready{})
	s.Emit(event.Delivery{Attempt: 1})
	s.Emit(event.Forwarded{})
	if got := kinds(&rec); got != "ready" {
		t.Fatalf("before created: %s", got)
	}
	s.Emit(event.Created{})
	s.Emit(event.Delivery{Attempt: 2})
	if got := kinds(&rec); got != "ready created delivery forwarded delivery" {
		t.Fatalf("after created: %s", got)
	}
}

// tamperedGet answers GET with a different text than the webhook carried.
type tamperedGet struct {
	API
}

func (a tamperedGet) Get(ctx context.Context, id string) (*sail.Response, error) {
	r, err := a.API.Get(ctx, id)
	if err != nil || !status.IsTerminal(r.Status) {
		return r, err
	}
	cp := *r
	cp.Raw = []byte(strings.Replace(string(r.Raw), `"text":"4"`, `"text":"5"`, 1))
	cp.OutputText = "5"
	return &cp, nil
}

func TestRunPayloadDiffersFromGetReportsGet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, emulator.Options{})
	o := h.options(sail.Responses)
	o.API = tamperedGet{h.client}
	res, err := Run(ctxT(t), o)
	if exitcode.Of(err) != exitcode.Verify {
		t.Fatalf("exit %d (%v), want 3", exitcode.Of(err), err)
	}
	if res == nil || res.OutputText != "5" || strings.Contains(string(res.Payload), `"text":"4"`) {
		t.Fatalf("the result must be GET's answer, not the webhook's: %+v", res)
	}
	c, _ := find[event.Completed](h.events)
	if c.OutputText != "5" || c.Source != "poll" || c.WebhookMatchesGet == nil || *c.WebhookMatchesGet {
		t.Fatalf("completed %+v", c)
	}
	v, _ := find[event.Verified](h.events)
	want := event.Difference{Path: "output[0].content[0].text", Webhook: `"4"`, Get: `"5"`}
	if v.Matches || len(v.Diffs) != 1 || v.Diffs[0] != want {
		t.Fatalf("verified %+v, want diffs [%+v]", v, want)
	}
}

// A server speaking the reference's dialect (pending, running) is shown
// as it spoke, while the logic sees one status per meaning: pending after
// a created pending is no change, and completed ends the run.
func TestRunStatusEventsKeepSailsSpelling(t *testing.T) {
	t.Parallel()
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		st, code := "pending", http.StatusAccepted
		if r.Method == http.MethodGet {
			code = http.StatusOK
			switch polls.Add(1) {
			case 1:
				st = "pending"
			case 2:
				st = "RUNNING"
			default:
				st = "completed"
			}
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"id":"resp_1","object":"response","created_at":1,"status":%q,"model":"m","metadata":{},"output":[],"usage":{"input_tokens":0,"output_tokens":0,"total_tokens":0}}`, st)
	}))
	defer srv.Close()
	client, err := sail.New(sail.Options{BaseURL: srv.URL, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var rec event.Recorder
	res, err := Run(ctxT(t), Options{
		API:          client,
		Request:      sail.CreateRequest{Model: "m", Input: "hi"},
		PollInterval: 10 * time.Millisecond,
		Sink:         &rec,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Status != "completed" {
		t.Errorf("result status %q", res.Status)
	}
	var shown []string
	for _, e := range rec.Events() {
		switch e := e.(type) {
		case event.Created:
			shown = append(shown, "created:"+e.Status)
		case event.Status:
			shown = append(shown, "status:"+e.Status)
		case event.Completed:
			shown = append(shown, "completed:"+e.Status)
		}
	}
	if got, want := strings.Join(shown, " "), "created:pending status:RUNNING status:completed completed:completed"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
}
