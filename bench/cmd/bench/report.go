package main

import (
	"fmt"
	"sort"
	"strings"
)

// Results is everything one run measured.
type Results struct {
	Machine        Machine         `json:"machine"`
	Command        string          `json:"command"`
	Quick          bool            `json:"quick"`
	Duration       string          `json:"duration"`
	BinaryBytes    int64           `json:"binary_bytes"`
	Baseline       string          `json:"baseline,omitempty"` // -baseline: the revision of the "baseline" receiver cells
	Receiver       []Cell          `json:"receiver"`
	OpenLoop       []Cell          `json:"open_loop"`
	ReceiverChecks []ReceiverCheck `json:"receiver_checks"`
	Big            []BigPayload    `json:"big_payload"`
	Chunked        []Chunked       `json:"chunked"`
	Dispatch       []Dispatch      `json:"dispatch"`
	CLI            *CLI            `json:"cli,omitempty"`
	Batch          []Batch         `json:"batch"`
	Micro          []Micro         `json:"micro"`
	MicroCommand   string          `json:"micro_command,omitempty"`
	MicroMissing   []string        `json:"micro_missing,omitempty"`
	Problems       []string        `json:"problems,omitempty"`
}

// Targets from the project's issues.
const (
	targetVsBare       = 0.8
	targetVsPython     = 10.0
	targetP99ms        = 10.0
	targetGrowthMiB    = 64.0
	targetDispatch     = 2000.0
	targetCompletedMs  = 300.0
	targetItemsPerSec  = 500.0
	targetBatchRSSMB   = 150.0
	flatRSSGrowthLimit = 1.25 // 10× the items may cost at most 25% more peak RSS
)

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (r *Results) cell(target string, size, conc int) (Cell, bool) {
	for _, c := range r.Receiver {
		if c.Target == target && c.Payload == size && c.Concurrency == conc {
			return c, true
		}
	}
	return Cell{}, false
}

// eachPair calls f for every payload size and concurrency that has both a
// receiver and a bare cell, in table order.
func (r *Results) eachPair(f func(size, conc int, rc, bc Cell)) {
	for _, size := range payloadSizes {
		for _, conc := range concurrency {
			rc, ok1 := r.cell("receiver", size, conc)
			bc, ok2 := r.cell("bare", size, conc)
			if ok1 && ok2 {
				f(size, conc, rc, bc)
			}
		}
	}
}

func sizeName(b int) string {
	switch {
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	case b >= 1<<10 && b%(1<<10) == 0:
		return fmt.Sprintf("%d KB", b>>10)
	}
	return fmt.Sprintf("%d B", b)
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// Markdown renders the generated section of BENCHMARKS.md: targets with
// ratios first, then the absolute numbers.
func (r *Results) Markdown() string {
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	m := r.Machine
	p("Measured %s on %d CPUs (%s), %s, %s, kernel %s, %s; commit %s; load average %s at the start, %s at the end. Command: `%s` (took %s).",
		m.Date, m.CPUs, m.CPUModel, m.GoVersion, m.OS, m.Kernel, m.Python, m.Commit, m.LoadStart, m.LoadEnd, r.Command, r.Duration)
	if r.Quick {
		p(" **-quick run: short bounds, numbers are rough.**")
	}
	p("\n\n### Targets\n\n")
	p("| measure | result | baseline (same run) | ratio | target | |\n|---|---|---|---|---|---|\n")
	r.targetRows(p)

	if len(r.Receiver) > 0 {
		p("\n### 1. Webhook receiver throughput and latency\n\n")
		p("Closed loop of N workers (one keep-alive connection each) sending distinct payloads; " +
			"receiver = sail's `webhook.Receiver` with token check and history on (store in a temp dir), served by `webhook.NewServer`; " +
			"bare = a `net/http` handler that reads the body into memory and answers 200, same server settings; " +
			"python = `bench/listener.py` (Sail's example, single-threaded, HTTP/1.0). Each Go cell is the median-throughput round of several alternating rounds.\n\n")
		p("| payload | conc. | receiver req/s | bare req/s | ×bare | python req/s | ×python | receiver p50 / p99 ms | bare p50 / p99 ms | python p50 / p99 ms |\n")
		p("|---|---|---|---|---|---|---|---|---|---|\n")
		r.eachPair(func(size, conc int, rc, bc Cell) {
			pc, okp := r.cell("python", size, conc)
			py, xpy, pylat := "–", "–", "–"
			if okp {
				py = fmt.Sprintf("%.0f", pc.RPS)
				if pc.Failed+pc.Unfinished > 0 {
					py += fmt.Sprintf(" (%d failed, %d cut off)", pc.Failed, pc.Unfinished)
				}
				if pc.RPS > 0 {
					xpy = fmt.Sprintf("%.1f×", rc.RPS/pc.RPS)
				}
				pylat = fmt.Sprintf("%.2f / %.1f", pc.P50ms, pc.P99ms)
			}
			p("| %s | %d | %.0f%s | %.0f%s | %.2f× | %s | %s | %.2f / %.2f | %.2f / %.2f | %s |\n",
				sizeName(size), conc, rc.RPS, failNote(rc), bc.RPS, failNote(bc), rc.RPS/bc.RPS, py, xpy,
				rc.P50ms, rc.P99ms, bc.P50ms, bc.P99ms, pylat)
		})
		p("\nCPU time per request (user + system of the whole process over the cell, 10 ms ticks): unlike throughput, hardly moved by other work on the machine, so this ratio is the steadiest measure of what the receiver costs.\n\n")
		p("| payload | conc. | receiver µs/req | bare µs/req | receiver ÷ bare | python µs/req | load generator µs/req (receiver cell) |\n|---|---|---|---|---|---|---|\n")
		r.eachPair(func(size, conc int, rc, bc Cell) {
			py := "–"
			if pc, ok := r.cell("python", size, conc); ok && pc.ServerCPUus > 0 {
				py = fmt.Sprintf("%.0f", pc.ServerCPUus)
			}
			p("| %s | %d | %.0f | %.0f | %.2f× | %s | %.0f |\n", sizeName(size), conc, rc.ServerCPUus, bc.ServerCPUus,
				safeDiv(rc.ServerCPUus, bc.ServerCPUus), py, rc.ClientCPUus)
		})
		r.baselineTable(p)
		if len(r.OpenLoop) > 0 {
			p("\nOpen loop, below saturation: the same rate for both, half the lower of the two closed-loop concurrency-50 throughputs, at most 50 in flight, latency from the scheduled send time (a server that falls behind pays for its queue). Rounds per target: %d, alternating; the round with the median p99 is shown.\n\n", r.openRounds())
			p("| payload | offered req/s | receiver done req/s | receiver p50 / p99 ms | bare done req/s | bare p50 / p99 ms |\n|---|---|---|---|---|---|\n")
			for _, size := range payloadSizes {
				rc, ok1 := r.openCell("receiver", size)
				bc, ok2 := r.openCell("bare", size)
				if ok1 && ok2 {
					p("| %s | %.0f | %.0f%s | %.2f / %.2f | %.0f%s | %.2f / %.2f |\n", sizeName(size), rc.OfferedRPS,
						rc.RPS, failNote(rc), rc.P50ms, rc.P99ms, bc.RPS, failNote(bc), bc.P50ms, bc.P99ms)
				}
			}
		}
		for _, k := range r.ReceiverChecks {
			p("\nReceiver bookkeeping, %s: %d answered 2xx, %d delivery events, %d verified (token ok), %d stored, %d rejected, %d duplicates — %s; peak RSS %.1f MiB.",
				sizeName(k.Payload), k.Answered2xx, k.Delivered, k.VerifiedOK, k.Stored, k.Rejected, k.Duplicates,
				map[bool]string{true: "consistent", false: "**inconsistent**"}[k.OK()], mib(k.PeakRSSKiB))
		}
		p("\n")
	}

	if len(r.Big) > 0 {
		p("\n### 2. 30 MiB payload, peak RSS growth of the server process\n\n")
		p("VmHWM reset (clear_refs) after start-up and GC; growth = VmHWM after the deliveries − VmRSS before.\n\n")
		p("| target | deliveries, one after another | accepted | RSS before MiB | growth after the first MiB | peak after all MiB | growth after all MiB | slowest ms |\n|---|---|---|---|---|---|---|---|\n")
		for _, g := range r.Big {
			acc := fmt.Sprintf("%d", g.Accepted)
			if g.Target == "receiver" {
				acc += fmt.Sprintf(" (%d verified, %d stored)", g.VerifiedOK, g.Stored)
			}
			p("| %s | %d × %s | %s | %.1f | %.1f | %.1f | %.1f | %.0f |\n", g.Target, g.Deliveries, sizeName(g.Bytes), acc,
				mib(g.RSSBeforeKiB), mib(g.FirstGrowthKiB), mib(g.PeakKiB), mib(g.GrowthKiB), g.LatencyMs)
		}
	}

	if len(r.Chunked) > 0 {
		p("\n### 2b. Chunked bodies (no Content-Length), peak RSS of the server process\n\n")
		p("Each case on a fresh server process; VmHWM reset after start-up; growth = VmHWM after − VmRSS before. The receiver's limit is 32 MiB, its in-flight budget 64 MiB.\n\n")
		p("| target | case | answers | no answer | RSS before MiB | peak MiB | growth MiB |\n|---|---|---|---|---|---|---|\n")
		for _, c := range r.Chunked {
			p("| %s | %s | %s | %d | %.1f | %.1f | %.1f |\n", c.Target, c.Case, statuses(c.Statuses), c.Errors, mib(c.RSSBeforeKiB), mib(c.PeakKiB), mib(c.GrowthKiB))
		}
	}

	if len(r.Dispatch) > 0 {
		p("\n### 3. Emulator webhook dispatch\n\n")
		p("Background creates straight into the emulator's handler (8 goroutines, latency 0, no retries); deliveries over loopback; " +
			"timed from the first create to the last 2xx.\n\n")
		p("| to | deliveries | ok | failed | payload B | elapsed ms | deliveries/s |\n|---|---|---|---|---|---|---|\n")
		for _, d := range r.Dispatch {
			to := d.Target
			if d.Target == "receiver" {
				to += fmt.Sprintf(" (%d verified, %d stored)", d.VerifiedOK, d.Stored)
			}
			p("| %s | %d | %d | %d | %d | %.0f | %.0f |\n", to, d.Deliveries, d.OK, d.Failed, d.PayloadBytes, d.ElapsedMs, d.PerSecond)
		}
	}

	if c := r.CLI; c != nil {
		p("\n### 4. CLI start → completed\n\n")
		p("%d runs each, interleaved, of the stripped binary (`go build -ldflags \"-s -w\" -trimpath`, %.1f MiB); fresh HOME/XDG dirs, history on.\n\n",
			c.Runs, float64(r.BinaryBytes)/(1<<20))
		p("| command | p50 ms | p95 ms | peak RSS MiB (one extra run, %s) |\n|---|---|---|---|\n", c.RSSMethod)
		p("| `sail version` (start → exit) | %.1f | %.1f | %.1f |\n", c.VersionP50ms, c.VersionP95ms, mib(c.VersionRSSKiB))
		p("| `sail run --webhook --emulator --json` (start → `completed` event) | %.1f | %.1f | %.1f |\n", c.CompletedP50, c.CompletedP95, mib(c.RunRSSKiB))
		p("| same, start → exit (includes `--settle` 200 ms) | %.1f | | |\n", c.ExitP50ms)
		p("\n%d of %d runs verified (webhook delivered, matches GET).", c.Verified, c.Runs)
		if c.FirstError != "" {
			p(" First error: `%s`", oneLine(c.FirstError))
		}
		p("\n")
	}

	if len(r.Batch) > 0 {
		p("\n### 5. Batch\n\n`sail run --webhook --emulator -f items.jsonl --concurrency %d -o results.jsonl`, emulator latency 0.\n\n", batchConcurrency)
		p("items/s = verified items ÷ wall time from process start to exit. The summary line is what the batch itself reports; after it, the process only shuts down.\n\n")
		p("The `process` rows are a diagnostic: the same batch against a separate `sail emulator` process (`SAIL_API_URL`), so the batch process's peak RSS excludes the emulator, which keeps every response it served (up to 10,000) in memory.\n\n")
		p("| emulator | items | results | verified | exit | wall s | items/s | start → summary s | summary says | create→webhook p50 / p95 / max ms | peak RSS MiB | emulator process peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, x := range r.Batch {
			emu := "–"
			if x.EmulatorRSSKiB > 0 {
				emu = fmt.Sprintf("%.1f", mib(x.EmulatorRSSKiB))
			}
			p("| %s | %d | %d | %d | %d | %.2f | %.0f | %.2f | %s | %d / %d / %d | %.1f | %s |\n", x.Emulator, x.Items, x.Results, x.Verified, x.ExitCode,
				x.WallMs/1000, x.ItemsPerSec, x.SummaryMs/1000, x.OwnElapsed, x.P50ms, x.P95ms, x.MaxMs, mib(x.MaxRSSKiB), emu)
		}
		p("\nPeak RSS by %s.\n", r.Batch[0].RSSMethod)
		for _, x := range r.Batch {
			if x.Error != "" {
				p("\n%d items: `%s`", x.Items, oneLine(x.Error))
			}
		}
		p("\n")
	}

	if len(r.Micro) > 0 || r.MicroCommand != "" {
		p("\n### Go microbenchmarks\n\n`%s`\n\n", r.MicroCommand)
		p("| package | benchmark | metrics |\n|---|---|---|\n")
		for _, mb := range r.Micro {
			var parts []string
			for _, u := range mb.Order {
				parts = append(parts, mb.Metrics[u]+" "+u)
			}
			p("| %s | %s | %s |\n", mb.Package, mb.Name, strings.Join(parts, ", "))
		}
		if len(r.MicroMissing) > 0 {
			p("\nNot found: %s.\n", strings.Join(r.MicroMissing, ", "))
		}
	}

	if len(r.Problems) > 0 {
		p("\n### Problems in this run\n\n")
		for _, pr := range r.Problems {
			p("- %s\n", strings.ReplaceAll(strings.TrimSpace(pr), "\n", "\n  "))
		}
	}
	return b.String()
}

// openCell returns the open-loop round with the median p99.
func (r *Results) openCell(target string, size int) (Cell, bool) {
	var cs []Cell
	for _, c := range r.OpenLoop {
		if c.Target == target && c.Payload == size {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return Cell{}, false
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].P99ms < cs[j].P99ms })
	return cs[len(cs)/2], true
}

func (r *Results) openRounds() int {
	n := 0
	for _, c := range r.OpenLoop {
		if c.Target == "receiver" && c.Payload == r.OpenLoop[0].Payload {
			n++
		}
	}
	return n
}

func failNote(c Cell) string {
	if c.Failed+c.Unfinished == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d failed)", c.Failed+c.Unfinished)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ReplaceAll(s, "`", "'")
}

// targetRows writes one row per target: the worst case where a target
// covers several cells.
func (r *Results) targetRows(p func(string, ...any)) {
	if len(r.Receiver) > 0 {
		var worstBare, worstPy *worst
		for _, size := range payloadSizes {
			for _, conc := range concurrency {
				rc, ok1 := r.cell("receiver", size, conc)
				bc, ok2 := r.cell("bare", size, conc)
				if ok1 && ok2 && bc.RPS > 0 {
					x := rc.RPS / bc.RPS
					if worstBare == nil || x < worstBare.ratio {
						worstBare = &worst{x, rc, bc}
					}
				}
				pc, ok3 := r.cell("python", size, conc)
				if ok1 && ok3 && pc.RPS > 0 {
					x := rc.RPS / pc.RPS
					if worstPy == nil || x < worstPy.ratio {
						worstPy = &worst{x, rc, pc}
					}
				}
			}
		}
		if w := worstBare; w != nil {
			p("| receiver throughput, worst of 6 cells (%s, conc. %d) | %.0f req/s | bare handler %.0f req/s | **%.2f×** | ≥ %.1f× | %s |\n",
				sizeName(w.rc.Payload), w.rc.Concurrency, w.rc.RPS, w.bc.RPS, w.ratio, targetVsBare, verdict(w.ratio >= targetVsBare))
		}
		r.baselineRow(p)
		if w := worstPy; w != nil {
			p("| receiver throughput vs Python, worst of 6 cells (%s, conc. %d) | %.0f req/s | Python listener %.0f req/s | **%.1f×** | ≥ %.0f× | %s |\n",
				sizeName(w.rc.Payload), w.rc.Concurrency, w.rc.RPS, w.bc.RPS, w.ratio, targetVsPython, verdict(w.ratio >= targetVsPython))
		}
		for _, size := range payloadSizes {
			rc, ok1 := r.cell("receiver", size, 50)
			bc, ok2 := r.cell("bare", size, 50)
			if ok1 && ok2 {
				p("| receiver p99 latency, %s, conc. 50, closed loop (saturated) | %.2f ms | bare handler %.2f ms | %.2f× | < %.0f ms | %s |\n",
					sizeName(size), rc.P99ms, bc.P99ms, safeDiv(rc.P99ms, bc.P99ms), targetP99ms, verdict(rc.P99ms < targetP99ms && rc.OK > 0))
			}
		}
		for _, size := range payloadSizes {
			rc, ok1 := r.openCell("receiver", size)
			bc, ok2 := r.openCell("bare", size)
			if ok1 && ok2 {
				p("| receiver p99 latency, %s, ≤ 50 in flight, open loop at %.0f req/s | %.2f ms | bare handler %.2f ms | %.2f× | < %.0f ms | %s |\n",
					sizeName(size), rc.OfferedRPS, rc.P99ms, bc.P99ms, safeDiv(rc.P99ms, bc.P99ms), targetP99ms, verdict(rc.P99ms < targetP99ms && rc.OK > 0))
			}
		}
		all := len(r.ReceiverChecks) > 0
		for _, k := range r.ReceiverChecks {
			all = all && k.OK()
		}
		p("| every 2xx verified and stored by the receiver | %s | | | all | %s |\n", map[bool]string{true: "yes", false: "no"}[all], verdict(all))
	}
	bare, rcv := byTarget(r.Big, func(b *BigPayload) string { return b.Target })
	if rcv != nil {
		for _, all := range []bool{false, true} {
			got, bareGot, what := rcv.FirstGrowthKiB, int64(0), "one 30 MiB payload"
			if bare != nil {
				bareGot = bare.FirstGrowthKiB
			}
			if all {
				got, what = rcv.GrowthKiB, fmt.Sprintf("%d × 30 MiB, one after another", rcv.Deliveries)
				if bare != nil {
					bareGot = bare.GrowthKiB
				}
			}
			base, ratio := "–", "–"
			if bare != nil {
				base = fmt.Sprintf("bare handler %.1f MiB", mib(bareGot))
				ratio = fmt.Sprintf("%.2f×", safeDiv(float64(got), float64(bareGot)))
			}
			ok := mib(got) < targetGrowthMiB && rcv.Accepted == rcv.Deliveries && rcv.Stored == int64(rcv.Deliveries)
			p("| %s: receiver peak RSS growth (%d of %d accepted and stored) | %.1f MiB | %s | %s | < %.0f MiB | %s |\n",
				what, rcv.Accepted, rcv.Deliveries, mib(got), base, ratio, targetGrowthMiB, verdict(ok))
		}
	}
	r.chunkedTargets(p)
	dBare, dRcv := byTarget(r.Dispatch, func(d *Dispatch) string { return d.Target })
	if dRcv != nil {
		base, ratio := "–", "–"
		if dBare != nil {
			base = fmt.Sprintf("to bare handler %.0f/s", dBare.PerSecond)
			ratio = fmt.Sprintf("%.2f×", safeDiv(dRcv.PerSecond, dBare.PerSecond))
		}
		ok := dRcv.PerSecond >= targetDispatch && dRcv.OK == int64(dRcv.Deliveries)
		p("| emulator dispatch to the receiver (%d of %d ok) | %.0f deliveries/s | %s | %s | ≥ %.0f/s | %s |\n",
			dRcv.OK, dRcv.Deliveries, dRcv.PerSecond, base, ratio, targetDispatch, verdict(ok))
	}
	if c := r.CLI; c != nil {
		ok := c.CompletedP50 > 0 && c.CompletedP50 < targetCompletedMs && c.Verified == c.Runs
		p("| `sail run --webhook --emulator` start → completed, p50 (p95 %.0f ms; %d/%d verified) | %.0f ms | `sail version` %.1f ms | %.1f× | < %.0f ms | %s |\n",
			c.CompletedP95, c.Verified, c.Runs, c.CompletedP50, c.VersionP50ms, safeDiv(c.CompletedP50, c.VersionP50ms), targetCompletedMs, verdict(ok))
	}
	if r.BinaryBytes > 0 {
		p("| stripped binary size | %.1f MiB | | | (reported) | |\n", float64(r.BinaryBytes)/(1<<20))
	}
	var embedded []Batch
	for _, x := range r.Batch {
		if x.Emulator == "embedded" {
			embedded = append(embedded, x)
		}
	}
	if len(embedded) > 0 {
		first, last := embedded[0], embedded[len(embedded)-1]
		for _, x := range embedded {
			all := x.Verified == x.Items && x.Results == x.Items
			p("| batch %d items: throughput (%d/%d verified) | %.0f items/s | | | ≥ %.0f items/s, all verified | %s |\n",
				x.Items, x.Verified, x.Items, x.ItemsPerSec, targetItemsPerSec, verdict(all && x.ItemsPerSec >= targetItemsPerSec))
			p("| batch %d items: create→webhook p95 | %d ms | | | (reported) | |\n", x.Items, x.P95ms)
		}
		if len(embedded) > 1 {
			growth := safeDiv(float64(last.MaxRSSKiB), float64(first.MaxRSSKiB))
			mb := float64(last.MaxRSSKiB) * 1024 / 1e6
			p("| batch %d items: peak RSS | %.0f MB | %d items: %.0f MB | %.2f× | < %.0f MB and flat (≤ %.2f×) | %s |\n",
				last.Items, mb, first.Items, float64(first.MaxRSSKiB)*1024/1e6, growth, targetBatchRSSMB, flatRSSGrowthLimit,
				verdict(last.MaxRSSKiB > 0 && mb < targetBatchRSSMB && growth <= flatRSSGrowthLimit))
		}
	}
}

// worst is the cell with the lowest ratio of receiver to baseline (bc).
type worst struct {
	ratio  float64
	rc, bc Cell
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// byTarget picks the bare-handler and receiver entries of a result list.
func byTarget[T any](xs []T, target func(*T) string) (bare, receiver *T) {
	for i := range xs {
		switch target(&xs[i]) {
		case "bare":
			bare = &xs[i]
		case "receiver":
			receiver = &xs[i]
		}
	}
	return bare, receiver
}

// chunkedTargets adds the chunked-body rows to the targets table.
func (r *Results) chunkedTargets(p func(string, ...any)) {
	for _, n := range []int{1, chunkedMany} {
		var bare, rcv *Chunked
		for i := range r.Chunked {
			if c := &r.Chunked[i]; c.Senders == n && c.Target == "bare" {
				bare = c
			} else if c.Senders == n && c.Target == "receiver" {
				rcv = c
			}
		}
		if rcv == nil {
			continue
		}
		got, bareGot, what, target := rcv.GrowthKiB, int64(0), "one 30 MiB payload, chunked: receiver peak RSS growth", targetGrowthMiB
		ok := rcv.Statuses[200] == 1 && rcv.Stored == 1
		if bare != nil {
			bareGot = bare.GrowthKiB
		}
		if n > 1 {
			got, what, target = rcv.PeakKiB, fmt.Sprintf("%d × 40 MB chunked at once: receiver peak RSS", n), targetManyMiB
			ok = rcv.Answered()
			if bare != nil {
				bareGot = bare.PeakKiB
			}
		}
		base, ratio := "–", "–"
		if bare != nil {
			base = fmt.Sprintf("bare handler %.1f MiB", mib(bareGot))
			ratio = fmt.Sprintf("%.2f×", safeDiv(float64(got), float64(bareGot)))
		}
		p("| %s (answers: %s; %d unanswered) | %.1f MiB | %s | %s | < %.0f MiB | %s |\n",
			what, statuses(rcv.Statuses), rcv.Errors, mib(got), base, ratio, target, verdict(ok && mib(got) < target))
	}
}

// statuses renders {413: 6, 503: 2} as "6×413, 2×503".
func statuses(m map[int]int) string {
	var codes []int
	for c := range m {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	out := ""
	for i, c := range codes {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d×%d", m[c], c)
	}
	if out == "" {
		return "none"
	}
	return out
}

// baselineRow is the target row of -baseline: the receiver's CPU per
// request against the baseline revision's, in the worst cell. "No worse"
// allows nothing for noise; the table below shows every cell.
func (r *Results) baselineRow(p func(string, ...any)) {
	var w *worst
	r.eachBaseline(func(_, _ int, rc, base, _ Cell) {
		if x := safeDiv(rc.ServerCPUus, base.ServerCPUus); base.ServerCPUus > 0 && (w == nil || x > w.ratio) {
			w = &worst{x, rc, base}
		}
	})
	if w != nil {
		p("| receiver CPU per request vs the receiver at `%s`, same rounds, worst of 6 cells (%s, conc. %d) | %.0f µs | `%s` %.0f µs | **%.2f×** | no worse (≤ 1.00×) | %s |\n",
			r.Baseline, sizeName(w.rc.Payload), w.rc.Concurrency, w.rc.ServerCPUus, r.Baseline, w.bc.ServerCPUus, w.ratio, verdict(w.ratio <= 1))
	}
}

// baselineTable compares the receiver with the baseline revision's, cell
// by cell, both as they are and as multiples of the bare handler.
func (r *Results) baselineTable(p func(string, ...any)) {
	first := true
	r.eachBaseline(func(size, conc int, rc, base, bc Cell) {
		if first {
			p("\nAgainst the receiver built from `%s` (`-baseline`), in the same alternating rounds:\n\n", r.Baseline)
			p("| payload | conc. | receiver µs/req | `%s` µs/req | receiver ÷ `%s` | receiver ÷ bare | `%s` ÷ bare | receiver req/s ÷ `%s`'s |\n|---|---|---|---|---|---|---|---|\n",
				r.Baseline, r.Baseline, r.Baseline, r.Baseline)
			first = false
		}
		p("| %s | %d | %.0f | %.0f | %.2f× | %.2f× | %.2f× | %.2f× |\n", sizeName(size), conc, rc.ServerCPUus, base.ServerCPUus,
			safeDiv(rc.ServerCPUus, base.ServerCPUus), safeDiv(rc.ServerCPUus, bc.ServerCPUus), safeDiv(base.ServerCPUus, bc.ServerCPUus),
			safeDiv(rc.RPS, base.RPS))
	})
}

// eachBaseline calls f for every cell measured for the receiver, the
// baseline revision's receiver and the bare handler.
func (r *Results) eachBaseline(f func(size, conc int, rc, base, bc Cell)) {
	r.eachPair(func(size, conc int, rc, bc Cell) {
		if base, ok := r.cell("baseline", size, conc); ok {
			f(size, conc, rc, base, bc)
		}
	})
}
