package run

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sail"
)

// leakOptions are the harness's options with a short settle, so the
// settle timer is among what a run must clean up.
func leakOptions(h *harness, ep sail.Endpoint) Options {
	o := h.options(ep)
	o.Settle = 20 * time.Millisecond
	return o
}

// closeHarness closes h and fails t if closing reported an error.
func closeHarness(t *testing.T, h *harness) {
	t.Helper()
	if err := h.close(); err != nil {
		t.Error(err)
	}
}

// TestRunLeavesNoGoroutines runs webhook mode through each way a run can
// end and checks that once the inbox and emulator are closed, nothing the
// run started is still running: no poller, no route waiting to hand over a
// delivery, no receiver or keep-alive connection goroutine.
func TestRunLeavesNoGoroutines(t *testing.T) {
	cases := []struct {
		name     string
		emu      emulator.Options
		ep       sail.Endpoint
		timeout  time.Duration
		interact func(h *harness, cancel context.CancelFunc) event.Sink // nil: plain sink
		tweak    func(o *Options)
		want     int
	}{
		{name: "verified", ep: sail.Responses, want: exitcode.OK},
		{name: "chat", ep: sail.Chat, want: exitcode.OK},
		{name: "messages", ep: sail.Messages, want: exitcode.OK},
		{name: "duplicate during settle", emu: emulator.Options{DuplicateWebhook: true}, ep: sail.Responses, want: exitcode.OK},
		{name: "wrong token", emu: emulator.Options{WrongToken: true}, ep: sail.Responses, want: exitcode.Verify},
		{name: "dropped webhook", emu: emulator.Options{DropWebhook: true}, ep: sail.Responses, want: exitcode.Verify},
		{name: "failed outcome", emu: emulator.Options{Outcome: "failed"}, ep: sail.Responses, want: exitcode.ResponseFailed},
		{name: "timeout", emu: emulator.Options{Latency: time.Minute}, ep: sail.Responses, timeout: 150 * time.Millisecond, want: exitcode.Timeout},
		{
			// The retries pending in the emulator and the run's cancel
			// call are both cut short.
			name: "interrupt with cancel", emu: emulator.Options{Latency: time.Minute}, ep: sail.Responses, want: exitcode.Interrupted,
			tweak: func(o *Options) { o.CancelOnInterrupt = true },
			interact: func(h *harness, cancel context.CancelFunc) event.Sink {
				return event.SinkFunc(func(e event.Event) {
					h.events.Emit(e)
					if _, ok := e.(event.Created); ok {
						cancel()
					}
				})
			},
		},
		{
			// The run gives up before the first (failing) attempt; the
			// retry then finds the route gone, and the emulator's close
			// ends whatever is still being retried.
			name: "deliveries retried after the run", emu: emulator.Options{FailAttempts: 1, WebhookDelay: 50 * time.Millisecond}, ep: sail.Chat, want: exitcode.Verify,
			tweak: func(o *Options) { o.WebhookGrace = 10 * time.Millisecond },
		},
		{
			name: "tunnel drop", emu: emulator.Options{Latency: 30 * time.Millisecond, DropWebhook: true}, ep: sail.Responses, want: exitcode.Verify,
			interact: func(h *harness, _ context.CancelFunc) event.Sink {
				return event.SinkFunc(func(e event.Event) {
					h.events.Emit(e)
					if _, ok := e.(event.Created); ok {
						h.tun.drop()
					}
				})
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			h := openHarness(t, tc.emu)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 20 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			o := leakOptions(h, tc.ep)
			if tc.tweak != nil {
				tc.tweak(&o)
			}
			if tc.interact != nil {
				o.Sink = tc.interact(h, cancel)
			}
			_, err := Run(ctx, o)
			cancel()
			closeHarness(t, h)
			if got := exitcode.Of(err); got != tc.want {
				t.Errorf("exit %d (%v), want %d; events %s", got, err, tc.want, kinds(h.events))
			}
			goleak.VerifyNone(t, ignore)
		})
	}
}

// TestBatchOfRunsSharingAnInboxLeavesNoGoroutines runs several runs at once
// on one inbox, as a batch does, some of them cut short.
func TestBatchOfRunsSharingAnInboxLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	h := openHarness(t, emulator.Options{Latency: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			o := leakOptions(h, sail.Responses)
			o.EmitDeliveries = true
			o.Sink = event.Discard
			rctx := ctx
			if i%3 == 0 {
				var c context.CancelFunc
				rctx, c = context.WithTimeout(ctx, time.Millisecond)
				defer c()
			}
			_, err := Run(rctx, o)
			errs <- err
		}()
	}
	ok := 0
	for range 8 {
		if err := <-errs; err == nil {
			ok++
		} else if c := exitcode.Of(err); c != exitcode.Timeout {
			t.Errorf("run: exit %d (%v)", c, err)
		}
	}
	if ok != 5 {
		t.Errorf("%d of the 5 runs without a short deadline verified", ok)
	}
	cancel()
	closeHarness(t, h)
	goleak.VerifyNone(t, ignore)
}
