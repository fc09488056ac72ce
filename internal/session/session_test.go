package session

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/tunnel"
)

func runOptions(s *iostreams.IOStreams, provider string, history func() (*store.Store, error)) Options {
	rules := RunRules
	return Options{
		IO: s, Rules: &rules, Emulator: &emulator.Options{}, API: &API{},
		Receive: &Receive{Tunnel: tunnel.Options{Provider: provider, Addr: "127.0.0.1:0"}, History: history},
	}
}

// A session opens the emulator, the client, the history and the inbox,
// and Close leaves nothing running.
func TestOpenAndClose(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, _, _, _ := iostreams.Test()
	dir := t.TempDir()
	sess, err := Open(context.Background(), runOptions(s, "", func() (*store.Store, error) { return store.Open(dir, store.Options{}) }))
	if err != nil {
		t.Fatal(err)
	}
	if sess.Client == nil || sess.Inbox == nil || sess.Store == nil || !strings.HasPrefix(sess.APIURL, "http://127.0.0.1:") {
		t.Fatalf("client %v inbox %v store %v api %q", sess.Client, sess.Inbox, sess.Store, sess.APIURL)
	}
	if p := sess.Inbox.Tunnel.Provider(); p != tunnel.Local {
		t.Errorf("the emulator is on loopback: tunnel %q, want local", p)
	}
	sess.Close()
	if err := sess.Store.Save(&store.Record{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("the history is still open after Close: Save returned %v", err)
	}
}

// When a later part fails, what was opened is closed, and NDJSON readers
// see the error.
func TestOpenFailureReportsAndCloses(t *testing.T) {
	defer goleak.VerifyNone(t)
	s, _, out, _ := iostreams.Test()
	opened := false
	_, err := Open(context.Background(), runOptions(s, "carrier-pigeon", func() (*store.Store, error) {
		opened = true
		return nil, nil
	}))
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Fatalf("err %v", err)
	}
	if opened {
		t.Error("the history was opened although the tunnel could not be chosen")
	}
	if !strings.Contains(out.String(), `"type":"error"`) || !strings.Contains(out.String(), `"exit_code":2`) {
		t.Errorf("stdout %q lacks the error event", out)
	}
}
