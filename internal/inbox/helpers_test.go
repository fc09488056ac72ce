package inbox

import (
	"context"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
)

// openLocal opens a real inbox (local tunnel on a free loopback port, the
// receiver behind webhook.NewServer) and closes it when the test ends.
func openLocal(t *testing.T, o webhook.Options) *Inbox {
	t.Helper()
	return openLocalServer(t, o, webhook.ServerOptions{})
}

// openLocalServer is openLocal with the server's timeouts set by so.
func openLocalServer(t *testing.T, o webhook.Options, so webhook.ServerOptions) *Inbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in, err := Open(ctx, Options{Tunnel: localTunnel(), Receiver: o, Server: so})
	if err != nil {
		t.Fatalf("open inbox: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := in.Close(ctx); err != nil {
			t.Errorf("close inbox: %v", err)
		}
	})
	return in
}

// settle waits until the receiver has emitted the events of every delivery
// answered so far.
func settle(t *testing.T, r *webhook.Receiver) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("receiver work did not finish: %v", err)
	}
}

// localTunnel is a loopback tunnel on a free port.
func localTunnel() tunnel.Options {
	return tunnel.Options{Provider: tunnel.Local, Addr: "127.0.0.1:0"}
}
