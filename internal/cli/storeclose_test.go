//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

// assertSegmentsReleased fails unless every history segment in dir can be
// locked exclusively: an open Store holds a flock on the segments it
// appends to until Close, so a store left open by a command shows here.
func assertSegmentsReleased(t *testing.T, dir string, wantFiles int) {
	t.Helper()
	var files []string
	for _, g := range []string{"seg-*.log", "rej-*.log"} {
		m, _ := filepath.Glob(filepath.Join(dir, g))
		files = append(files, m...)
	}
	if len(files) < wantFiles {
		t.Fatalf("%d segment files in %s, want at least %d", len(files), dir, wantFiles)
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		f.Close()
		if err != nil {
			t.Errorf("%s is still locked after the command returned (the store was not closed): %v", filepath.Base(name), err)
		}
	}
}

// The store is closed on every way out of run and listen.
func TestCommandsCloseTheStore(t *testing.T) {
	t.Parallel()
	const token = "close-test-token-1"
	post := func(t *testing.T, url, auth string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"id":"resp_close","object":"response","status":"completed"}`))
		req.Header.Set("Authorization", auth)
		res, err := (&http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	listen := func(t *testing.T, extra []string, act func(url string, cancel func())) (int, string) {
		dir := filepath.Join(t.TempDir(), "history")
		urlFile := filepath.Join(t.TempDir(), "url")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done := make(chan int, 1)
		go func() {
			code, _, _ := execLeak(ctx, t, nil, append([]string{"listen", "--addr", "127.0.0.1:0", "--path", "/sail", "--token", token,
				"--json", "--url-file", urlFile, "--history-dir", dir}, extra...)...)
			done <- code
		}()
		var url string
		waitFor(t, "the webhook URL", func() bool {
			b, err := os.ReadFile(urlFile)
			url = strings.TrimSpace(string(b))
			return err == nil && url != ""
		})
		act(url, cancel)
		select {
		case code := <-done:
			return code, dir
		case <-time.After(15 * time.Second):
			t.Fatal("listen did not end")
		}
		return 0, ""
	}
	t.Run("listen ended by Ctrl-C", func(t *testing.T) {
		code, dir := listen(t, nil, func(url string, cancel func()) {
			if c := post(t, url, "Bearer wrong-token-123456"); c != 401 {
				t.Fatalf("wrong token answered %d", c)
			}
			if c := post(t, url, "Bearer "+token); c != 200 {
				t.Fatalf("delivery answered %d", c)
			}
			cancel()
		})
		if code != exitcode.OK {
			t.Fatalf("exit %d", code)
		}
		assertSegmentsReleased(t, dir, 2)
	})
	t.Run("listen ended by --max-deliveries", func(t *testing.T) {
		code, dir := listen(t, []string{"--max-deliveries", "1"}, func(url string, _ func()) {
			if c := post(t, url, "Bearer "+token); c != 200 {
				t.Fatalf("delivery answered %d", c)
			}
		})
		if code != exitcode.OK {
			t.Fatalf("exit %d", code)
		}
		assertSegmentsReleased(t, dir, 1)
	})
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"run completed", nil, exitcode.OK},
		{"run with the webhook rejected", []string{"--emulator-wrong-token", "--settle", "0s"}, exitcode.Verify},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "history")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"run", "--webhook", "--emulator", "--json", "--history-dir", dir}, tc.args...)
			code, out, errOut := execLeak(ctx, t, nil, append(args, twoPlusTwo)...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.want, out, errOut)
			}
			assertSegmentsReleased(t, dir, 1)
		})
	}
}
