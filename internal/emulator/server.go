package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// shutdownGrace bounds the shutdown Start performs when its ctx ends.
const shutdownGrace = 5 * time.Second

// Running is an emulator served on a TCP address by Start.
type Running struct {
	// BaseURL is the OpenAI-style base URL, http://HOST:PORT/v1: give it to
	// openai-go (option.WithBaseURL) or set SAIL_API_URL to it.
	BaseURL string
	// RootURL is http://HOST:PORT, the base URL for anthropic-sdk-go, which
	// adds /v1/messages itself.
	RootURL string
	// Addr is the address actually listened on (HOST:PORT).
	Addr string
	// Emulator is the handler being served (Attempts, Close).
	Emulator *Emulator

	srv      *http.Server
	done     chan struct{}
	serveErr error
	stopOnce sync.Once
	stopErr  error
	watchEnd chan struct{}
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves an
// Emulator configured by o until Shutdown is called or ctx ends (then it
// shuts down with a 5 s grace). A host-less or unspecified address such as
// ":4010" is reported in BaseURL as 127.0.0.1 (or [::1]).
func Start(ctx context.Context, addr string, o Options) (*Running, error) {
	e, err := New(o)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on %s: %w (pick another --addr, or 127.0.0.1:0 for a free port)", addr, err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	root := "http://" + net.JoinHostPort(host, port)
	r := &Running{
		BaseURL: root + "/v1", RootURL: root, Addr: ln.Addr().String(), Emulator: e,
		srv: &http.Server{
			Handler:           e,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			// No WriteTimeout: a foreground create legitimately answers only
			// after twice the configured latency.
			IdleTimeout:    2 * time.Minute,
			MaxHeaderBytes: 1 << 20,
		},
		done:     make(chan struct{}),
		watchEnd: make(chan struct{}),
	}
	go func() {
		defer close(r.done)
		if err := r.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			r.serveErr = err
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			_ = r.Shutdown(sctx)
		case <-r.watchEnd:
		}
	}()
	return r, nil
}

// Port returns the TCP port listened on.
func (r *Running) Port() int {
	_, p, _ := net.SplitHostPort(r.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Done is closed when the server has stopped serving.
func (r *Running) Done() <-chan struct{} { return r.done }

// Err returns why serving stopped early, nil after a normal shutdown. Read
// it after Done is closed.
func (r *Running) Err() error {
	select {
	case <-r.done:
		return r.serveErr
	default:
		return nil
	}
}

// Shutdown stops accepting requests, unblocks foreground creates, waits
// (bounded by ctx) for open requests and in-flight webhook deliveries, then
// stops every goroutine. Later calls return the first call's result.
func (r *Running) Shutdown(ctx context.Context) error {
	r.stopOnce.Do(func() {
		close(r.watchEnd)
		// Stop lifecycles first so foreground handlers answer 503 at once
		// instead of holding the server's shutdown.
		r.Emulator.beginClose()
		err := r.srv.Shutdown(ctx)
		if err != nil {
			_ = r.srv.Close()
		}
		<-r.done
		r.stopErr = errors.Join(err, r.Emulator.Close(ctx))
	})
	return r.stopErr
}
