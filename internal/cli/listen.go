package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/inbox"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
	"github.com/sailresearch/sail/ui"
)

// ListenOptions are the inputs of `sail listen`.
type ListenOptions struct {
	Path          string
	Token         string
	TokenEnv      string
	JSON          bool
	NoTUI         bool
	URLFile       string
	MaxDeliveries int
	Timeout       time.Duration
	MaxBody       int64
	ViewRows      int

	Tunnel tunnelFlags
	Store  historyFlags
	Fwd    forwardFlags
}

// NewCmdListen builds `sail listen`.
func NewCmdListen(f *Factory, runF func(context.Context, *ListenOptions) error) *cobra.Command {
	o := &ListenOptions{}
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive completion webhooks: verify, store, forward",
		Long: `Start a webhook receiver behind a tunnel and print one line per delivery.

Each POST is checked (JSON object, size, bearer token), written to the delivery
history before it is acknowledged, deduplicated, and optionally forwarded to
your app. Put the printed URL in metadata.completion_webhook and the token in
metadata.webhook_token.

The tunnel is your own with --public-url, else ngrok when NGROK_AUTHTOKEN is
set, otherwise local (reachable only from this machine, which is enough for
'sail emulator'). When stdout is not a terminal, or with --json, events are
NDJSON; the first is "ready" with the URL. Ctrl-C stops it (exit 0).


On a terminal the interactive view lists the newest --view-rows deliveries
(default: --history-keep) without their bodies; selecting one loads its payload
from the history, and G (end) past the oldest row pages older ones in. With
--no-history only the newest 256 payloads (32 MiB at most) stay in memory.
Under a flood the view redraws ten times a second and never slows the receiver;
deliveries it cannot keep up with are counted ("+N more since").`,
		Example: `  # Listen locally with a token, as NDJSON:
  sail listen --addr 127.0.0.1:8765 --path /sail --token s3cret --json

  # Forward every delivery to your app, and let Sail's retries reach it:
  sail listen --forward-to http://localhost:3000/webhooks/sail --forward-sync

  # Public URL through ngrok with a reserved domain:
  NGROK_AUTHTOKEN=... sail listen --tunnel ngrok --domain myapp.ngrok.app

  # In a script: wait for one delivery, then exit
  sail listen --url-file url.txt --max-deliveries 1 --timeout 5m --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			applyFlags(cmd, cfg, map[string]string{"tunnel": "tunnel", "public-url": "public_url", "domain": "ngrok_domain", "history-dir": "history_dir"})
			o.Tunnel.resolve(cfg, f.Env)
			o.Store.resolve(cfg)
			if err := o.Fwd.validate(); err != nil {
				return err
			}
			if o.TokenEnv != "" {
				if o.Token != "" {
					return usageError(cmd, errors.New("--token and --token-env are mutually exclusive"))
				}
				o.Token = f.Env(o.TokenEnv)
				if o.Token == "" {
					return exitcode.WithHint(exitcode.Config, fmt.Errorf("--token-env %s: the variable is empty", o.TokenEnv), "export "+o.TokenEnv+"=… or use --token")
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runListen(cmd.Context(), f, cfg, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Path, "path", "", "path to receive on (default: a random /h/… path)")
	fl.StringVar(&o.Token, "token", "", "expected bearer token (metadata.webhook_token)")
	fl.StringVar(&o.TokenEnv, "token-env", "", "read the expected token from this environment variable")
	fl.BoolVar(&o.JSON, "json", false, "NDJSON events on stdout")
	fl.BoolVar(&o.NoTUI, "no-tui", false, "plain lines instead of the interactive view")
	fl.StringVar(&o.URLFile, "url-file", "", "write the webhook URL to this file once listening")
	fl.IntVar(&o.MaxDeliveries, "max-deliveries", 0, "exit after this many accepted deliveries")
	fl.DurationVar(&o.Timeout, "timeout", 0, "stop after this long (exit 124 if --max-deliveries was not reached)")
	fl.Int64Var(&o.MaxBody, "max-body", 32<<20, "largest accepted payload in bytes (413 above)")
	fl.IntVar(&o.ViewRows, "view-rows", 0, "deliveries the interactive view keeps listed (default: --history-keep); older ones page in from the history")
	o.Tunnel.register(cmd)
	_ = fl.Set("addr", "127.0.0.1:8765")
	fl.Lookup("addr").DefValue = "127.0.0.1:8765"
	o.Store.register(cmd)
	o.Fwd.register(cmd, true)
	registerCompletions(cmd, f)
	return cmd
}

func runListen(ctx context.Context, f *Factory, cfg *config.Config, o *ListenOptions) error {
	if o.Path == "" {
		o.Path = webhook.RandomPath()
	}
	if !strings.HasPrefix(o.Path, "/") || strings.HasPrefix(o.Path, "/_sail/") {
		return exitcode.New(exitcode.Usage, "--path %q must start with / and not with /_sail/", o.Path)
	}
	if o.MaxBody <= 0 {
		return exitcode.New(exitcode.Usage, "--max-body must be positive")
	}
	if o.ViewRows < 0 {
		return exitcode.New(exitcode.Usage, "--view-rows must not be negative (0, the default, keeps as many rows as --history-keep)")
	}
	if o.ViewRows == 0 {
		o.ViewRows = max(o.Store.Keep, 1)
	}
	provider, note, err := tunnel.ChooseForListen(o.Tunnel.Provider, o.Tunnel.Authtoken != "", o.Tunnel.PublicURL)
	if err != nil {
		return err
	}

	// stdout: NDJSON when it is not a terminal (or --json), log lines when it
	// is and no TUI owns the screen. The TUI, when used, is on stderr.
	useTUI := f.IO.CanRedraw() && !o.JSON && !o.NoTUI // never on TERM=dumb
	var sinks []event.Sink
	// early gets errors from before "ready": a script reading NDJSON sees
	// why listen never started; people read them from Execute on stderr.
	early := event.Sink(event.Discard)
	if o.JSON || !f.IO.StdoutTTY {
		nd := render.NewNDJSON(f.IO.Out, f.Now)
		sinks = append(sinks, nd)
		early = nd
	} else if !useTUI {
		sinks = append(sinks, render.NewPlain(f.IO.Out, render.StyleListen, !f.IO.ColorDisabled, f.Now))
	}
	human := &swapSink{}
	sink := event.Serial(event.Multi(append(sinks, human)...))

	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	st, err := o.Store.open(f)
	if err != nil {
		return reportEarly(early, err)
	}
	in, err := inbox.Open(ctx, inbox.Options{
		Tunnel: o.Tunnel.options(provider, quietLogger()),
		Receiver: webhook.Options{
			MaxBody: o.MaxBody, Store: storeOrNil(st), Sink: sink, Forward: o.Fwd.forwarder(f), ForwardSync: o.Fwd.Sync, Now: f.Now,
		},
	})
	if err != nil {
		return reportEarly(early, err)
	}
	closeInbox := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 800*time.Millisecond)
		defer cancel()
		_ = in.Close(sctx)
	}
	defer closeInbox()

	accepted := make(chan struct{}, 1)
	var mu sync.Mutex
	count := 0
	remove := in.Receiver.Handle(webhook.Route{Path: o.Path, Token: o.Token, OnDelivery: func(d event.Delivery) {
		if !d.Accepted() || d.Duplicate {
			return
		}
		mu.Lock()
		count++
		reached := o.MaxDeliveries > 0 && count >= o.MaxDeliveries
		mu.Unlock()
		if reached {
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}})
	defer remove()

	url := in.URL(o.Path)
	if note == "" {
		note = in.Tunnel.Note()
	}
	tokenMode := "none"
	if o.Token != "" {
		tokenMode = "fixed"
	}
	var tuiDone <-chan struct{}
	if useTUI {
		tctx, tcancel := context.WithCancel(ctx)
		prog := ui.Start(tctx, ui.Options{
			Mode: ui.ModeListen, Output: f.IO.ErrOut, Replay: o.Fwd.replayFunc(f),
			NoColor: f.IO.ColorDisabled, Now: f.Now,
			MaxRows: o.ViewRows, Load: viewLoader(st), Older: viewOlder(st),
		})
		human.set(prog)
		defer prog.Wait()
		defer tcancel() // runs first: ending listen closes the TUI
		tuiDone = prog.Done()
	}
	sink.Emit(event.Ready{WebhookURL: url, Tunnel: in.Tunnel.Provider(), ListenAddr: in.Tunnel.ListenAddr(), TokenMode: tokenMode, Note: note})
	if o.URLFile != "" {
		if err := os.WriteFile(o.URLFile, []byte(url+"\n"), 0o600); err != nil {
			return fmt.Errorf("write --url-file: %w", err)
		}
	}

	select {
	case <-tuiDone:
		// q in the TUI is how listening normally ends.
		return nil
	case <-accepted:
		return nil
	case err := <-in.Stopped():
		sink.Emit(event.Error{ExitCode: exitcode.Tunnel, Message: err.Error()})
		return exitcode.WithHint(exitcode.Tunnel, err, "restart sail listen; with ngrok, check your network")
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && o.MaxDeliveries > 0 {
			return exitcode.New(exitcode.Timeout, "--timeout reached before %d deliveries arrived", o.MaxDeliveries)
		}
		// Ctrl-C or a plain --timeout is how listening normally ends.
		return nil
	}
}
