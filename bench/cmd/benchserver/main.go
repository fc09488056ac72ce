// Command benchserver is a benchmark target run in its own process, so that
// its memory can be measured apart from the load generator's: either sail's
// webhook receiver (token check on, history in a directory) or a bare
// net/http handler that reads the body and answers 200.
//
// It prints {"addr":"127.0.0.1:PORT","path":"/…"} on stdout once listening,
// then answers one JSON line on stdout per command line on stdin:
//
//	stats   memory (VmRSS, VmHWM) and delivery counts
//	mark    garbage-collect, reset VmHWM to the current RSS, then stats
//
// and shuts down when stdin is closed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/sailresearch/sail/bench/internal/procstat"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/webhook"
)

// Stats is the answer to a command.
type Stats struct {
	procstat.Mem
	Requests   int64  `json:"requests"`    // bodies read (bare) or deliveries seen (receiver)
	VerifiedOK int64  `json:"verified_ok"` // receiver: accepted with verdict ok
	Stored     int64  `json:"stored"`      // receiver: accepted and given a history record id
	Rejected   int64  `json:"rejected"`    // receiver: answered non-2xx
	Duplicates int64  `json:"duplicates"`
	BodyBytes  int64  `json:"body_bytes"`
	ResetPeak  bool   `json:"reset_peak,omitempty"` // mark could reset VmHWM
	Error      string `json:"error,omitempty"`
}

type counters struct {
	requests, ok, stored, rejected, dups, bytes atomic.Int64
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "receiver", "receiver or bare")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	token := flag.String("token", "", "receiver: expected bearer token (required)")
	history := flag.String("history", "", "receiver: history directory (\"\" keeps no history)")
	maxBody := flag.Int64("max-body", webhook.DefaultMaxBody, "receiver: largest accepted body")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for go tool pprof)")
	flag.Parse()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("create CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	var c counters
	var handler http.Handler
	path := "/"
	var closeFn func(context.Context) error
	// wait lets the receiver finish its post-answer work (events), so the
	// counters include every delivery already answered.
	wait := func(context.Context) error { return nil }
	switch *mode {
	case "bare":
		// The baseline: what a minimal Go webhook endpoint does. It reads
		// the whole body into memory (any handler that uses the payload
		// must), and answers 200.
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			c.requests.Add(1)
			c.bytes.Add(int64(len(b)))
			w.WriteHeader(http.StatusOK)
		})
	case "receiver":
		if *token == "" {
			return errors.New("-token is required with -mode receiver")
		}
		var saver webhook.Saver
		if *history != "" {
			st, err := store.Open(*history, store.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			saver = st
		}
		// The sink only counts: the benchmark measures the receiver, not a
		// renderer.
		sink := event.SinkFunc(func(e event.Event) {
			d, ok := e.(event.Delivery)
			if !ok {
				return
			}
			c.requests.Add(1)
			c.bytes.Add(d.Bytes)
			switch {
			case !d.Accepted():
				c.rejected.Add(1)
			case d.Verdict == event.VerdictOK:
				c.ok.Add(1)
			}
			if d.Accepted() && d.RecordID != "" {
				c.stored.Add(1)
			}
			if d.Duplicate {
				c.dups.Add(1)
			}
		})
		rcv := webhook.NewReceiver(webhook.Options{MaxBody: *maxBody, Store: saver, Sink: sink})
		path = webhook.RandomPath()
		rcv.Handle(webhook.Route{Path: path, Token: *token})
		handler = rcv
		closeFn, wait = rcv.Close, rcv.Wait
	default:
		return fmt.Errorf("-mode %q: use receiver or bare", *mode)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	// Both targets get the receiver's production server settings, so the
	// comparison is between handlers.
	srv := webhook.NewServer(handler, webhook.ServerOptions{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(map[string]string{"addr": ln.Addr().String(), "path": path}); err != nil {
		return err
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var s Stats
		wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := wait(wctx); err != nil {
			s.Error = err.Error()
		}
		wcancel()
		switch sc.Text() {
		case "mark":
			runtime.GC()
			debug.FreeOSMemory()
			if err := procstat.ResetPeak(); err != nil && s.Error == "" {
				s.Error = err.Error()
			} else {
				s.ResetPeak = true
			}
		case "stats":
		default:
			s.Error = fmt.Sprintf("unknown command %q", sc.Text())
		}
		m, err := procstat.Self()
		if err != nil && s.Error == "" {
			s.Error = err.Error()
		}
		s.Mem = m
		s.Requests, s.VerifiedOK, s.Stored = c.requests.Load(), c.ok.Load(), c.stored.Load()
		s.Rejected, s.Duplicates, s.BodyBytes = c.rejected.Load(), c.dups.Load(), c.bytes.Load()
		if err := out.Encode(s); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(ctx)
	if closeFn != nil {
		err = errors.Join(err, closeFn(ctx))
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
