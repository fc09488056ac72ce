package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/sailresearch/sail/bench/internal/fixture"
	"github.com/sailresearch/sail/bench/internal/loadgen"
	"github.com/sailresearch/sail/bench/internal/procstat"
	"github.com/sailresearch/sail/internal/webhook"
)

// Payload sizes of the receiver matrix, and its concurrency levels.
var (
	payloadSizes = []int{2 << 10, 200 << 10}
	concurrency  = []int{1, 50, 200}
)

// Cell is one target at one payload size and concurrency.
type Cell struct {
	Target      string    `json:"target"` // receiver | bare | python | baseline (-baseline)
	Payload     int       `json:"payload_bytes"`
	Concurrency int       `json:"concurrency"`
	OK          int       `json:"ok"`
	Failed      int       `json:"failed"`
	Unfinished  int       `json:"unfinished"`
	RPS         float64   `json:"rps"`
	P50ms       float64   `json:"p50_ms"`
	P99ms       float64   `json:"p99_ms"`
	MaxMs       float64   `json:"max_ms"`
	Rounds      []float64 `json:"rounds_rps,omitempty"`  // every round's throughput; the median round is reported
	OfferedRPS  float64   `json:"offered_rps,omitempty"` // open loop: the scheduled rate
	// CPU time per OK request (user + system, 10 ms ticks over the whole
	// cell) of the server process and of the load generator: unlike
	// throughput, hardly moved by other work on the machine.
	ServerCPUus float64 `json:"server_cpu_us_per_req"`
	ClientCPUus float64 `json:"client_cpu_us_per_req"`
	FirstError  string  `json:"first_error,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sample is one load run and the CPU time it cost on each side.
type sample struct {
	loadgen.Result
	serverCPU, clientCPU time.Duration
}

func cellOf(name string, size, conc int, r sample) Cell {
	c := Cell{
		Target: name, Payload: size, Concurrency: conc, OK: r.OK, Failed: r.Failed, Unfinished: r.Unfinished,
		RPS: r.Throughput(), P50ms: ms(r.Percentile(50)), P99ms: ms(r.Percentile(99)),
		MaxMs: ms(r.Percentile(100)), FirstError: r.FirstError,
	}
	if r.OK > 0 {
		c.ServerCPUus = float64(r.serverCPU.Microseconds()) / float64(r.OK)
		c.ClientCPUus = float64(r.clientCPU.Microseconds()) / float64(r.OK)
	}
	return c
}

// receiverMatrix is part 1: receiver vs bare handler vs Python listener.
func (c *config) receiverMatrix(ctx context.Context, res *Results) error {
	var seq uint64
	for _, size := range payloadSizes {
		if err := c.matrixForSize(ctx, res, size, &seq); err != nil {
			return err
		}
	}
	return nil
}

func (c *config) matrixForSize(ctx context.Context, res *Results, size int, seq *uint64) error {
	token := webhook.NewToken()
	hist := filepath.Join(c.tmp, fmt.Sprintf("history-%d", size))
	rcv, err := c.startBenchserver(ctx, c.serverBin, "receiver", "-mode", "receiver", "-token", token, "-history", hist)
	if err != nil {
		return err
	}
	defer rcv.stop()
	rcv.Token = token
	bare, err := c.startBenchserver(ctx, c.serverBin, "bare", "-mode", "bare")
	if err != nil {
		return err
	}
	defer bare.stop()
	// The bare handler and Python ignore the token; it is sent anyway so
	// that every target gets the same request.
	bare.Token = token
	targets := []*target{bare, rcv}
	if c.baseBin != "" {
		base, err := c.startBenchserver(ctx, c.baseBin, "baseline", "-mode", "receiver", "-token", token, "-history", hist+"-baseline")
		if err != nil {
			return err
		}
		defer base.stop()
		base.Token = token
		targets = append(targets, base)
	}
	py, pyErr := c.startPython(ctx)
	if pyErr != nil {
		res.Problems = append(res.Problems, "python listener: "+pyErr.Error())
	} else {
		defer py.stop()
		py.Token = token
	}

	// The same payload for every target; only the URL in its metadata
	// names the receiver.
	tpl, err := fixture.NewResponse(size, rcv.URL, token)
	if err != nil {
		return err
	}
	sent := 0 // 2xx answers from the receiver, to check its counters
	for _, conc := range concurrency {
		// Warm up connections and the receiver's buffers; not measured.
		for _, t := range targets {
			r, err := c.load(ctx, t, tpl, conc, 100*conc, 150*time.Millisecond, seq)
			if err != nil {
				return err
			}
			if t == rcv {
				sent += r.OK
			}
		}
		// Rounds alternate targets so that a noisy moment hits them all.
		rounds := map[*target][]sample{}
		for range c.rounds {
			for _, t := range targets {
				r, err := c.load(ctx, t, tpl, conc, 200000, c.cellTime, seq)
				if err != nil {
					return err
				}
				rounds[t] = append(rounds[t], r)
				if t == rcv {
					sent += r.OK
				}
			}
		}
		for _, t := range targets {
			res.Receiver = append(res.Receiver, median(t.name, size, conc, rounds[t]))
		}
		if py != nil {
			// HTTPServer serves one request at a time (and HTTP/1.0, one
			// connection per request): bound it by count and by time.
			r, err := c.load(ctx, py, tpl, conc, 3000, c.pyTime, seq)
			if err != nil {
				return err
			}
			res.Receiver = append(res.Receiver, cellOf("python", size, conc, r))
		}
		c.logf("  %d B, concurrency %d done", size, conc)
	}
	// Open loop: the same offered rate for both, half of what the slower
	// of the two sustained at concurrency 50, at most 50 in flight. This
	// is latency below saturation; the closed-loop p99 above is latency at
	// saturation, where Little's law sets the mean ≈ 50 / throughput.
	bc, ok1 := res.cell("bare", size, 50)
	rc, ok2 := res.cell("receiver", size, 50)
	if rate := min(bc.RPS, rc.RPS) / 2; ok1 && ok2 && rate > 0 {
		for range c.rounds {
			for _, t := range []*target{bare, rcv} {
				r, err := c.loadRate(ctx, t, tpl, 50, rate, 2*c.cellTime, seq)
				if err != nil {
					return err
				}
				cell := cellOf(t.name, size, 50, r)
				cell.OfferedRPS = rate
				res.OpenLoop = append(res.OpenLoop, cell)
				if t == rcv {
					sent += r.OK
				}
			}
		}
	}
	st, err := rcv.command(ctx, "stats")
	if err != nil {
		return err
	}
	check := ReceiverCheck{Payload: size, Answered2xx: sent, Delivered: st.Requests, VerifiedOK: st.VerifiedOK,
		Stored: st.Stored, Rejected: st.Rejected, Duplicates: st.Duplicates, PeakRSSKiB: st.HWMKiB}
	res.ReceiverChecks = append(res.ReceiverChecks, check)
	return nil
}

// ReceiverCheck confirms that the receiver really verified and stored what
// it answered 2xx to, so its throughput is not that of a short cut.
type ReceiverCheck struct {
	Payload     int   `json:"payload_bytes"`
	Answered2xx int   `json:"answered_2xx"` // counted by the load generator
	Delivered   int64 `json:"delivered"`    // Delivery events the receiver emitted
	VerifiedOK  int64 `json:"verified_ok"`
	Stored      int64 `json:"stored"`
	Rejected    int64 `json:"rejected"`
	Duplicates  int64 `json:"duplicates"`
	PeakRSSKiB  int64 `json:"peak_rss_kib"`
}

// OK reports whether every 2xx was a verified, stored, first delivery.
func (k ReceiverCheck) OK() bool {
	n := int64(k.Answered2xx)
	return k.Delivered == n && k.VerifiedOK == n && k.Stored == n && k.Rejected == 0 && k.Duplicates == 0
}

// load runs the load generator (closed loop) against t with distinct
// payload ids.
func (c *config) load(ctx context.Context, t *target, tpl *fixture.Template, conc, maxReq int, d time.Duration, seq *uint64) (sample, error) {
	return c.run(ctx, t, loadgen.Config{Concurrency: conc, MaxRequests: maxReq, MaxDuration: d, Body: tpl.Build}, seq)
}

// loadRate runs it open-loop at rate requests/s.
func (c *config) loadRate(ctx context.Context, t *target, tpl *fixture.Template, conc int, rate float64, d time.Duration, seq *uint64) (sample, error) {
	return c.run(ctx, t, loadgen.Config{Concurrency: conc, MaxRequests: int(rate*d.Seconds()) + 1, MaxDuration: d, Rate: rate, Body: tpl.Build}, seq)
}

func (c *config) run(ctx context.Context, t *target, lc loadgen.Config, seq *uint64) (sample, error) {
	client := loadgen.NewClient(lc.Concurrency)
	defer client.CloseIdleConnections()
	lc.URL, lc.Token, lc.SeqBase = t.URL, t.Token, *seq
	lc.Drain, lc.Timeout = 3*time.Second, 5*time.Second
	s0, c0 := t.cpu(), selfCPU()
	r, err := loadgen.Run(ctx, client, lc)
	s1, c1 := t.cpu(), selfCPU()
	*seq += uint64(lc.MaxRequests) + uint64(lc.Concurrency) + 1
	return sample{Result: r, serverCPU: s1 - s0, clientCPU: c1 - c0}, err
}

// cpu is the target process's CPU time so far (0 if unreadable).
func (t *target) cpu() time.Duration {
	d, _ := procstat.CPU(t.cmd.Process.Pid)
	return d
}

// selfCPU is the bench process's CPU time: the load generator's cost.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// median returns the round with the median throughput, so that one noisy
// round neither flatters nor sinks a target.
func median(name string, size, conc int, rounds []sample) Cell {
	sort.Slice(rounds, func(i, j int) bool { return rounds[i].Throughput() < rounds[j].Throughput() })
	cell := cellOf(name, size, conc, rounds[len(rounds)/2])
	for _, r := range rounds {
		cell.Rounds = append(cell.Rounds, r.Throughput())
	}
	return cell
}

// BigPayload is part 2: one 30 MiB delivery, peak RSS growth measured in
// the server process.
type BigPayload struct {
	Target         string  `json:"target"`
	Bytes          int     `json:"bytes"`
	Deliveries     int     `json:"deliveries"`
	Accepted       int     `json:"accepted"`
	RSSBeforeKiB   int64   `json:"rss_before_kib"`
	PeakKiB        int64   `json:"peak_kib"`
	GrowthKiB      int64   `json:"growth_kib"`       // after all deliveries
	FirstGrowthKiB int64   `json:"first_growth_kib"` // after the first
	LatencyMs      float64 `json:"latency_ms"`       // slowest of the deliveries
	VerifiedOK     int64   `json:"verified_ok,omitempty"`
	Stored         int64   `json:"stored,omitempty"`
	PeakWasReset   bool    `json:"peak_was_reset"`
	FirstError     string  `json:"first_error,omitempty"`
}

// bigPayload sends three 30 MiB deliveries one after another to a fresh
// receiver and a fresh bare handler.
func (c *config) bigPayload(ctx context.Context, res *Results) error {
	const size = 30 << 20
	const n = 3
	token := webhook.NewToken()
	var seq uint64 = 1 << 40
	for _, mode := range []string{"bare", "receiver"} {
		args := []string{"-mode", mode}
		if mode == "receiver" {
			args = append(args, "-token", token, "-history", filepath.Join(c.tmp, "history-big"))
		}
		t, err := c.startBenchserver(ctx, c.serverBin, mode, args...)
		if err != nil {
			return err
		}
		t.Token = token
		err = func() error {
			defer t.stop()
			tpl, err := fixture.NewResponse(size, t.URL, token)
			if err != nil {
				return err
			}
			before, err := t.command(ctx, "mark")
			switch {
			case err != nil && before.HWMKiB == 0:
				return err
			case err != nil:
				// Without clear_refs the start-up peak stands; growth is
				// then measured from it, which can only understate.
				c.logf("  %v", err)
			}
			base := before.RSSKiB
			if !before.ResetPeak {
				base = before.HWMKiB
			}
			b := BigPayload{Target: mode, Bytes: size, Deliveries: n, RSSBeforeKiB: before.RSSKiB, PeakWasReset: before.ResetPeak}
			// The first delivery alone (the case), then the rest
			// back to back (one after another, no pause), which shows
			// whether a body not yet collected adds up.
			for i, batch := range []int{1, n - 1} {
				r, err := c.load(ctx, t, tpl, 1, batch, 30*time.Second, &seq)
				if err != nil {
					return err
				}
				after, err := t.command(ctx, "stats")
				if err != nil {
					return err
				}
				b.Accepted += r.OK
				b.LatencyMs = max(b.LatencyMs, ms(r.Percentile(100)))
				if b.FirstError == "" {
					b.FirstError = r.FirstError
				}
				b.PeakKiB, b.GrowthKiB = after.HWMKiB, after.HWMKiB-base
				if i == 0 {
					b.FirstGrowthKiB = b.GrowthKiB
				}
				b.VerifiedOK, b.Stored = after.VerifiedOK, after.Stored
			}
			res.Big = append(res.Big, b)
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}
