// Command bench measures sail's performance on loopback and writes the
// tables of BENCHMARKS.md. One run, from the repository root:
//
//	go run ./bench/cmd/bench -update BENCHMARKS.md
//
// It builds sail and the benchserver helper into a temporary directory,
// then measures, each against a baseline taken in the same run:
//
//  1. the webhook receiver (token check and history on) against a bare
//     net/http handler and Sail's Python example listener, at concurrency
//     1, 50 and 200 with 2 KB and 200 KB payloads;
//  2. peak RSS growth of the receiver while it accepts a 30 MiB payload;
//  3. the emulator's webhook dispatch rate to a local receiver;
//  4. `sail run --webhook --emulator` start → completed against `sail
//     version`, and the stripped binary size;
//  5. batch runs of 1,000 and 10,000 items;
//
// plus the Go microbenchmarks of internal/webhook, internal/payload and
// internal/emulator. -baseline REV adds the receiver built from another
// revision to the rounds of part 1, to compare with it in the same run.
// Every load is bounded in requests and time; the whole run takes about
// two minutes on two cores (-quick: well under one).
// Nothing here is a pass/fail test: targets are reported, not asserted.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is what the flags select.
type config struct {
	root        string // repository root (holds go.mod)
	tmp         string // scratch directory, removed at the end
	python      string
	quick       bool
	only        map[string]bool
	cellTime    time.Duration // per round, per Go target, per cell
	rounds      int
	pyTime      time.Duration
	cliRuns     int
	dispatchN   int
	batchSizes  []int
	microTime   string
	sailBin     string
	serverBin   string
	baseline    string // a git revision whose receiver runs beside this one (-baseline)
	baseBin     string // its benchserver
	logf        func(format string, args ...any)
	commandLine string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "short bounds: a smoke run of every part in well under a minute")
	only := flag.String("only", "", "comma-separated parts to run: receiver,memory,chunked,dispatch,cli,batch,micro (default all)")
	update := flag.String("update", "", "rewrite the generated section of this Markdown file (e.g. BENCHMARKS.md)")
	jsonOut := flag.String("json", "", "also write the raw results as JSON to this file")
	python := flag.String("python", "python3", "Python interpreter for the example listener")
	keep := flag.Bool("keep", false, "keep the temporary directory (binaries, histories, batch results)")
	baseline := flag.String("baseline", "", "also run the receiver built from this git revision in the same rounds (e.g. the commit a target was measured at)")
	flag.Parse()

	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "sail-bench-")
	if err != nil {
		return fmt.Errorf("create a temporary directory: %w", err)
	}
	if !*keep {
		defer os.RemoveAll(tmp)
	}
	c := &config{
		root: root, tmp: tmp, python: *python, quick: *quick, baseline: *baseline,
		cellTime: 600 * time.Millisecond, rounds: 3, pyTime: 1500 * time.Millisecond,
		cliRuns: 20, dispatchN: 5000, batchSizes: []int{1000, 10000}, microTime: "300ms",
		logf:        func(f string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+f+"\n", a...) },
		commandLine: "go run ./bench/cmd/bench " + strings.Join(os.Args[1:], " "),
	}
	if *quick {
		c.cellTime, c.rounds, c.pyTime = 200*time.Millisecond, 1, 500*time.Millisecond
		c.cliRuns, c.dispatchN, c.batchSizes, c.microTime = 5, 1000, []int{200, 1000}, "50ms"
	}
	if *only != "" {
		c.only = map[string]bool{}
		for _, p := range strings.Split(*only, ",") {
			switch p = strings.TrimSpace(p); p {
			case "receiver", "memory", "chunked", "dispatch", "cli", "batch", "micro":
				c.only[p] = true
			default:
				return fmt.Errorf("-only %q: parts are receiver, memory, chunked, dispatch, cli, batch, micro", p)
			}
		}
	}
	if *keep {
		c.logf("keeping %s", tmp)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The whole run is bounded, whatever a target does.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()

	started := time.Now()
	if l, err := strconv.ParseFloat(loadAvg(), 64); err == nil && l > float64(runtime.NumCPU()) {
		c.logf("load average %.1f on %d CPUs: other work is running, expect noisy numbers", l, runtime.NumCPU())
	}
	res := &Results{Machine: machine(ctx, root), Command: c.commandLine, Quick: c.quick}
	if err := c.build(ctx, res); err != nil {
		return err
	}
	parts := []struct {
		name string
		fn   func(context.Context, *Results) error
	}{
		{"receiver", c.receiverMatrix},
		{"memory", c.bigPayload},
		{"chunked", c.chunked},
		{"dispatch", c.dispatch},
		{"cli", c.cliLatency},
		{"batch", c.batch},
		{"micro", c.micro},
	}
	for _, p := range parts {
		if c.only != nil && !c.only[p.name] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped before %s: %w", p.name, err)
		}
		t0 := time.Now()
		c.logf("%s…", p.name)
		if err := p.fn(ctx, res); err != nil {
			// A part that cannot run is reported, and the others still run.
			res.Problems = append(res.Problems, fmt.Sprintf("%s: %v", p.name, err))
			c.logf("%s failed: %v", p.name, err)
		}
		c.logf("%s took %s", p.name, time.Since(t0).Round(100*time.Millisecond))
	}
	res.Duration = time.Since(started).Round(time.Second).String()
	res.Machine.LoadEnd = loadAvg()

	report := res.Markdown()
	fmt.Print(report)
	if *update != "" {
		if err := updateFile(*update, report); err != nil {
			return err
		}
		c.logf("updated %s", *update)
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *jsonOut, err)
		}
	}
	return nil
}

// build compiles sail (stripped, as released) and the benchserver helper
// once, into the temporary directory.
func (c *config) build(ctx context.Context, res *Results) error {
	c.sailBin = filepath.Join(c.tmp, "sail")
	c.serverBin = filepath.Join(c.tmp, "benchserver")
	c.logf("building sail and benchserver…")
	builds := [][]string{
		{"build", "-ldflags", "-s -w", "-trimpath", "-o", c.sailBin, "./cmd/sail"},
		{"build", "-o", c.serverBin, "./bench/cmd/benchserver"},
	}
	for _, args := range builds {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = c.root
		if out, err := cmd.CombinedOutput(); err != nil {
			target := args[len(args)-1]
			if target == "./cmd/sail" {
				// The receiver parts do not need the CLI: carry on and
				// report the parts that do as not measured.
				res.Problems = append(res.Problems, fmt.Sprintf("go build ./cmd/sail failed, CLI and batch parts not measured:\n%s", tail(out, 2000)))
				c.sailBin = ""
				continue
			}
			return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	if c.sailBin != "" {
		if fi, err := os.Stat(c.sailBin); err == nil {
			res.BinaryBytes = fi.Size()
		}
	}
	if c.baseline != "" {
		return c.buildBaseline(ctx, res)
	}
	return nil
}

// buildBaseline builds the benchserver of revision c.baseline from a copy
// of that revision's tree (git archive), so the working tree is untouched.
func (c *config) buildBaseline(ctx context.Context, res *Results) error {
	dir := filepath.Join(c.tmp, "baseline-src")
	c.baseBin = filepath.Join(c.tmp, "benchserver-baseline")
	c.logf("building the benchserver of %s…", c.baseline)
	script := `git -C "$3" rev-parse --verify --quiet "$1^{commit}" >/dev/null || { echo "$1 is not a commit of this repository (see git log)"; exit 2; }
mkdir -p "$2" && git -C "$3" archive --format=tar "$1" | tar -x -C "$2" && cd "$2" && go build -o "$4" ./bench/cmd/benchserver`
	cmd := exec.CommandContext(ctx, "sh", "-c", script, "sh", c.baseline, dir, c.root, c.baseBin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("-baseline %s: cannot build its benchserver: %w\n%s", c.baseline, err, tail(out, 2000))
	}
	res.Baseline = c.baseline
	return nil
}

// repoRoot finds the module root from the working directory.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the bench from inside the sail repository (go.mod not found)")
	}
	return filepath.Dir(mod), nil
}

// Machine describes where the numbers come from.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Kernel    string `json:"kernel"`
	Date      string `json:"date"`
	Commit    string `json:"commit"`
	Python    string `json:"python"`
	// Load averages (1 min) when the run started and ended: other work on
	// the machine shows up here, and in every absolute number.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

// loadAvg returns the 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func machine(ctx context.Context, root string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if out, err := exec.CommandContext(ctx, "nproc").Output(); err == nil {
		fmt.Sscan(string(out), &m.CPUs)
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	m.GoVersion = strings.TrimSpace(cmdOut(ctx, root, "go", "version"))
	m.Kernel = strings.TrimSpace(cmdOut(ctx, root, "uname", "-r"))
	m.Commit = strings.TrimSpace(cmdOut(ctx, root, "git", "rev-parse", "--short", "HEAD"))
	// BENCHMARKS.md is what this run rewrites: it does not make the
	// measured code differ from the commit.
	if strings.TrimSpace(cmdOut(ctx, root, "git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md")) != "" {
		m.Commit += " (+ uncommitted changes)"
	}
	m.Python = strings.TrimSpace(cmdOut(ctx, root, "python3", "--version"))
	m.LoadStart = loadAvg()
	return m
}

func cmdOut(ctx context.Context, dir, name string, args ...string) string {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return string(out)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// Markers delimit the generated part of BENCHMARKS.md; the prose around it
// is written by hand.
const (
	beginMarker = "<!-- bench:begin (generated by go run ./bench/cmd/bench; do not edit by hand) -->"
	endMarker   = "<!-- bench:end -->"
)

// updateFile replaces the text between the markers in path with report.
func updateFile(path, report string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	s := string(b)
	i := strings.Index(s, beginMarker)
	j := strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q … %q section to update", path, beginMarker, endMarker)
	}
	s = s[:i+len(beginMarker)] + "\n\n" + strings.TrimSpace(report) + "\n\n" + s[j:]
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
