package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/sailresearch/sail/bench/internal/fixture"
	"github.com/sailresearch/sail/internal/webhook"
)

// Chunked is part "chunked": bodies sent without a Content-Length, which
// the server cannot size in advance, measured in a fresh server process.
type Chunked struct {
	Target       string      `json:"target"`
	Case         string      `json:"case"`
	Bytes        int         `json:"bytes"`   // per body
	Senders      int         `json:"senders"` // bodies sent at once
	Statuses     map[int]int `json:"statuses"`
	Errors       int         `json:"errors"` // no HTTP answer at all
	FirstError   string      `json:"first_error,omitempty"`
	RSSBeforeKiB int64       `json:"rss_before_kib"`
	PeakKiB      int64       `json:"peak_kib"`
	GrowthKiB    int64       `json:"growth_kib"`
	Stored       int64       `json:"stored,omitempty"`
	PeakWasReset bool        `json:"peak_was_reset"`
}

// Answered reports whether every body got an HTTP answer.
func (c Chunked) Answered() bool { return c.Errors == 0 }

// Chunked cases and targets (from the issue on the receiver's data path).
const (
	chunkedOneBytes  = 30 << 20
	chunkedManyBytes = 40_000_000
	chunkedMany      = 8
	targetManyMiB    = 200.0
)

// chunked sends, to a fresh receiver and a fresh bare handler each: one
// 30 MiB chunked payload (accepted), then eight 40 MB chunked bodies at
// once (over the 32 MiB limit).
func (c *config) chunked(ctx context.Context, res *Results) error {
	token := webhook.NewToken()
	for _, cs := range []struct {
		name    string
		size, n int
	}{
		{"one 30 MiB payload, chunked", chunkedOneBytes, 1},
		{fmt.Sprintf("%d × 40 MB bodies at once, chunked", chunkedMany), chunkedManyBytes, chunkedMany},
	} {
		for _, mode := range []string{"bare", "receiver"} {
			args := []string{"-mode", mode}
			if mode == "receiver" {
				args = append(args, "-token", token, "-history", filepath.Join(c.tmp, fmt.Sprintf("history-chunked-%d", cs.n)))
			}
			t, err := c.startBenchserver(ctx, c.serverBin, mode, args...)
			if err != nil {
				return err
			}
			r, err := c.chunkedCase(ctx, t, token, cs.size, cs.n)
			t.stop()
			if err != nil {
				return err
			}
			r.Target, r.Case = mode, cs.name
			res.Chunked = append(res.Chunked, r)
		}
	}
	return nil
}

func (c *config) chunkedCase(ctx context.Context, t *target, token string, size, n int) (Chunked, error) {
	r := Chunked{Bytes: size, Senders: n, Statuses: map[int]int{}}
	tpl, err := fixture.NewResponse(size, t.URL, token)
	if err != nil {
		return r, err
	}
	body := tpl.Build(nil, 1<<41)
	before, err := t.command(ctx, "mark")
	switch {
	case err != nil && before.HWMKiB == 0:
		return r, err
	case err != nil:
		c.logf("  %v", err)
	}
	base := before.RSSKiB
	if !before.ResetPeak {
		base = before.HWMKiB
	}
	r.RSSBeforeKiB, r.PeakWasReset = before.RSSKiB, before.ResetPeak
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b := bytes.Clone(body)
			copy(b[bytes.Index(b, []byte(`"resp_`))+6:], fmt.Sprintf("%08d", i))
			code, err := postChunked(ctx, t.URL, token, b)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.Errors++
				if r.FirstError == "" {
					r.FirstError = err.Error()
				}
				return
			}
			r.Statuses[code]++
		})
	}
	wg.Wait()
	after, err := t.command(ctx, "stats")
	if err != nil {
		return r, err
	}
	r.PeakKiB, r.GrowthKiB, r.Stored = after.HWMKiB, after.HWMKiB-base, after.Stored
	return r, nil
}

// postChunked sends body without a Content-Length, in 32 KiB writes, as a
// streaming sender would.
func postChunked(ctx context.Context, url, token string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, struct{ io.Reader }{bytes.NewReader(body)})
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}
