package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// serverStats mirrors benchserver's answer.
type serverStats struct {
	RSSKiB     int64  `json:"vm_rss_kib"`
	HWMKiB     int64  `json:"vm_hwm_kib"`
	Requests   int64  `json:"requests"`
	VerifiedOK int64  `json:"verified_ok"`
	Stored     int64  `json:"stored"`
	Rejected   int64  `json:"rejected"`
	Duplicates int64  `json:"duplicates"`
	BodyBytes  int64  `json:"body_bytes"`
	ResetPeak  bool   `json:"reset_peak"`
	Error      string `json:"error"`
}

// target is a server under load: a benchserver or the Python listener.
type target struct {
	name  string
	URL   string
	Token string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Scanner
	done   chan error
}

// startBenchserver starts the helper bin and waits for its address line.
func (c *config) startBenchserver(ctx context.Context, bin, name string, args ...string) (*target, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start benchserver: %w", err)
	}
	t := &target{name: name, cmd: cmd, stdin: stdin, stdout: bufio.NewScanner(stdout), done: make(chan error, 1)}
	t.stdout.Buffer(make([]byte, 64<<10), 1<<20)
	var hello struct{ Addr, Path string }
	if err := t.readLine(ctx, &hello); err != nil {
		t.kill()
		return nil, fmt.Errorf("benchserver %s did not start: %w", name, err)
	}
	t.URL = "http://" + hello.Addr + hello.Path
	return t, nil
}

// readLine decodes the next stdout line, bounded by ctx and 10 s.
func (t *target) readLine(ctx context.Context, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		if !t.stdout.Scan() {
			err := t.stdout.Err()
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			got <- err
			return
		}
		got <- json.Unmarshal(t.stdout.Bytes(), v)
	}()
	select {
	case err := <-got:
		return err
	case <-ctx.Done():
		// The reader goroutine ends when the process is killed.
		t.kill()
		return fmt.Errorf("no answer from %s: %w", t.name, ctx.Err())
	}
}

// command sends a benchserver command ("stats" or "mark").
func (t *target) command(ctx context.Context, cmd string) (serverStats, error) {
	var s serverStats
	if t.stdin == nil {
		return s, fmt.Errorf("%s takes no commands", t.name)
	}
	if _, err := io.WriteString(t.stdin, cmd+"\n"); err != nil {
		return s, fmt.Errorf("%s %s: %w", t.name, cmd, err)
	}
	if err := t.readLine(ctx, &s); err != nil {
		return s, err
	}
	if s.Error != "" {
		return s, fmt.Errorf("%s %s: %s", t.name, cmd, s.Error)
	}
	return s, nil
}

// stop ends the target: benchservers shut down when stdin closes; the
// Python listener is terminated. Killed after 5 s either way.
func (t *target) stop() {
	if t.stdin != nil {
		t.stdin.Close()
	} else {
		_ = t.cmd.Process.Signal(os.Interrupt)
	}
	go func() { t.done <- t.cmd.Wait() }()
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
		t.kill()
		<-t.done
	}
}

func (t *target) kill() { _ = t.cmd.Process.Kill() }

// startPython starts Sail's example listener with its output discarded,
// and waits until it accepts connections.
func (c *config) startPython(ctx context.Context) (*target, error) {
	portFile := filepath.Join(c.tmp, fmt.Sprintf("py-port-%d", time.Now().UnixNano()))
	cmd := exec.Command(c.python, filepath.Join(c.root, "bench", "listener.py"), "0", portFile)
	// Stdout and Stderr nil: the listener prints every payload and logs
	// every request; both go to /dev/null, as the brief's example would be
	// run in a benchmark.
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s bench/listener.py: %w (install python3 or pass -python)", c.python, err)
	}
	t := &target{name: "python", cmd: cmd, done: make(chan error, 1)}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(portFile); err == nil {
			port, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.stop()
				return nil, fmt.Errorf("python listener port file: %w", err)
			}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				conn.Close()
				t.URL = "http://" + addr + "/"
				return t, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.stop()
			return nil, errors.New("python listener did not start within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
