package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/webhook"
)

// Dispatch is part 3: how fast the emulator delivers webhooks to a local
// receiver.
type Dispatch struct {
	Target       string  `json:"target"` // receiver | bare
	Deliveries   int     `json:"deliveries"`
	OK           int64   `json:"ok"`
	Failed       int64   `json:"failed"`
	ElapsedMs    float64 `json:"elapsed_ms"`
	PerSecond    float64 `json:"per_second"`
	VerifiedOK   int64   `json:"verified_ok,omitempty"` // counted by the receiver
	Stored       int64   `json:"stored,omitempty"`
	PayloadBytes int     `json:"payload_bytes"`
	Error        string  `json:"error,omitempty"`
}

// dispatch creates N background responses in-process (straight into the
// emulator's handler, as BenchmarkDeliveries does, so that only the
// deliveries cross loopback) and times until every webhook was answered
// 2xx: first to the bare handler (baseline), then to the receiver.
func (c *config) dispatch(ctx context.Context, res *Results) error {
	token := webhook.NewToken()
	for _, mode := range []string{"bare", "receiver"} {
		args := []string{"-mode", mode}
		if mode == "receiver" {
			args = append(args, "-token", token, "-history", filepath.Join(c.tmp, "history-dispatch"))
		}
		t, err := c.startBenchserver(ctx, c.serverBin, mode, args...)
		if err != nil {
			return err
		}
		d, err := c.dispatchTo(ctx, t, token)
		if err == nil {
			var st serverStats
			st, err = t.command(ctx, "stats")
			if st.Requests > 0 {
				d.PayloadBytes = int(st.BodyBytes / st.Requests)
			}
			if mode == "receiver" {
				d.VerifiedOK, d.Stored = st.VerifiedOK, st.Stored
			}
		}
		t.stop()
		if err != nil {
			return err
		}
		res.Dispatch = append(res.Dispatch, d)
	}
	return nil
}

func (c *config) dispatchTo(ctx context.Context, t *target, token string) (Dispatch, error) {
	n := c.dispatchN
	d := Dispatch{Target: t.name, Deliveries: n}
	var ok, failed atomic.Int64
	allDone := make(chan struct{})
	var once sync.Once
	e, err := emulator.New(emulator.Options{
		MaxResponses: n + 16,
		MaxAttempts:  1, // a failure is counted, not retried, so the count is exact
		Log: func(a emulator.Attempt) {
			if a.OK() {
				ok.Add(1)
			} else {
				failed.Add(1)
			}
			if ok.Load()+failed.Load() >= int64(n) {
				once.Do(func() { close(allDone) })
			}
		},
	})
	if err != nil {
		return d, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = e.Close(cctx)
	}()
	body, err := json.Marshal(map[string]any{
		"model": "moonshotai/Kimi-K2.5", "input": "What is 2+2? Reply with just the number.", "background": true,
		"metadata": map[string]string{"completion_webhook": t.URL, "webhook_token": token},
	})
	if err != nil {
		return d, err
	}
	create := func() error {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/responses", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer bench")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 299 {
			return fmt.Errorf("emulator create: HTTP %d %s", rec.Code, rec.Body.Bytes())
		}
		return nil
	}

	const creators = 8
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, creators)
	var next atomic.Int64
	for range creators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := create(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return d, err
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case <-allDone:
	case <-timeout.C:
		d.Error = fmt.Sprintf("only %d of %d deliveries finished within 30 s", ok.Load()+failed.Load(), n)
	case <-ctx.Done():
		return d, ctx.Err()
	}
	elapsed := time.Since(start)
	d.OK, d.Failed = ok.Load(), failed.Load()
	d.ElapsedMs = ms(elapsed)
	d.PerSecond = float64(d.OK) / elapsed.Seconds()
	return d, nil
}
