// Package inbox is a webhook endpoint that exists: a tunnel, a webhook
// receiver, and the HTTP server joining them, opened and closed as one.
// `sail listen`, `sail run --webhook` and batch runs all receive through it.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
)

// Options configures an inbox.
type Options struct {
	Tunnel   tunnel.Options
	Receiver webhook.Options
	Server   webhook.ServerOptions
}

// Inbox is an open webhook endpoint.
type Inbox struct {
	Tunnel   tunnel.Tunnel
	Receiver *webhook.Receiver

	srv      *http.Server
	fresh    freshConns
	stopped  chan error // receives once if the server stops before Close
	closeMu  sync.Mutex
	closed   bool
	serveEnd chan struct{}
}

// Open starts the tunnel and serves the receiver on it.
func Open(ctx context.Context, o Options) (*Inbox, error) {
	t, err := tunnel.Open(ctx, o.Tunnel)
	if err != nil {
		return nil, err
	}
	return serve(t, webhook.NewReceiver(o.Receiver), o.Server), nil
}

// Serve serves r on an already open tunnel, with the server's default
// timeouts.
func Serve(t tunnel.Tunnel, r *webhook.Receiver) *Inbox {
	return serve(t, r, webhook.ServerOptions{})
}

func serve(t tunnel.Tunnel, r *webhook.Receiver, so webhook.ServerOptions) *Inbox {
	in := &Inbox{
		Tunnel:   t,
		Receiver: r,
		srv:      webhook.NewServer(r, so),
		stopped:  make(chan error, 1),
		serveEnd: make(chan struct{}),
	}
	in.fresh.conns = map[net.Conn]struct{}{}
	in.srv.ConnState = in.fresh.track
	go func() {
		defer close(in.serveEnd)
		err := in.srv.Serve(t.Listener())
		in.closeMu.Lock()
		closed := in.closed
		in.closeMu.Unlock()
		if !closed {
			if err == nil || errors.Is(err, http.ErrServerClosed) {
				err = errors.New("listener closed")
			}
			in.stopped <- fmt.Errorf("%s tunnel stopped: %w", t.Provider(), err)
		}
	}()
	return in
}

// URL returns the public URL of path on this inbox.
func (in *Inbox) URL(path string) string {
	return strings.TrimRight(in.Tunnel.URL(), "/") + path
}

// Stopped delivers an error if the tunnel or server stops on its own (for
// example, the ngrok session dropped). It never fires after Close.
func (in *Inbox) Stopped() <-chan error { return in.stopped }

// Close drains in-flight requests (bounded by ctx), finishes the receiver's
// post-ack work and closes the tunnel.
func (in *Inbox) Close(ctx context.Context) error {
	in.closeMu.Lock()
	if in.closed {
		in.closeMu.Unlock()
		return nil
	}
	in.closed = true
	in.closeMu.Unlock()

	// Connections that never carried a request (a sender's spare pool
	// connections) would hold Shutdown for its whole deadline, leaving
	// nothing of it to drain the receiver's post-ack work: close them.
	stop := make(chan struct{})
	go func() {
		for {
			in.fresh.closeAll()
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	err := in.srv.Shutdown(ctx)
	close(stop)
	if err != nil {
		_ = in.srv.Close()
	}
	if rerr := in.Receiver.Close(ctx); err == nil {
		err = rerr
	}
	if terr := in.Tunnel.Close(); err == nil && terr != nil && !errors.Is(terr, http.ErrServerClosed) {
		err = terr
	}
	<-in.serveEnd
	return err
}

// freshConns tracks connections in http.StateNew: accepted, no request yet.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if state == http.StateNew {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		_ = c.Close()
		delete(f.conns, c)
	}
}
