// Package session opens what a long-running command (run, a batch, listen)
// runs on and closes it again on every way out: the output chosen from the
// flags and the terminal, the chain of sinks that carries events to it, the
// embedded emulator, the Sail client, and the inbox (tunnel, receiver and
// delivery history). The commands' lifecycles (packages run, batch, listen)
// open one session each and deal only with what is theirs.
package session

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/inbox"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
)

// Options say what a session opens; a nil part is not opened.
type Options struct {
	IO         *iostreams.IOStreams
	Now        func() time.Time
	HTTPClient *http.Client
	// ViewInput is where the interactive view reads keys; nil means the
	// terminal.
	ViewInput io.Reader

	// Rules choose the output from Flags; nil shows no events (a batch
	// writes result lines of its own).
	Rules *Rules
	Flags Flags

	// Emulator starts the embedded emulator on loopback; the client then
	// talks to it.
	Emulator *emulator.Options
	// AttemptNotices reports the emulator's failed delivery attempts as
	// notices: one that never reached the receiver is otherwise invisible.
	AttemptNotices bool

	API     *API
	Receive *Receive
}

// API is the Sail API the session's client talks to.
type API struct {
	URL, Key, UserAgent string
}

// Receive opens the delivery history and the inbox.
type Receive struct {
	// Tunnel.Provider is the --tunnel flag when the session has an API: the
	// session then chooses the tunnel that API can reach. Without an API the
	// sender is unknown and the caller has chosen.
	Tunnel tunnel.Options
	// History opens the delivery history; it returns nil for none.
	History func() (*store.Store, error)
	// Receiver's Store and Sink are the session's.
	Receiver webhook.Options
	// Quiet keeps the receiver's events out of the sink: each batch item
	// reports its own deliveries.
	Quiet bool
	// Drain bounds the wait for deliveries in flight on Close; 0 means
	// a second.
	Drain time.Duration
}

// Session is what a command runs on.
type Session struct {
	Output Output
	// Sink carries events to the output, in order when the rules ask.
	Sink   event.Sink
	Client *sail.Client
	APIURL string
	Store  *store.Store // nil without a history
	Inbox  *inbox.Inbox

	o       Options
	ndjson  *render.NDJSON
	human   *swapSink
	after   *scrollback
	closers []func()
}

// emulatorStop bounds the emulator's shutdown: once the command is over,
// retries still pending (e.g. after a 401) are of no use to anyone.
const emulatorStop = 50 * time.Millisecond

// Open opens what o asks for. On failure it reports the error on the sink
// (so NDJSON readers see why nothing started), closes what it opened and
// returns the error.
func Open(ctx context.Context, o Options) (*Session, error) {
	s := &Session{o: o, human: &swapSink{}}
	s.wire()
	if err := s.open(ctx); err != nil {
		s.Fail(err)
		s.Close()
		return nil, err
	}
	if s.Output.Lines != 0 {
		w := s.o.IO.ErrOut
		if s.Output.Lines == Stdout {
			w = s.o.IO.Out
		}
		s.human.set(render.NewPlain(w, s.o.Rules.Style, !s.o.IO.ColorDisabled, s.o.Now))
	}
	return s, nil
}

// wire builds the sink chain. People's part (lines or the view) is chosen
// once the session is open: errors before that are printed like any other
// command's.
func (s *Session) wire() {
	stream := event.Sink(event.Discard)
	if s.o.Rules != nil {
		s.Output = Choose(*s.o.Rules, s.o.IO, s.o.Flags)
		if s.Output.Stdout == Events {
			s.ndjson = render.NewNDJSON(DataWriter(s.o.IO), s.o.Now)
			stream = s.ndjson
		}
	}
	s.Sink = event.Serial(event.Multi(stream, s.human))
	if s.o.Rules != nil && s.o.Rules.Ordered {
		s.Sink = event.Ordered(s.Sink)
	}
}

func (s *Session) open(ctx context.Context) error {
	if s.o.Emulator != nil {
		if err := s.startEmulator(ctx); err != nil {
			return err
		}
	}
	if a := s.o.API; a != nil {
		if s.APIURL == "" {
			s.APIURL = a.URL
		}
		key := a.Key
		if key == "" && s.o.Emulator != nil {
			key = "sk-emulator"
		}
		c, err := sail.New(sail.Options{BaseURL: s.APIURL, APIKey: key, HTTPClient: s.o.HTTPClient, UserAgent: a.UserAgent})
		if err != nil {
			return err
		}
		s.Client = c
	}
	if s.o.Receive != nil {
		return s.openInbox(ctx)
	}
	return nil
}

func (s *Session) startEmulator(ctx context.Context) error {
	eo := *s.o.Emulator
	if s.o.AttemptNotices {
		eo.Log = attemptNotices(s.Sink, eo.RetryBackoff, eo.MaxAttempts)
	}
	// Not bound to ctx: on Ctrl-C the emulator must outlive the command
	// long enough to answer --cancel-on-interrupt; Close stops it.
	emu, err := emulator.Start(context.WithoutCancel(ctx), "127.0.0.1:0", eo)
	if err != nil {
		return fmt.Errorf("start the embedded emulator: %w", err)
	}
	s.closers = append(s.closers, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), emulatorStop)
		defer cancel()
		_ = emu.Shutdown(sctx)
	})
	s.APIURL = emu.BaseURL
	return nil
}

func (s *Session) openInbox(ctx context.Context) error {
	r := s.o.Receive
	to := r.Tunnel
	if s.o.API != nil {
		p, err := tunnel.ChooseForRun(to.Provider, sail.IsLoopback(s.APIURL), to.Authtoken != "", to.PublicURL)
		if err != nil {
			return err
		}
		to.Provider = p
	}
	// SDK and server logs stay off the terminal (and out of the view).
	to.Logger = slog.New(slog.DiscardHandler)
	if r.History != nil {
		st, err := r.History()
		if err != nil {
			return err
		}
		if st != nil {
			s.Store = st
			// After the inbox has drained: closers run last first.
			s.closers = append(s.closers, func() { st.Close() })
		}
	}
	ro := r.Receiver
	ro.Sink = s.Sink
	if r.Quiet {
		ro.Sink = event.Discard
	}
	if s.Store != nil {
		ro.Store = s.Store // never a typed nil: no history is a nil Saver
	}
	in, err := inbox.Open(ctx, inbox.Options{Tunnel: to, Receiver: ro})
	if err != nil {
		return err
	}
	s.Inbox = in
	s.closers = append(s.closers, func() {
		d := r.Drain
		if d <= 0 {
			d = time.Second
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
		defer cancel()
		_ = in.Close(sctx)
	})
	return nil
}

// Close closes everything the session opened, the last opened first.
func (s *Session) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Fail reports an error that ended the command before its own work began,
// so NDJSON readers see it too, and returns it.
func (s *Session) Fail(err error) error {
	s.Sink.Emit(event.Error{ExitCode: exitcode.Of(err), Message: err.Error(), Hint: exitcode.Hint(err)})
	return err
}

// EventsErr is the first error writing NDJSON events to stdout, if any.
func (s *Session) EventsErr() error {
	if s.ndjson == nil {
		return nil
	}
	return s.ndjson.Err()
}

// Shown marks err as already shown when people saw it on stderr (the plain
// lines, or those the view left behind), so it is not printed twice.
func (s *Session) Shown(err error) error {
	if err != nil && (s.Output.Lines == Stderr || s.after != nil) {
		return exitcode.Silent{Err: err}
	}
	return err
}
