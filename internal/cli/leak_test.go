package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/testutil"
)

// TestMain fails the package if its tests leave a goroutine running; the
// tests below also check single commands on their own. Most tests wait
// (an emulator's latency, run's --settle), so eight per CPU run at once.
func TestMain(m *testing.M) {
	testutil.DefaultParallel(8 * runtime.GOMAXPROCS(0))
	goleak.VerifyTestMain(m)
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
	items := filepath.Join(t.TempDir(), "items.jsonl")
	if err := os.WriteFile(items, []byte("\"What is 1+1?\"\n\"What is 2+2?\"\n\"What is 3+3?\"\n\"What is 4+4?\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
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
			args: []string{"run", "--webhook", "--emulator", "-f", items, "--concurrency", "3", "--poll-interval", "20ms", "--webhook-grace", "100ms",
				"--metadata", "sail_emulator=drop_webhook"},
		},
		{
			name: "interrupted", interrupt: 200 * time.Millisecond, want: exitcode.Interrupted,
			args: []string{"run", "--webhook", "--emulator", "--json", "--emulator-latency", "1h", "--cancel-on-interrupt", twoPlusTwo},
		},
		{
			name: "batch interrupted", interrupt: 200 * time.Millisecond, want: exitcode.Interrupted,
			// The first Ctrl-C lets items in flight finish (docs/ci.md); here
			// --item-timeout ends them, as a second Ctrl-C would.
			args: []string{"run", "--webhook", "--emulator", "--emulator-latency", "1h", "--item-timeout", "500ms", "-f", items},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
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
			goleak.VerifyNone(t, ignore)
		})
	}
}

// TestListenCommandLeavesNoGoroutines runs `sail listen` in-process with a
// history and a forward target, delivers to it, then ends it the way
// Ctrl-C does.
func TestListenCommandLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
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
	goleak.VerifyNone(t, ignore)
}

// TestListenNgrokUnreachableLeavesNoGoroutines: the ngrok SDK retries for
// ever when its server cannot be reached; the --tunnel-timeout failure
// path must stop it, not leave it dialling in the background.
func TestListenNgrokUnreachableLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, out, errOut := execLeak(ctx, t, map[string]string{"NGROK_AUTHTOKEN": "leak-test-authtoken-1"},
		"listen", "--tunnel", "ngrok", "--ngrok-server-addr", "127.0.0.1:1", "--tunnel-timeout", "300ms", "--json")
	if code != exitcode.Tunnel {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitcode.Tunnel, out, errOut)
	}
	goleak.VerifyNone(t, ignore)
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitUntil(t, 10*time.Second, what, cond)
}

// TestRunAutoTokenIs256BitsAndNeverShown checks the CLI's wiring of
// --token auto (the default) end to end, which internal/webhook's test of
// NewToken alone cannot: the token sail run really puts in
// metadata.webhook_token, seen by the API, carries at least 256 random bits,
// is new on every run, is the one the delivery is checked against, and
// appears in neither stream nor the history.
func TestRunAutoTokenIs256BitsAndNeverShown(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(emulator.Options{RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var tokens, keys []string
	// In front of the emulator: note what each create asked for.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		keys = append(keys, r.Header.Get("Authorization"))
		if r.Method == http.MethodPost && r.URL.Path == "/v1/responses" {
			var req struct {
				Metadata map[string]string `json:"metadata"`
			}
			_ = json.Unmarshal(body, &req)
			tokens = append(tokens, req.Metadata["webhook_token"])
		}
		mu.Unlock()
		emu.ServeHTTP(w, r)
	}))
	defer api.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = emu.Close(ctx)
	}()

	const key = "sk-secret-cli-test-key-0123456789"
	for i := range 2 {
		state := t.TempDir()
		env := map[string]string{"SAIL_API_URL": api.URL + "/v1", "SAIL_API_KEY": key, "XDG_STATE_HOME": state}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		code, out, errOut := execLeak(ctx, t, env, "run", "--webhook", "--json", twoPlusTwo)
		cancel()
		if code != exitcode.OK || !strings.Contains(out, `"token_mode":"auto"`) || !strings.Contains(out, `"type":"verified"`) {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, code, out, errOut)
		}
		mu.Lock()
		if len(tokens) != i+1 {
			t.Fatalf("run %d: the API saw %d creates, want %d", i, len(tokens), i+1)
		}
		tok := tokens[i]
		mu.Unlock()
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw)*8 < 256 {
			t.Fatalf("run %d: the token sent is %d characters, %d decoded bits (%v); want ≥ 256 random bits", i, len(tok), len(raw)*8, err)
		}
		for _, secret := range []string{tok, key} {
			if strings.Contains(out, secret) || strings.Contains(errOut, secret) {
				t.Fatalf("run %d: a secret is printed in clear", i)
			}
		}
		files := 0
		err = filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(p)
			if err == nil && (bytes.Contains(b, []byte(tok)) || bytes.Contains(b, []byte(key))) {
				t.Errorf("run %d: %s holds a secret in clear", i, p)
			}
			return err
		})
		if err != nil || files == 0 {
			t.Fatalf("run %d: history not written (%d files, %v)", i, files, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if tokens[0] == tokens[1] {
		t.Fatal("two runs sent the same token: it is not generated per run")
	}
	for _, k := range keys {
		if k != "Bearer "+key {
			t.Fatalf("an API request went without the key (Authorization %d characters)", len(k))
		}
	}
}
