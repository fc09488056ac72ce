package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/iostreams"
)

// batchHarness is a separate emulator (so the test sees what was created),
// an input file and a factory whose interrupts the test sends.
type batchHarness struct {
	emu    *emulator.Running
	dir    string
	f      *Factory
	errOut fmt.Stringer
	sigs   chan os.Signal
}

func newBatchHarness(t *testing.T, latency time.Duration, items int) *batchHarness {
	t.Helper()
	emu := startEmulator(t, emulator.Options{Latency: latency, RetryBackoff: 10 * time.Millisecond})
	dir := t.TempDir()
	var sb strings.Builder
	for i := range items {
		fmt.Fprintf(&sb, "{\"custom_id\":\"q%d\",\"input\":\"What is %d+1?\"}\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "in.jsonl"), []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, _, errOut := iostreams.Test()
	env := map[string]string{"HOME": dir, "XDG_STATE_HOME": dir, "SAIL_API_URL": emu.BaseURL, "SAIL_API_KEY": "k"}
	h := &batchHarness{emu: emu, dir: dir, errOut: errOut, sigs: make(chan os.Signal, 4)}
	h.f = NewFactory(s, func(k string) string { return env[k] })
	h.f.Interrupts = func() (<-chan os.Signal, func()) { return h.sigs, func() {} }
	return h
}

// start runs the batch in the background; the returned channel gives its
// exit code. ctx ending is the first Ctrl-C, as main's signal context.
func (h *batchHarness) start(ctx context.Context, extra ...string) <-chan int {
	args := append([]string{"run", "--webhook", "-f", filepath.Join(h.dir, "in.jsonl"), "-o", filepath.Join(h.dir, "out.jsonl"),
		"--concurrency", "2", "--poll-interval", "50ms"}, extra...)
	code := make(chan int, 1)
	go func() { code <- Execute(ctx, h.f, args) }()
	return code
}

func (h *batchHarness) waitCreated(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for h.emu.Emulator.Stats().Created < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d created", h.emu.Emulator.Stats().Created, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *batchHarness) results(t *testing.T) []batch.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []batch.Result
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r batch.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func waitCode(t *testing.T, code <-chan int) int {
	t.Helper()
	select {
	case c := <-code:
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("the batch did not end")
		return -1
	}
}

// The first Ctrl-C stops creating; the items in flight still finish and
// verify; the batch exits 130.
func TestBatchFirstInterruptLetsInFlightItemsFinish(t *testing.T) {
	t.Parallel()
	h := newBatchHarness(t, 300*time.Millisecond, 20)
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	code := h.start(ctx)
	h.waitCreated(t, 2)
	interrupt()
	h.sigs <- os.Interrupt // the same signal, as the process sees it
	if c := waitCode(t, code); c != 130 {
		t.Fatalf("exit %d, want 130: %s", c, h.errOut)
	}
	res := h.results(t)
	created := h.emu.Emulator.Stats().Created
	if created >= 20 || len(res) != created {
		t.Fatalf("%d created, %d results: creating must stop and every created item have its result", created, len(res))
	}
	for _, r := range res {
		if r.ExitCode != 0 || r.Verdict != "ok" {
			t.Errorf("item in flight at the first Ctrl-C did not finish: %+v", r)
		}
	}
	if !strings.Contains(h.errOut.String(), "waiting for those in flight (Ctrl-C again to abort them)") || !strings.Contains(h.errOut.String(), "--resume") {
		t.Errorf("stderr does not say how to finish:\n%s", h.errOut)
	}
}

// A second Ctrl-C aborts the items in flight: they are written as
// interrupted and the batch exits 130 without waiting for them.
func TestBatchSecondInterruptAbortsInFlightItems(t *testing.T) {
	t.Parallel()
	h := newBatchHarness(t, time.Hour, 20)
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	code := h.start(ctx)
	h.waitCreated(t, 2)
	interrupt()
	h.sigs <- os.Interrupt
	h.sigs <- os.Interrupt
	if c := waitCode(t, code); c != 130 {
		t.Fatalf("exit %d, want 130: %s", c, h.errOut)
	}
	res := h.results(t)
	if len(res) != 2 {
		t.Fatalf("%d results, want the 2 in flight", len(res))
	}
	for _, r := range res {
		if r.ExitCode != 130 || !strings.Contains(r.Error, "interrupted") {
			t.Errorf("aborted item: %+v", r)
		}
	}
}

// On a terminal the bar and ETA count a regular file's items up front: at
// 1 of 10 done the bar is a tenth full, whatever the reader has read ahead.
func TestBatchProgressCountsTheFileUpFront(t *testing.T) {
	t.Parallel()
	h := newBatchHarness(t, 0, 10)
	h.f.IO.StderrTTY = true
	// Each reading of the clock is a second later, so every result redraws.
	var mu sync.Mutex
	var tick time.Time
	h.f.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		tick = tick.Add(time.Second)
		return tick
	}
	if c := waitCode(t, h.start(context.Background(), "--concurrency", "1")); c != 0 {
		t.Fatalf("exit %d: %s", c, h.errOut)
	}
	s := h.errOut.String()
	want := "\r###........................... 1 of 10 done (0 failed)"
	if !strings.Contains(s, want) {
		t.Fatalf("stderr lacks %q:\n%q", want, s)
	}
	if !strings.Contains(s, "\r##############################") || !strings.Contains(s, " 10 of 10 done") {
		t.Fatalf("the bar never filled:\n%q", s)
	}
	if !regexp.MustCompile(`9 of 10 done \(0 failed\), [0-9.]+/s, ETA [0-9]+s`).MatchString(s) {
		t.Fatalf("no true ETA near the end:\n%q", s)
	}
}

// startEmulator serves the emulator on a loopback port until the test ends.
func startEmulator(t *testing.T, o emulator.Options) *emulator.Running {
	t.Helper()
	emu, err := emulator.Start(context.Background(), "127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		emu.Shutdown(ctx)
	})
	return emu
}
