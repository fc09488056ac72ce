package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/testutil"
)

// leakReceiver is a webhook endpoint whose answer the test picks: a status
// code, or hanging until the sender gives up.
func leakReceiver(status int, hang bool, hits *atomic.Int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hits.Add(1)
		if hang {
			<-r.Context().Done() // the emulator's abort closes the connection
			return
		}
		w.WriteHeader(status)
	}))
}

// post sends one API request the way an SDK would, on its own keep-alive
// transport (closed by the caller), and returns the status code.
func post(ctx context.Context, c *http.Client, url, body string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// TestStartShutdownLeavesNoGoroutines serves the emulator on TCP, puts it
// in each state a shutdown can find it in, shuts it down and checks that
// every goroutine begun since Start (server, lifecycles, deliveries and
// their retries, keep-alive connections on both sides) has ended.
func TestStartShutdownLeavesNoGoroutines(t *testing.T) {
	type setup struct {
		r    *Running
		hook string // the receiver's URL
		c    *http.Client
		hits *atomic.Int64
	}
	cases := []struct {
		name     string
		o        Options
		status   int  // the receiver's answer
		hang     bool // the receiver never answers
		grace    time.Duration
		wantErr  bool // Shutdown reports deliveries aborted at the end of grace
		exercise func(t *testing.T, s setup)
	}{
		{name: "idle", exercise: func(*testing.T, setup) {}},
		{
			name: "every endpoint delivered", status: http.StatusOK,
			exercise: func(t *testing.T, s setup) {
				md := `"metadata":{"completion_webhook":"` + s.hook + `","webhook_token":"tok-123456"}`
				for path, body := range map[string]string{
					"/responses":        `{"model":"zai-org/GLM-5","input":"1+2","background":true,` + md + `}`,
					"/chat/completions": `{"model":"zai-org/GLM-5","messages":[{"role":"user","content":"1+2"}],` + md + `}`,
					"/messages":         `{"model":"zai-org/GLM-5","max_tokens":64,"messages":[{"role":"user","content":"1+2"}],` + md + `}`,
				} {
					if code, err := post(context.Background(), s.c, s.r.BaseURL+path, body); err != nil || code/100 != 2 {
						t.Fatalf("POST %s: %d %v", path, code, err)
					}
				}
				testutil.WaitUntil(t, 10*time.Second, "three deliveries", func() bool { return s.hits.Load() == 3 })
			},
		},
		{
			name: "lifecycles pending", o: Options{Latency: time.Hour}, status: http.StatusOK,
			exercise: func(t *testing.T, s setup) {
				for range 5 {
					body := `{"model":"zai-org/GLM-5","input":"1+2","background":true,"metadata":{"completion_webhook":"` + s.hook + `"}}`
					if code, err := post(context.Background(), s.c, s.r.BaseURL+"/responses", body); err != nil || code != http.StatusAccepted {
						t.Fatalf("create: %d %v", code, err)
					}
				}
			},
		},
		{
			name: "retry waiting", o: Options{RetryBackoff: time.Hour}, status: http.StatusInternalServerError,
			grace: 100 * time.Millisecond, wantErr: true,
			exercise: func(t *testing.T, s setup) {
				body := `{"model":"zai-org/GLM-5","input":"1+2","background":true,"metadata":{"completion_webhook":"` + s.hook + `"}}`
				if code, err := post(context.Background(), s.c, s.r.BaseURL+"/responses", body); err != nil || code != http.StatusAccepted {
					t.Fatalf("create: %d %v", code, err)
				}
				testutil.WaitUntil(t, 10*time.Second, "the first attempt", func() bool { return len(s.r.Emulator.Attempts()) == 1 })
			},
		},
		{
			name: "delivery hanging", hang: true, grace: 100 * time.Millisecond, wantErr: true,
			exercise: func(t *testing.T, s setup) {
				body := `{"model":"zai-org/GLM-5","input":"1+2","background":true,"metadata":{"completion_webhook":"` + s.hook + `"}}`
				if code, err := post(context.Background(), s.c, s.r.BaseURL+"/responses", body); err != nil || code != http.StatusAccepted {
					t.Fatalf("create: %d %v", code, err)
				}
				testutil.WaitUntil(t, 10*time.Second, "the receiver to hold the delivery", func() bool { return s.hits.Load() == 1 })
			},
		},
		{
			name: "foreground create waiting", o: Options{Latency: time.Hour},
			exercise: func(t *testing.T, s setup) {
				go func() {
					// Answered 503 by the shutdown; the error is not the point.
					_, _ = post(context.Background(), s.c, s.r.BaseURL+"/responses", `{"model":"zai-org/GLM-5","input":"1+2"}`)
				}()
				testutil.WaitUntil(t, 10*time.Second, "the create to be waiting", func() bool { return s.r.Emulator.active.Load() == 1 })
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			var hits atomic.Int64
			rcv := leakReceiver(tc.status, tc.hang, &hits)
			if tc.o.RetryBackoff == 0 {
				tc.o.RetryBackoff = time.Millisecond
			}
			r, err := Start(context.Background(), "127.0.0.1:0", tc.o)
			if err != nil {
				t.Fatal(err)
			}
			tr := &http.Transport{}
			s := setup{r: r, hook: rcv.URL, c: &http.Client{Transport: tr}, hits: &hits}
			tc.exercise(t, s)

			grace := tc.grace
			if grace == 0 {
				grace = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			err = r.Shutdown(ctx)
			cancel()
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, context.DeadlineExceeded)) {
				t.Errorf("Shutdown: %v (want an aborted-deliveries error: %v)", err, tc.wantErr)
			}
			tr.CloseIdleConnections()
			rcv.Close()
			goleak.VerifyNone(t, ignore)
		})
	}
}

// TestStartContextEndLeavesNoGoroutines ends the emulator through Start's
// context, the way `sail run --emulator` does, while a foreground create
// waits and a delivery is being retried.
func TestStartContextEndLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	var hits atomic.Int64
	rcv := leakReceiver(http.StatusServiceUnavailable, false, &hits)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, "127.0.0.1:0", Options{Latency: 20 * time.Millisecond, RetryBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	c := &http.Client{Transport: tr}
	body := `{"model":"zai-org/GLM-5","input":"1+2","background":true,"metadata":{"completion_webhook":"` + rcv.URL + `"}}`
	if code, err := post(context.Background(), c, r.BaseURL+"/responses", body); err != nil || code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, err)
	}
	testutil.WaitUntil(t, 10*time.Second, "a retry", func() bool { return hits.Load() >= 2 })
	fg := make(chan struct{})
	go func() {
		defer close(fg)
		_, _ = post(context.Background(), c, r.BaseURL+"/responses", `{"model":"zai-org/GLM-5","input":"1+2","metadata":{"sail_emulator":"latency=1h"}}`)
	}()
	cancel()
	<-r.Done()
	<-fg
	// Shutdown after the context's own returns that shutdown's result once
	// it has finished, so the emulator is fully closed from here on.
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = r.Shutdown(sctx)
	tr.CloseIdleConnections()
	rcv.Close()
	goleak.VerifyNone(t, ignore)
}
