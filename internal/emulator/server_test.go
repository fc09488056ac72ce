package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/testutil"
)

func TestStartAndShutdown(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	rcv := newReceiver(t, nil)
	r, err := Start(context.Background(), "127.0.0.1:0", Options{RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if r.Port() == 0 || r.BaseURL != fmt.Sprintf("http://127.0.0.1:%d/v1", r.Port()) || r.RootURL+"/v1" != r.BaseURL {
		t.Fatalf("Running = %+v", r)
	}
	body := strings.NewReader(`{"model":"zai-org/GLM-5","input":"1+2","metadata":{"completion_webhook":"` + rcv.URL + `"}}`)
	req, _ := http.NewRequest(http.MethodPost, r.BaseURL+"/responses", body)
	req.Header.Set("Authorization", "Bearer k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil || res.StatusCode != 200 || obj["status"] != StatusCompleted {
		t.Fatalf("create over TCP: %d %s", res.StatusCode, b)
	}
	testutil.WaitUntil(t, 10*time.Second, "webhook", func() bool { return len(r.Emulator.Attempts()) == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-r.Done()
	if r.Err() != nil {
		t.Errorf("Err after Shutdown = %v", r.Err())
	}
	if _, err := http.Get(r.BaseURL + "/models"); err == nil {
		t.Error("server still answers after Shutdown")
	}
	if err := r.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
	rcv.Close()
	// Everything Start began has ended.
	goleak.VerifyNone(t, ignore)
}

func TestStartStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, "127.0.0.1:0", Options{Latency: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// A foreground create waiting on a one-hour latency must not hold the
	// shutdown: it is answered 503.
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, r.BaseURL+"/responses", strings.NewReader(`{"model":"zai-org/GLM-5","input":"x"}`))
		req.Header.Set("Authorization", "Bearer k")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		res.Body.Close()
		done <- result{code: res.StatusCode}
	}()
	testutil.WaitUntil(t, 10*time.Second, "the create to be waiting", func() bool { return r.Emulator.active.Load() == 1 })
	cancel()
	<-r.Done()
	if res := <-done; res.err != nil || res.code != http.StatusServiceUnavailable {
		t.Errorf("pending foreground create got %+v, want 503", res)
	}
	testutil.WaitUntil(t, 10*time.Second, "emulator goroutines to exit", func() bool { return r.Emulator.active.Load() == 0 })
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(context.Background(), "127.0.0.1:0", Options{Outcome: "exploded"}); err == nil || !strings.Contains(err.Error(), "outcome") {
		t.Errorf("bad outcome: %v", err)
	}
	r, err := Start(context.Background(), "127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	if _, err := Start(context.Background(), r.Addr, Options{}); err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("address in use: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{
		{Outcome: "done"}, {Latency: -1}, {WebhookDelay: -1}, {DeliveryTimeout: -1},
		{RetryBackoff: -1}, {FailAttempts: -1}, {MaxResponses: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted invalid options", o)
		}
	}
}

// TestConcurrentCreates runs many creates, GETs and cancels at once, for
// the race detector and to check nothing is lost.
func TestConcurrentCreates(t *testing.T) {
	var received atomic.Int64
	rcv := newReceiver(t, func(int) int { received.Add(1); return http.StatusOK })
	e := newEmulator(t, Options{})
	const n = 200
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			md := map[string]string{}
			if i%3 == 0 {
				md[FaultKey] = "latency=1ms"
			}
			code, body := call(t, e, http.MethodPost, "/v1/responses", webhookReq(rcv.URL, md), nil)
			if code != http.StatusAccepted {
				t.Errorf("create %d: %d %s", i, code, body)
				return
			}
			var obj map[string]any
			_ = json.Unmarshal(body, &obj)
			ids[i], _ = obj["id"].(string)
			call(t, e, http.MethodGet, "/v1/responses/"+ids[i], nil, nil)
			if i%3 == 0 {
				call(t, e, http.MethodPost, "/v1/responses/"+ids[i]+"/cancel", nil, nil)
			}
		})
	}
	wg.Wait()
	settle(t, e)
	if got := received.Load(); got != n {
		t.Errorf("received %d webhooks, want %d", got, n)
	}
	seen := map[string]bool{}
	for _, a := range e.Attempts() {
		seen[a.ResponseID] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("no delivery for %s", id)
		}
	}
}
