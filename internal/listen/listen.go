// Package listen owns `sail listen`: a receiver behind a tunnel that
// verifies, stores and forwards every delivery to one route until Ctrl-C,
// the view's q, --timeout or --max-deliveries ends it.
package listen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/session"
	"github.com/sailresearch/sail/internal/webhook"
	"github.com/sailresearch/sail/ui"
)

// TokenAuto is the --token word that asks for a random token.
const TokenAuto = event.TokenModeAuto

// Options are one listener.
type Options struct {
	// Session opens the inbox (with the tunnel already chosen) and the
	// history, with session.ListenRules.
	Session session.Options
	// Note explains the tunnel choice in the Ready event; "" takes the
	// tunnel's own.
	Note string

	Path  string
	Token string // expected bearer token; "" expects none
	// TokenEnv names the variable Token came from, for the lines to paste.
	TokenEnv string
	// TokenGenerated is set when sail made Token (--token auto).
	TokenGenerated bool

	URLFile       string
	MaxDeliveries int           // end after this many accepted deliveries; 0: no limit
	Timeout       time.Duration // 0: none
	// View configures the interactive view (replay, rows); the rest is
	// filled in here and by the session.
	View ui.Options
}

// drain bounds the wait for deliveries in flight when listening ends.
const drain = 800 * time.Millisecond

// Command listens until Ctrl-C (ctx), q in the view, --timeout or
// --max-deliveries. Its normal end is exit 0; --timeout before
// --max-deliveries is 124, a tunnel that stops is 5.
func Command(ctx context.Context, o Options) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	r := *o.Session.Receive
	r.Drain = drain
	o.Session.Receive = &r
	s, err := session.Open(ctx, o.Session)
	if err != nil {
		return err
	}
	defer s.Close()

	reached, remove := o.route(s)
	defer remove()
	url := s.Inbox.URL(o.Path)
	var viewDone <-chan struct{}
	vctx, vcancel := context.WithCancel(ctx)
	if prog := s.StartView(vctx, o.view(s)); prog != nil {
		defer prog.Wait()
		viewDone = prog.Done()
	}
	defer vcancel() // runs first: ending listen closes the view
	if err := o.ready(s, url); err != nil {
		return err
	}
	return o.wait(ctx, s, viewDone, reached)
}

// route receives on o.Path; reached gets a value once --max-deliveries
// accepted deliveries (duplicates not counted) have arrived.
func (o *Options) route(s *session.Session) (reached <-chan struct{}, remove func()) {
	c := make(chan struct{}, 1)
	var mu sync.Mutex
	count := 0
	remove = s.Inbox.Receiver.Handle(webhook.Route{Path: o.Path, Token: o.Token, OnDelivery: func(d event.Delivery) {
		if !d.Accepted() || d.Duplicate {
			return
		}
		mu.Lock()
		count++
		done := o.MaxDeliveries > 0 && count >= o.MaxDeliveries
		mu.Unlock()
		if done {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}})
	return c, remove
}

func (o *Options) tokenMode() string {
	switch {
	case o.TokenGenerated:
		return event.TokenModeAuto
	case o.Token != "":
		return event.TokenModeFixed
	}
	return event.TokenModeNone
}

func (o *Options) view(s *session.Session) ui.Options {
	v := o.View
	v.Mode, v.Older = ui.ModeListen, session.Older(s.Store)
	v.NewToken = autoToken(o.Token, o.TokenGenerated)
	return v
}

// ready announces the URL (and what to paste to try it), then writes it to
// --url-file: a script that waits for the file finds the listener ready.
func (o *Options) ready(s *session.Session, url string) error {
	note := o.Note
	if note == "" {
		note = s.Inbox.Tunnel.Note()
	}
	mode := o.tokenMode()
	try, warning := listenTry(url, mode, o.TokenEnv)
	s.Sink.Emit(event.Ready{WebhookURL: url, Tunnel: s.Inbox.Tunnel.Provider(), ListenAddr: s.Inbox.Tunnel.ListenAddr(),
		TokenMode: mode, Note: note, Try: try, Warning: warning})
	if o.URLFile != "" {
		if err := os.WriteFile(o.URLFile, []byte(url+"\n"), 0o600); err != nil {
			return fmt.Errorf("write --url-file: %w", err)
		}
	}
	return nil
}

func (o *Options) wait(ctx context.Context, s *session.Session, viewDone, reached <-chan struct{}) error {
	select {
	case <-viewDone:
		// q in the view is how listening normally ends.
		return nil
	case <-reached:
		return nil
	case err := <-s.Inbox.Stopped():
		s.Sink.Emit(event.Error{ExitCode: exitcode.Tunnel, Message: err.Error()})
		return exitcode.WithHint(exitcode.Tunnel, err, "restart sail listen; with ngrok, check your network")
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && o.MaxDeliveries > 0 {
			return exitcode.New(exitcode.Timeout, "--timeout reached before %d deliveries arrived", o.MaxDeliveries)
		}
		// Ctrl-C or a plain --timeout is how listening normally ends.
		return nil
	}
}
