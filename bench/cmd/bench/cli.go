package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sailresearch/sail/bench/internal/fixture"
	"github.com/sailresearch/sail/bench/internal/loadgen"
	"github.com/sailresearch/sail/bench/internal/procstat"
)

// CLI is part 4: wall time of the built binary, N runs of each command,
// interleaved.
type CLI struct {
	Runs          int     `json:"runs"`
	VersionP50ms  float64 `json:"version_p50_ms"`
	VersionP95ms  float64 `json:"version_p95_ms"`
	CompletedP50  float64 `json:"run_completed_p50_ms"` // process start → "completed" event read
	CompletedP95  float64 `json:"run_completed_p95_ms"`
	ExitP50ms     float64 `json:"run_exit_p50_ms"` // process start → exit (includes --settle)
	Verified      int     `json:"verified"`        // runs that exited 0 with the webhook delivered and matching GET
	VersionRSSKiB int64   `json:"version_maxrss_kib"`
	RunRSSKiB     int64   `json:"run_maxrss_kib"`
	RSSMethod     string  `json:"rss_method"`
	FirstError    string  `json:"first_error,omitempty"`
}

// sailEnv isolates the binary from the user's config, history and keys.
func (c *config) sailEnv() []string {
	home := filepath.Join(c.tmp, "home")
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + c.tmp,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"NO_COLOR=1", "TERM=dumb",
	}
}

// gnuTime measures a child's peak RSS exactly. wait4's Maxrss cannot:
// Linux carries the parent's RSS at fork into the child's high-water mark
// across exec, so a child of this (large) bench process would report at
// least the bench's own RSS. /usr/bin/time is small, so what it reports is
// the child's.
const gnuTime = "/usr/bin/time"

// peakCmd is a command whose peak RSS is measured.
type peakCmd struct {
	*exec.Cmd
	rssFile string // /usr/bin/time's output, "" when it is not installed
}

// measured returns a command running name under /usr/bin/time when it is
// installed. Its process group is killed when ctx ends, so that the child
// does not outlive a killed /usr/bin/time.
func (c *config) measured(ctx context.Context, name string, args ...string) *peakCmd {
	p := &peakCmd{}
	if _, err := os.Stat(gnuTime); err == nil {
		p.rssFile = filepath.Join(c.tmp, fmt.Sprintf("rss-%d", time.Now().UnixNano()))
		args = append([]string{"-f", "%M", "-o", p.rssFile, "--", name}, args...)
		name = gnuTime
	}
	p.Cmd = exec.CommandContext(ctx, name, args...)
	p.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.Cancel = func() error { return syscall.Kill(-p.Process.Pid, syscall.SIGKILL) }
	p.Env = c.sailEnv()
	return p
}

// PeakKiB returns the child's peak RSS and how it was measured.
func (p *peakCmd) PeakKiB() (int64, string) {
	if p.rssFile != "" {
		b, err := os.ReadFile(p.rssFile)
		if err == nil {
			// The last line is the number; earlier ones are notes such as
			// "Command exited with non-zero status 3".
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if n, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64); err == nil {
				return n, "/usr/bin/time"
			}
		}
	}
	return maxRSS(p.ProcessState), "wait4 Maxrss (an upper bound: includes the bench's own RSS at fork)"
}

func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss // KiB on Linux
	}
	return 0
}

// cliLatency is part 4.
func (c *config) cliLatency(ctx context.Context, res *Results) error {
	if c.sailBin == "" {
		return errors.New("sail was not built")
	}
	out := CLI{Runs: c.cliRuns}
	var version, completed, exited []time.Duration
	// One unmeasured round first: page cache, history directory creation.
	for i := -1; i < c.cliRuns; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := c.sailVersion(ctx)
		if err != nil {
			return err
		}
		r, err := c.sailRunOnce(ctx)
		if err != nil && out.FirstError == "" {
			out.FirstError = err.Error()
		}
		if i < 0 {
			continue
		}
		version = append(version, v)
		if err == nil {
			completed = append(completed, r.completed)
			exited = append(exited, r.exit)
			if r.verified {
				out.Verified++
			}
		}
	}
	slices.Sort(version)
	slices.Sort(completed)
	slices.Sort(exited)
	out.VersionP50ms, out.VersionP95ms = ms(loadgen.Percentile(version, 50)), ms(loadgen.Percentile(version, 95))
	out.CompletedP50, out.CompletedP95 = ms(loadgen.Percentile(completed, 50)), ms(loadgen.Percentile(completed, 95))
	out.ExitP50ms = ms(loadgen.Percentile(exited, 50))
	// Peak RSS once each, under /usr/bin/time (not in the timed runs, to
	// keep its exec out of the timings).
	for _, x := range []struct {
		into *int64
		args []string
	}{
		{&out.VersionRSSKiB, []string{"version"}},
		{&out.RunRSSKiB, []string{"run", "--webhook", "--emulator", "--json", "What is 2+2?"}},
	} {
		cmd := c.measured(ctx, c.sailBin, x.args...)
		if outb, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("sail %s: %w: %s", x.args[0], err, tail(outb, 500))
		}
		*x.into, out.RSSMethod = cmd.PeakKiB()
	}
	res.CLI = &out
	return nil
}

func (c *config) sailVersion(ctx context.Context) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, c.sailBin, "version")
	cmd.Env = c.sailEnv()
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("sail version: %w: %s", err, tail(out, 500))
	}
	return time.Since(t0), nil
}

type runTiming struct {
	completed, exit time.Duration
	verified        bool
}

// sailRunOnce times `sail run --webhook --emulator --json` from process
// start to the completed event on stdout, and to exit.
func (c *config) sailRunOnce(ctx context.Context) (runTiming, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.sailBin, "run", "--webhook", "--emulator", "--json", "What is 2+2? Reply with just the number.")
	cmd.Env = c.sailEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return runTiming{}, err
	}
	var t runTiming
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return t, fmt.Errorf("start sail run: %w", err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var last struct {
		Type              string `json:"type"`
		WebhookDelivered  bool   `json:"webhook_delivered"`
		WebhookMatchesGet *bool  `json:"webhook_matches_get"`
		Source            string `json:"source"`
	}
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			continue
		}
		if last.Type == "completed" && t.completed == 0 {
			t.completed = time.Since(t0)
			t.verified = last.WebhookDelivered && last.WebhookMatchesGet != nil && *last.WebhookMatchesGet && last.Source == "webhook"
		}
	}
	err = cmd.Wait()
	t.exit = time.Since(t0)
	if err != nil {
		return t, fmt.Errorf("sail run --webhook --emulator: %w: %s", err, tail(stderr.Bytes(), 500))
	}
	if t.completed == 0 {
		return t, errors.New("sail run --webhook --emulator printed no completed event")
	}
	return t, nil
}

// Batch is part 5: one batch run.
type Batch struct {
	Items       int     `json:"items"`
	Concurrency int     `json:"concurrency"`
	Results     int     `json:"results"`  // result lines written
	Verified    int     `json:"verified"` // verdict ok and exit_code 0
	ExitCode    int     `json:"exit_code"`
	WallMs      float64 `json:"wall_ms"`
	ItemsPerSec float64 `json:"items_per_s"`
	P50ms       int64   `json:"create_to_webhook_p50_ms"`
	P95ms       int64   `json:"create_to_webhook_p95_ms"`
	MaxMs       int64   `json:"create_to_webhook_max_ms"`
	MaxRSSKiB   int64   `json:"maxrss_kib"`
	RSSMethod   string  `json:"rss_method"`
	// Emulator is "embedded" (--emulator) or "process" (a separate `sail
	// emulator`, whose own peak RSS is EmulatorRSSKiB).
	Emulator       string `json:"emulator"`
	EmulatorRSSKiB int64  `json:"emulator_peak_rss_kib,omitempty"`
	// SummaryMs is process start → the "N items: … verified in" summary
	// on stderr; the rest of WallMs is shutdown.
	SummaryMs  float64 `json:"summary_ms"`
	OwnElapsed string  `json:"own_elapsed,omitempty"` // the duration the summary line states
	Error      string  `json:"error,omitempty"`
}

const batchConcurrency = 64

// batch is part 5.
func (c *config) batch(ctx context.Context, res *Results) error {
	if c.sailBin == "" {
		return errors.New("sail was not built")
	}
	for _, external := range []bool{false, true} {
		for _, n := range c.batchSizes {
			b, err := c.batchRun(ctx, n, external)
			if err != nil {
				return err
			}
			res.Batch = append(res.Batch, b)
			c.logf("  %d items (%s): %.0f items/s, %d verified, peak RSS %d KiB", n, b.Emulator, b.ItemsPerSec, b.Verified, b.MaxRSSKiB)
		}
	}
	return nil
}

// batchRun runs one batch of n items against the embedded emulator
// (--emulator, the measurement the issue asks for) or, as a diagnostic,
// against a `sail emulator` process, so that the batch process's RSS
// excludes the emulator's memory of every response it served.
func (c *config) batchRun(ctx context.Context, n int, external bool) (Batch, error) {
	b := Batch{Items: n, Concurrency: batchConcurrency, Emulator: "embedded"}
	tag := fmt.Sprintf("%d-%v", n, external)
	items := filepath.Join(c.tmp, fmt.Sprintf("items-%d.jsonl", n))
	results := filepath.Join(c.tmp, "results-"+tag+".jsonl")
	if err := os.WriteFile(items, fixture.Items(n), 0o600); err != nil {
		return b, err
	}
	ctx, cancel := context.WithTimeout(ctx, 150*time.Second)
	defer cancel()
	args := []string{"run", "--webhook", "--emulator", "-f", items, "--concurrency", fmt.Sprint(batchConcurrency), "-o", results}
	var emu *exec.Cmd
	var apiURL string
	if external {
		b.Emulator = "process"
		var err error
		emu, apiURL, err = c.startEmulator(ctx, tag)
		if err != nil {
			return b, err
		}
		defer stopProcess(emu)
		args = slices.Delete(args, 2, 3) // no --emulator
	}
	cmd := c.measured(ctx, c.sailBin, args...)
	if external {
		cmd.Env = append(cmd.Env, "SAIL_API_URL="+apiURL, "SAIL_API_KEY=bench")
	}
	t0 := time.Now()
	stderr := &capped{max: 8 << 10, start: t0}
	cmd.Stderr = stderr
	err := cmd.Run()
	wall := time.Since(t0)
	b.WallMs = ms(wall)
	b.SummaryMs = ms(stderr.summaryAt)
	if m := summaryRE.FindSubmatch(stderr.Bytes()); m != nil {
		b.OwnElapsed = string(m[1])
	}
	b.MaxRSSKiB, b.RSSMethod = cmd.PeakKiB()
	if emu != nil {
		if m, err := procstat.Of(emu.Process.Pid); err == nil {
			b.EmulatorRSSKiB = m.HWMKiB
		}
	}
	if cmd.ProcessState != nil {
		b.ExitCode = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		b.Error = fmt.Sprintf("%v: %s", err, tail(stderr.Bytes(), 400))
	}
	f, err := os.Open(results)
	if err != nil {
		b.Error += fmt.Sprintf("; no results: %v", err)
		return b, nil
	}
	defer f.Close()
	var lat []int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r struct {
			Verdict           string `json:"verdict"`
			ExitCode          int    `json:"exit_code"`
			CreateToWebhookMS *int64 `json:"create_to_webhook_ms"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Error += "; bad result line: " + err.Error()
			continue
		}
		b.Results++
		if r.Verdict == "ok" && r.ExitCode == 0 {
			b.Verified++
		}
		if r.CreateToWebhookMS != nil {
			lat = append(lat, *r.CreateToWebhookMS)
		}
	}
	slices.Sort(lat)
	b.P50ms, b.P95ms, b.MaxMs = loadgen.Percentile(lat, 50), loadgen.Percentile(lat, 95), loadgen.Percentile(lat, 100)
	b.ItemsPerSec = float64(b.Verified) / wall.Seconds()
	return b, nil
}

// stopProcess interrupts cmd and kills it if it has not exited after 5 s.
func stopProcess(cmd *exec.Cmd) {
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// startEmulator starts `sail emulator` on a free loopback port and returns
// its base URL.
func (c *config) startEmulator(ctx context.Context, tag string) (*exec.Cmd, string, error) {
	urlFile := filepath.Join(c.tmp, "emulator-url-"+tag)
	cmd := exec.CommandContext(ctx, c.sailBin, "emulator", "--addr", "127.0.0.1:0", "--url-file", urlFile)
	cmd.Env = c.sailEnv()
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start sail emulator: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if b, err := os.ReadFile(urlFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return cmd, string(bytes.TrimSpace(b)), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, "", errors.New("sail emulator wrote no --url-file within 10 s")
}

// summaryRE finds the batch's summary line on stderr.
var summaryRE = regexp.MustCompile(`\d+ items: .*? in ([0-9.]+[µmn]?s)`)

// capped keeps the last max bytes written to it, and notes when the
// batch summary line arrived.
type capped struct {
	max       int
	buf       []byte
	start     time.Time
	summaryAt time.Duration
}

func (c *capped) Write(p []byte) (int, error) {
	if c.summaryAt == 0 && bytes.Contains(p, []byte(" items: ")) {
		c.summaryAt = time.Since(c.start)
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) > 2*c.max {
		c.buf = append(c.buf[:0], c.buf[len(c.buf)-c.max:]...)
	}
	return len(p), nil
}

func (c *capped) Bytes() []byte { return c.buf }
