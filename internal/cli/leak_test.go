package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
)

// The goroutine-leak helpers below are repeated in internal/run and
// internal/emulator (test files cannot be shared without a package of their
// own). They compare goroutine ids, which the runtime never reuses, so a
// goroutine left over from an earlier test is never blamed on this one, and
// nothing depends on the total count.

// goroutines returns the stack of every live goroutine by id.
func goroutines() map[uint64]string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := make(map[uint64]string)
	for _, g := range strings.Split(string(buf), "\n\n") {
		var id uint64
		if _, err := fmt.Sscanf(g, "goroutine %d ", &id); err == nil {
			all[id] = g
		}
	}
	return all
}

// processWide are goroutines a library starts once per process and keeps
// on purpose; they are not leaks of the code under test.
var processWide = []string{
	"os/signal.signal_recv", // signal.Notify's reader
}

// leakedSince waits up to wait for every goroutine started after before
// was taken to exit, and returns the stacks of those still running.
func leakedSince(before map[uint64]string, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		var leaked []string
	next:
		for id, stack := range goroutines() {
			if _, old := before[id]; old {
				continue
			}
			for _, p := range processWide {
				if strings.Contains(stack, p) {
					continue next
				}
			}
			leaked = append(leaked, stack)
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			sort.Strings(leaked)
			return leaked
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkNoLeak fails t if goroutines started after before are still running
// 5 s later (they exit asynchronously once their connections close), and
// prints their stacks.
func checkNoLeak(t testing.TB, before map[uint64]string) {
	t.Helper()
	if leaked := leakedSince(before, 5*time.Second); len(leaked) > 0 {
		t.Errorf("%d goroutine(s) still running after everything was closed:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
}

// TestLeakHelperSeesALeak shows the helper can fail: a goroutine blocked
// on a channel is reported, with its stack, until it is released.
func TestLeakHelperSeesALeak(t *testing.T) {
	before := goroutines()
	release := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		<-release
	}()
	leaked := leakedSince(before, 50*time.Millisecond)
	if len(leaked) != 1 || !strings.Contains(leaked[0], "TestLeakHelperSeesALeak") {
		t.Fatalf("a blocked goroutine must be reported with its stack, got %d: %q", len(leaked), leaked)
	}
	close(release)
	<-exited
	if leaked := leakedSince(before, 5*time.Second); len(leaked) != 0 {
		t.Fatalf("an exited goroutine is still reported: %q", leaked)
	}
}

// execLeak runs sail in-process without a terminal, under ctx, with a
// private HOME and state directory plus env, and returns the exit code
// and both streams (read only after Execute returned).
func execLeak(ctx context.Context, t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	home := t.TempDir()
	all := map[string]string{"HOME": home, "XDG_STATE_HOME": home + "/state", "XDG_CONFIG_HOME": home + "/config"}
	for k, v := range env {
		all[k] = v
	}
	f := NewFactory(io, func(k string) string { return all[k] })
	code := Execute(ctx, f, args)
	return code, out.String(), errOut.String()
}

// TestRunCommandLeavesNoGoroutines runs `sail run --webhook --emulator`
// in-process, single and batch, finished and interrupted: the embedded
// emulator, the tunnel, the receiver, the store and the pollers must all
// be gone when Execute returns (give or take connection teardown).
func TestRunCommandLeavesNoGoroutines(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		interrupt time.Duration // cancel the context after this long
		want      int
	}{
		{name: "single", args: []string{"run", "--webhook", "--emulator", "--json", twoPlusTwo}, want: exitcode.OK},
		{name: "single, polled", args: []string{"run", "--emulator", "--json", twoPlusTwo}, want: exitcode.OK},
		{name: "webhook rejected", args: []string{"run", "--webhook", "--emulator", "--json", "--emulator-wrong-token", "--settle", "0s", twoPlusTwo}, want: exitcode.Verify},
		{
			name: "batch", want: exitcode.Verify,
			args: []string{"run", "--webhook", "--emulator", "--concurrency", "3", "--poll-interval", "20ms", "--webhook-grace", "100ms",
				"--metadata", "sail_emulator=drop_webhook", "What is 1+1?", "What is 2+2?", "What is 3+3?", "What is 4+4?"},
		},
		{
			name: "interrupted", interrupt: 200 * time.Millisecond, want: exitcode.Interrupted,
			args: []string{"run", "--webhook", "--emulator", "--json", "--emulator-latency", "1h", "--cancel-on-interrupt", twoPlusTwo},
		},
		{
			name: "batch interrupted", interrupt: 200 * time.Millisecond, want: exitcode.Interrupted,
			args: []string{"run", "--webhook", "--emulator", "--emulator-latency", "1h", "What is 1+1?", "What is 2+2?", "What is 3+3?"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := goroutines()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if tc.interrupt > 0 {
				// Stands in for Ctrl-C: main cancels Execute's context on SIGINT.
				timer := time.AfterFunc(tc.interrupt, cancel)
				defer timer.Stop()
			}
			code, out, errOut := execLeak(ctx, t, nil, tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, out, errOut)
			}
			cancel()
			checkNoLeak(t, before)
		})
	}
}

// TestListenCommandLeavesNoGoroutines runs `sail listen` in-process with a
// history and a forward target, delivers to it, then ends it the way
// Ctrl-C does.
func TestListenCommandLeavesNoGoroutines(t *testing.T) {
	before := goroutines()
	var forwarded atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		forwarded.Add(1)
	}))
	urlFile := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := execLeak(ctx, t, nil, "listen", "--addr", "127.0.0.1:0", "--path", "/sail", "--token", "leak-test-token-1",
			"--json", "--url-file", urlFile, "--forward-to", app.URL+"/hook")
		done <- result{code, out, errOut}
	}()
	var hook string
	waitFor(t, "the webhook URL", func() bool {
		b, err := os.ReadFile(urlFile)
		hook = strings.TrimSpace(string(b))
		return err == nil && hook != ""
	})
	c := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(fmt.Sprintf(`{"id":"resp_leak%d","object":"response","status":"completed"}`, i)))
		req.Header.Set("Authorization", "Bearer leak-test-token-1")
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("delivery %d answered %d", i, res.StatusCode)
		}
	}
	waitFor(t, "three forwards", func() bool { return forwarded.Load() == 3 })
	cancel() // Ctrl-C
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("listen did not end within 10s of its context")
	}
	if r.code != exitcode.OK || strings.Count(r.out, `"type":"delivery"`) != 3 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	c.CloseIdleConnections()
	app.Close()
	checkNoLeak(t, before)
}

// TestListenNgrokUnreachableLeavesNoGoroutines: the ngrok SDK retries for
// ever when its server cannot be reached; the --tunnel-timeout failure
// path must stop it, not leave it dialling in the background.
func TestListenNgrokUnreachableLeavesNoGoroutines(t *testing.T) {
	before := goroutines()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, out, errOut := execLeak(ctx, t, map[string]string{"NGROK_AUTHTOKEN": "leak-test-authtoken-1"},
		"listen", "--tunnel", "ngrok", "--ngrok-server-addr", "127.0.0.1:1", "--tunnel-timeout", "300ms", "--json")
	if code != exitcode.Tunnel {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitcode.Tunnel, out, errOut)
	}
	checkNoLeak(t, before)
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
