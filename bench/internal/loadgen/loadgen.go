// Package loadgen is the benchmark's one HTTP load generator: a closed loop
// of Concurrency workers, each sending one POST after another, bounded in
// request count and in time. Every target (the webhook receiver, the bare
// net/http handler, the Python listener, the emulator) is driven by this code,
// so ratios between targets compare servers, not clients.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Body produces the body of one request. buf is the worker's previous body
// when it may be reused (nil otherwise); seq is the request's global number,
// unique within a run. It is called from the worker's goroutine only.
type Body func(buf []byte, seq uint64) []byte

// Config bounds and shapes one run.
type Config struct {
	URL         string
	Token       string // sent as "Authorization: Bearer <Token>" when not ""
	Concurrency int
	// MaxRequests bounds the requests started (all workers together).
	MaxRequests int
	// MaxDuration stops workers from starting new requests after this long.
	MaxDuration time.Duration
	// Drain bounds how long requests in flight at MaxDuration may take to
	// finish; after it they are cancelled and counted as Unfinished.
	// Default 5s.
	Drain time.Duration
	// Timeout bounds one request. Default 10s.
	Timeout time.Duration
	Body    Body
	// SeqBase offsets seq so that several runs against one server never
	// repeat a payload id.
	SeqBase uint64
	// Rate, when > 0, makes the run open-loop: requests are scheduled at
	// this many per second whatever the server does, and at most
	// Concurrency are in flight. Latency is then measured from each
	// request's scheduled time, so a server that falls behind is charged
	// for the queue it caused (no coordinated omission). 0 = closed loop:
	// each worker sends its next request as soon as the last one answered.
	Rate float64
}

// Result is what a run measured. Latency is from sending the request to
// having read the whole answer.
type Result struct {
	OK         int // 2xx answers
	Failed     int // non-2xx answers and transport errors
	Unfinished int // cancelled by the drain bound
	Elapsed    time.Duration
	Latencies  []time.Duration // of OK requests, sorted ascending
	Statuses   map[int]int     // HTTP status → count
	FirstError string          // the first failure, for the report
}

// Throughput is OK requests per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of OK latencies by
// the nearest-rank method, 0 without samples.
func (r Result) Percentile(p float64) time.Duration { return Percentile(r.Latencies, p) }

// Percentile returns the nearest-rank p-th percentile of sorted.
func Percentile[T int64 | time.Duration | float64](sorted []T, p float64) T {
	if len(sorted) == 0 {
		var zero T
		return zero
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// NewClient returns a client with one keep-alive connection per worker, no
// proxy and no compression: the load generator should add as little as it
// can to what is measured.
func NewClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency + 8,
		MaxIdleConnsPerHost: concurrency + 8,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      16 << 10,
	}}
}

// Run sends requests until MaxRequests have been started, MaxDuration has
// passed or ctx ends, then waits for those in flight (bounded by Drain).
func Run(ctx context.Context, client *http.Client, c Config) (Result, error) {
	if c.Concurrency <= 0 || c.MaxRequests <= 0 || c.MaxDuration <= 0 || c.Body == nil || c.URL == "" {
		return Result{}, errors.New("loadgen: URL, Body, Concurrency, MaxRequests and MaxDuration are required")
	}
	if c.Drain <= 0 {
		c.Drain = 5 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	start := time.Now()
	stopStarting := start.Add(c.MaxDuration)
	// In-flight requests get until the drain deadline; the context is
	// what cancels them, so that a wedged server cannot stall the bench.
	rctx, cancel := context.WithDeadline(ctx, stopStarting.Add(c.Drain))
	defer cancel()

	var tickets atomic.Int64
	// Open loop: a scheduler hands out send times; workers take them.
	var schedule chan time.Time
	if c.Rate > 0 {
		n := min(c.MaxRequests, int(c.Rate*c.MaxDuration.Seconds())+1)
		schedule = make(chan time.Time, n) // never blocks the scheduler
		go func() {
			defer close(schedule)
			interval := time.Duration(float64(time.Second) / c.Rate)
			for i := range n {
				at := start.Add(time.Duration(i) * interval)
				if d := time.Until(at); d > 0 {
					select {
					case <-time.After(d):
					case <-rctx.Done():
						return
					}
				}
				schedule <- at
			}
		}()
	}
	type partial struct {
		lat                []time.Duration
		failed, unfinished int
		statuses           map[int]int
		firstErr           string
	}
	parts := make([]partial, c.Concurrency)
	perWorker := c.MaxRequests/c.Concurrency + 1
	var wg sync.WaitGroup
	for w := range c.Concurrency {
		wg.Add(1)
		go func(p *partial) {
			defer wg.Done()
			p.lat = make([]time.Duration, 0, min(perWorker, 1<<16))
			p.statuses = map[int]int{}
			var buf []byte
			for {
				var t0 time.Time
				if schedule != nil {
					at, ok := <-schedule
					if !ok {
						return
					}
					t0 = at
				}
				n := tickets.Add(1)
				if n > int64(c.MaxRequests) || time.Now().After(stopStarting) || rctx.Err() != nil {
					return
				}
				body := c.Body(buf, c.SeqBase+uint64(n))
				if schedule == nil {
					t0 = time.Now()
				}
				status, err := post(rctx, client, c, body)
				d := time.Since(t0)
				if status != 0 {
					p.statuses[status]++
				}
				switch {
				case err == nil && status >= 200 && status < 300:
					p.lat = append(p.lat, d)
					// The server answered 2xx after reading the whole
					// body, so the transport is done with it.
					buf = body
					continue
				case rctx.Err() != nil:
					p.unfinished++
				default:
					p.failed++
					if p.firstErr == "" {
						if err != nil {
							p.firstErr = err.Error()
						} else {
							p.firstErr = fmt.Sprintf("HTTP %d", status)
						}
					}
				}
				// After a failure the transport may still be writing the
				// body from another goroutine: never reuse it.
				buf = nil
			}
		}(&parts[w])
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), Statuses: map[int]int{}}
	for _, p := range parts {
		res.Latencies = append(res.Latencies, p.lat...)
		res.Failed += p.failed
		res.Unfinished += p.unfinished
		for k, v := range p.statuses {
			res.Statuses[k] += v
		}
		if res.FirstError == "" {
			res.FirstError = p.firstErr
		}
	}
	res.OK = len(res.Latencies)
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	return res, nil
}

func post(ctx context.Context, client *http.Client, c Config, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	// Read the answer so the connection can be reused, bounded in case a
	// target answers with something huge.
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, err
}
