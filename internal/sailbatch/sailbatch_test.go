package sailbatch

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/inbox"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
)

type env struct {
	emu    *emulator.Emulator
	client *sail.Client
	in     *inbox.Inbox
}

func setup(t *testing.T, o emulator.Options) env {
	t.Helper()
	if o.RetryBackoff == 0 {
		o.RetryBackoff = time.Millisecond // a rejected delivery's retries are not what these tests wait for
	}
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	c, err := sail.New(sail.Options{BaseURL: srv.URL, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in, err := inbox.Open(ctx, inbox.Options{Tunnel: tunnel.Options{Provider: tunnel.Local, Addr: "127.0.0.1:0"}, Receiver: webhook.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = in.Close(ctx)
		srv.Close()
		_ = emu.Close(ctx)
	})
	return env{emu, c, in}
}

func lines(n int, extra func(i int) string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"custom_id":"c%d","input":"What is %d+%d?"%s}`+"\n", i, i, i, extra(i))
	}
	return b.String()
}

func none(int) string { return "" }

type collected struct {
	mu  sync.Mutex
	res []batch.Result
}

func (c *collected) add(r batch.Result) error {
	c.mu.Lock()
	c.res = append(c.res, r)
	c.mu.Unlock()
	return nil
}

func (c *collected) byID() map[string]batch.Result {
	m := map[string]batch.Result{}
	for _, r := range c.res {
		m[r.CustomID] = r
	}
	return m
}

func TestWebhooksVerifiedAcrossSplitBatches(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	// Registered first, so it runs after the emulator and inbox closed.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	e := setup(t, emulator.Options{})
	var got collected
	var batches []string
	sum, paths, err := Run(context.Background(), batch.NewReader(strings.NewReader(lines(25, none))), batch.Options{
		Webhook: true, Inbox: e.in, Defaults: sail.CreateRequest{Model: "moonshotai/Kimi-K2.5"},
		PollInterval: 20 * time.Millisecond, WebhookGrace: 5 * time.Second, OnResult: got.add,
	}, Options{API: e.client, Limits: sail.BatchLimits{MaxRequests: 10}, OnBatch: func(id string, n int) { batches = append(batches, fmt.Sprint(n)) }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(batches, ",") != "10,10,5" || len(paths.Batches) != 3 {
		t.Fatalf("batches %v, paths %+v", batches, paths)
	}
	if sum.Items != 25 || sum.Verified != 25 || paths.Webhook != 25 || paths.Poll != 0 || sum.ExitCode != 0 {
		t.Fatalf("summary %+v paths %+v", sum, paths)
	}
	r := got.byID()["c7"]
	if r.Verdict != "ok" || r.OutputText != "14" || r.WebhookMatchesGet == nil || !*r.WebhookMatchesGet || r.Line != 7 || r.Attempts != 1 {
		t.Fatalf("c7: %+v", r)
	}
	if st := e.emu.Stats(); st.Batches != 3 || st.Created != 0 {
		t.Fatalf("emulator stats %+v", st)
	}
}

func TestNoWebhookFinishesByPolling(t *testing.T) {
	e := setup(t, emulator.Options{NoBatchWebhooks: true})
	var got collected
	sum, paths, err := Run(context.Background(), batch.NewReader(strings.NewReader(lines(4, func(i int) string {
		if i == 2 {
			return `,"metadata":{"sail_emulator":"outcome=failed"}`
		}
		return ""
	}))), batch.Options{
		Webhook: true, Inbox: e.in, Defaults: sail.CreateRequest{Model: "moonshotai/Kimi-K2.5"},
		PollInterval: 20 * time.Millisecond, WebhookGrace: 50 * time.Millisecond, OnResult: got.add,
	}, Options{API: e.client})
	if exitcode.Of(err) != exitcode.Verify {
		t.Fatalf("err %v (exit %d), want exit 3", err, exitcode.Of(err))
	}
	if sum.WebhookMissing != 4 || paths.Poll != 4 || paths.Webhook != 0 {
		t.Fatalf("summary %+v paths %+v", sum, paths)
	}
	for id, r := range got.byID() {
		if r.Verdict != "not_delivered" || r.ExitCode != exitcode.Verify || r.ID == "" {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if r := got.byID()["c3"]; r.OutputText != "6" || r.Status != "completed" {
		t.Fatalf("c3: %+v", r)
	}
	if r := got.byID()["c2"]; r.Status != "failed" {
		t.Fatalf("c2: %+v", r)
	}
}

func TestWrongTokenAndResume(t *testing.T) {
	e := setup(t, emulator.Options{})
	var got collected
	input := lines(3, func(i int) string {
		if i == 3 {
			return `,"metadata":{"sail_emulator":"wrong_token"}`
		}
		return ""
	})
	_, _, err := Run(context.Background(), batch.NewReader(strings.NewReader(input)), batch.Options{
		Webhook: true, Inbox: e.in, Defaults: sail.CreateRequest{Model: "moonshotai/Kimi-K2.5"},
		PollInterval: 20 * time.Millisecond, WebhookGrace: time.Second, OnResult: got.add,
		Skip: func(key string) bool { return key == "c1" },
	}, Options{API: e.client})
	if exitcode.Of(err) != exitcode.Verify {
		t.Fatalf("err %v", err)
	}
	m := got.byID()
	if _, ok := m["c1"]; ok || len(m) != 2 {
		t.Fatalf("results %v", m)
	}
	if r := m["c3"]; r.Verdict != "mismatch" || r.ExitCode != exitcode.Verify || r.OutputText != "6" {
		t.Fatalf("c3: %+v", r)
	}
}

// Interrupted: the items still running get a line with exit 130 naming
// their batch, and nothing is left running.
func TestInterrupt(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	// Registered first, so it runs after the emulator and inbox closed.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	e := setup(t, emulator.Options{Latency: time.Hour})
	var got collected
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	_, _, err := Run(ctx, batch.NewReader(strings.NewReader(lines(5, none))), batch.Options{
		Webhook: true, Inbox: e.in, Defaults: sail.CreateRequest{Model: "moonshotai/Kimi-K2.5"},
		PollInterval: 10 * time.Millisecond, OnResult: got.add,
	}, Options{API: e.client, OnBatch: func(string, int) { once.Do(func() { time.AfterFunc(50*time.Millisecond, cancel) }) }})
	if !errors.Is(err, context.Canceled) && exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("err %v", err)
	}
	if len(got.res) != 5 {
		t.Fatalf("%d results", len(got.res))
	}
	for _, r := range got.res {
		if r.ExitCode != exitcode.Interrupted || !strings.Contains(r.Error, "sail batches results batch_") {
			t.Fatalf("result %+v", r)
		}
	}
}
