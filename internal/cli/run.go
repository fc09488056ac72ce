package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/inbox"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/run"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/tunnel"
	"github.com/sailresearch/sail/internal/webhook"
	"github.com/sailresearch/sail/ui"
)

// RunOptions are the inputs of `sail run`.
type RunOptions struct {
	Prompt           string
	Webhook          bool
	Model            string
	Endpoint         string
	Instructions     string
	MaxOutputTokens  int64
	Metadata         []string
	CompletionWindow string
	Gen              genFlags
	// Params holds the generation parameters resolved from Gen
	// (temperature, top_p, reasoning effort, JSON schema, prompt cache
	// key, user); the rest of the request comes from the fields above.
	Params           sail.CreateRequest
	Token            string
	APIURL           string
	Timeout          time.Duration
	PollInterval     time.Duration
	NoPoll           bool
	WebhookGrace     time.Duration
	Settle           time.Duration
	CancelOnInterupt bool
	JSON             bool
	Output           string // events | text | payload ("" = decide from the terminal)
	NoTUI            bool
	ExitOnComplete   bool
	URLFile          string

	Batch batchFlags

	Tunnel tunnelFlags
	Store  historyFlags
	Fwd    forwardFlags
	Emu    emulatorFlags
}

// NewCmdRun builds `sail run`.
func NewCmdRun(f *Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	o := &RunOptions{}
	cmd := &cobra.Command{
		Use:   "run [PROMPT | - | @FILE]",
		Short: "Create a response and watch its completion webhook arrive",
		Long: `Create a Sail response and wait for it to finish.

With --webhook, sail opens a tunnel, creates a background response whose
metadata.completion_webhook points at it (with a fresh webhook_token),
receives the delivery, checks the token, compares the payload with
GET /v1/responses/{id}, and reports. A slow fallback poll notices when the
webhook never comes.

PROMPT is the text itself, - to read stdin, or @FILE to read a file. A
prompt that is a JSON array of {"role", "content"} objects is sent as input
messages (on messages, a system message becomes "system"). Several words
are one prompt, joined with spaces as echo does, so
sail run --webhook What is 2+2 asks one question. Several prompts are a
batch: put them in a file, one per line, and pass -f FILE (see docs/ci.md).

--completion-window goes into metadata.completion_window, where Sail reads
it. --temperature, --top-p, --reasoning-effort, --json-schema,
--prompt-cache-key and --user are mapped to each endpoint's own names (see
the README, "API compatibility"); a value outside the endpoint's range is a
usage error before anything is sent.

Output: on a terminal, progress on stderr and the answer on stdout. When
stdout is not a terminal, or with --json, one NDJSON event per line on stdout
(see docs/events.md). --output text prints only the answer, --output payload
the webhook payload (token redacted).

Exit codes: 0 verified, 3 webhook problem, 4 auth/config, 5 tunnel,
6 response failed/cancelled/incomplete, 124 timeout, 130 interrupted
(see 'sail help exit-codes').`,
		Example: `  # Offline, against the embedded emulator:
  sail run --webhook --emulator "What is 2+2? Reply with just the number."

  # Real API through ngrok (SAIL_API_KEY and NGROK_AUTHTOKEN set):
  sail run --webhook "Summarize this document." 

  # Unquoted words are one prompt (one response):
  sail run --webhook --emulator What is 2+2

  # A batch: one JSON string or {"input": …} object per line
  sail run --webhook --emulator -f prompts.jsonl -o results.jsonl

  # Capture only the answer:
  answer=$(sail run --webhook --emulator --output text "hi")

  # See a failure path: the first two webhook attempts are dropped
  sail run --webhook --emulator --emulator-fail-attempts 2 --emulator-retry-backoff 100ms "hi"

  # Structured output, sampled cooler, in Sail's flex window:
  sail run --webhook --emulator --json-schema answer.schema.json --temperature 0.2 --completion-window flex "What is 2+2?"

  # A conversation as {role, content} messages:
  sail run --webhook --emulator @messages.json

  # Events for a script:
  sail run --webhook --emulator --json @prompt.txt | jq -c 'select(.type=="completed")'`,
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.Batch.enabled() && len(args) > 0:
				return exitcode.WithHint(exitcode.Usage, errors.New("give the prompt as arguments or the batch with -f, not both"),
					"put every prompt in the -f file, one JSON string or object per line")
			case o.Batch.enabled():
			case len(args) == 0:
				return usageError(cmd, errors.New("a prompt is required: sail run --webhook \"What is 2+2?\""))
			default:
				p, err := promptFromArgs(f.IO.In, args)
				if err != nil {
					return err
				}
				o.Prompt = p
			}
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			applyFlags(cmd, cfg, map[string]string{"model": "model", "endpoint": "endpoint", "api-url": "api_url", "tunnel": "tunnel", "public-url": "public_url", "domain": "ngrok_domain", "history-dir": "history_dir"})
			o.Model, o.Endpoint, o.APIURL = cfg.Get("model"), cfg.Get("endpoint"), cfg.Get("api_url")
			o.Tunnel.resolve(cfg, f.Env)
			o.Store.resolve(cfg)
			if !cmd.Flags().Changed("timeout") {
				d, err := time.ParseDuration(cfg.Get("timeout"))
				if err != nil {
					v, _ := cfg.Lookup("timeout")
					return exitcode.WithHint(exitcode.Config, fmt.Errorf("timeout %q (from %s) is not a duration", v.Value, v.Source),
						"set SAIL_TIMEOUT (or timeout in the config file) to a duration such as 90s or 10m, or pass --timeout")
				}
				o.Timeout = d
			}
			if err := o.Gen.apply(cmd, &o.Params); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRun(cmd.Context(), f, cfg, o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.Webhook, "webhook", false, "receive the completion webhook through a tunnel and verify it")
	fl.StringVarP(&o.Model, "model", "m", "", "model (default from config: moonshotai/Kimi-K2.5)")
	fl.StringVarP(&o.Endpoint, "endpoint", "e", "", "endpoint: responses, chat or messages (default responses)")
	fl.StringVar(&o.Instructions, "instructions", "", "system instructions")
	fl.Int64Var(&o.MaxOutputTokens, "max-output-tokens", 0, "cap on output tokens")
	fl.StringArrayVar(&o.Metadata, "metadata", nil, "extra metadata `key=value` (repeatable)")
	fl.StringVar(&o.CompletionWindow, "completion-window", "", "metadata.completion_window: asap, priority, standard or flex")
	o.Gen.register(cmd)
	fl.StringVar(&o.Token, "token", run.TokenAuto, "webhook token: auto (random 256-bit), none, or a value")
	fl.StringVar(&o.APIURL, "api-url", "", "Sail API base URL (default from SAIL_API_URL)")
	fl.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up after this long (exit 124)")
	fl.DurationVar(&o.PollInterval, "poll-interval", 5*time.Second, "fallback poll interval")
	fl.BoolVar(&o.NoPoll, "no-poll", false, "do not poll GET as a fallback")
	fl.DurationVar(&o.WebhookGrace, "webhook-grace", 60*time.Second, "after the poll sees the end, wait this long for the webhook")
	fl.DurationVar(&o.Settle, "settle", 200*time.Millisecond, "after the result, keep receiving this long to show late retries")
	fl.BoolVar(&o.CancelOnInterupt, "cancel-on-interrupt", false, "cancel the response on Ctrl-C")
	fl.BoolVar(&o.JSON, "json", false, "NDJSON events on stdout")
	fl.StringVar(&o.Output, "output", "", "what stdout gets: events, text or payload")
	fl.BoolVar(&o.NoTUI, "no-tui", false, "plain progress lines instead of the interactive view")
	fl.BoolVar(&o.ExitOnComplete, "exit-on-complete", false, "close the interactive view when the run ends")
	fl.StringVar(&o.URLFile, "url-file", "", "write the webhook URL to this file once it is ready")
	o.Tunnel.register(cmd)
	o.Store.register(cmd)
	o.Fwd.register(cmd, false)
	o.Emu.register(cmd)
	o.Batch.register(cmd)
	registerCompletions(cmd, f)
	return cmd
}

func runRun(ctx context.Context, f *Factory, cfg *config.Config, o *RunOptions) error {
	ep, err := sail.ParseEndpoint(o.Endpoint)
	if err != nil {
		return exitcode.WithHint(exitcode.Usage, err, "use --endpoint responses, chat or messages")
	}
	if o.JSON && o.Output != "" && o.Output != "events" {
		return exitcode.WithHint(exitcode.Usage, fmt.Errorf("--json and --output %s ask for different things on stdout", o.Output), "drop --json, or use --output events")
	}
	switch o.Output {
	case "", "events", "text", "payload":
	default:
		return exitcode.WithHint(exitcode.Usage, fmt.Errorf("unknown --output %q", o.Output), "use --output events, text or payload")
	}
	if o.Token == "" {
		return exitcode.WithHint(exitcode.Usage, errors.New("--token is empty"), "use --token auto, --token none or --token VALUE")
	}
	if o.Token != run.TokenAuto && o.Token != run.TokenNone {
		if err := checkToken("--token", o.Token); err != nil {
			return err
		}
	}
	if !o.Webhook && (o.Emu.anyWebhookFault() || o.Fwd.URL != "") {
		return exitcode.WithHint(exitcode.Usage, errors.New("webhook options given without --webhook"), "add --webhook")
	}
	if o.Timeout <= 0 {
		return exitcode.New(exitcode.Usage, "--timeout must be positive")
	}
	if err := o.Fwd.validate(); err != nil {
		return err
	}
	reserve := 0
	if o.Webhook {
		reserve = 2
	}
	md, err := ParseMetadata(o.Metadata, metadataReserve(o.Metadata, reserve, o.CompletionWindow, o.Params.User, ep))
	if err != nil {
		return err
	}
	req := o.Params
	req.Endpoint, req.Model, req.Instructions = ep, o.Model, o.Instructions
	req.MaxOutputTokens, req.Metadata, req.CompletionWindow = o.MaxOutputTokens, md, o.CompletionWindow
	if err := setPrompt(&req, o.Prompt); err != nil {
		return err
	}
	// Refuse out-of-range values before a tunnel or emulator starts.
	if err := req.CheckParams(); err != nil {
		return err
	}
	noteOverrides(f.IO.ErrOut, md, o.CompletionWindow, o.Params.User, ep)

	// The answer is data and goes to stdout; people read stderr.
	output := o.Output
	if output == "" {
		output = "text"
		if o.JSON || !f.IO.StdoutTTY {
			output = "events"
		}
	}
	isBatch := o.Batch.enabled()
	if o.Batch.Sail.Enabled && !isBatch {
		return exitcode.WithHint(exitcode.Usage, errors.New("--sail-batch applies to a batch"), "add -f FILE")
	}
	if isBatch && o.Output != "" {
		return exitcode.New(exitcode.Usage, "--output applies to a single run; a batch writes one result line per item")
	}
	var ndjson *render.NDJSON
	stream := event.Sink(event.Discard)
	if output == "events" && !isBatch {
		ndjson = render.NewNDJSON(dataWriter(f), f.Now)
		stream = ndjson
	}
	// People see the run on stderr once it starts; errors before that are
	// printed by main like any other command's.
	human := &swapSink{}
	sink := run.Ordered(event.Serial(event.Multi(stream, human)))
	uiCtx := ctx

	// The first Ctrl-C ends ctx. A single run stops there; a batch only
	// stops creating (runBatch watches stop) while the items in flight, the
	// inbox and the emulator live on until their deadline or a second Ctrl-C.
	stop := ctx
	if isBatch {
		var abort context.CancelFunc
		ctx, abort = context.WithCancel(context.WithoutCancel(ctx))
		defer abort()
		defer onSecondInterrupt(f, abort)()
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	apiURL := o.APIURL
	apiKey := cfg.Get("api_key")
	var viewStore *store.Store // the history the view loads bodies from; nil without one
	if o.Emu.Enabled {
		// Not bound to ctx: on Ctrl-C the emulator must outlive the run long
		// enough to answer --cancel-on-interrupt; the defer stops it.
		var onAttempt func(emulator.Attempt)
		if !isBatch {
			onAttempt = attemptNotices(sink, o.Emu.RetryBackoff, o.Emu.MaxAttempts)
		}
		eo := o.Emu.options(onAttempt)
		// Finished responses are only read back by the item that made them:
		// keeping a few times the concurrency keeps a long batch's memory flat.
		eo.MaxResponses = max(1024, 4*o.Batch.Concurrency)
		emu, err := emulator.Start(context.WithoutCancel(ctx), "127.0.0.1:0", eo)
		if err != nil {
			return reportEarly(sink, fmt.Errorf("start the embedded emulator: %w", err))
		}
		defer func() {
			// The run is over: retries still pending (e.g. after a 401) are
			// of no use to anyone, so they are aborted rather than awaited.
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 50*time.Millisecond)
			defer scancel()
			_ = emu.Shutdown(sctx)
		}()
		apiURL = emu.BaseURL
		if apiKey == "" {
			apiKey = "sk-emulator"
		}
	}
	client, err := sail.New(sail.Options{BaseURL: apiURL, APIKey: apiKey, HTTPClient: f.HTTPClient, UserAgent: "sail/" + versionShort()})
	if err != nil {
		return reportEarly(sink, err)
	}

	opts := run.Options{
		API:     client,
		Request: req,
		Webhook: o.Webhook, Token: o.Token, PollInterval: o.PollInterval, NoPoll: o.NoPoll,
		WebhookGrace: o.WebhookGrace, Settle: o.Settle, CancelOnInterrupt: o.CancelOnInterupt,
		Sink: sink, Now: f.Now,
	}
	if o.URLFile != "" {
		opts.Sink = event.Multi(sink, urlFileSink(o.URLFile))
	}
	if o.Webhook {
		provider, err := tunnel.ChooseForRun(o.Tunnel.Provider, sail.IsLoopback(apiURL), o.Tunnel.Authtoken != "", o.Tunnel.PublicURL)
		if err != nil {
			return reportEarly(sink, err)
		}
		st, err := o.Store.open(f)
		if err != nil {
			return reportEarly(sink, err)
		}
		defer st.Close() // after the inbox (deferred later) has drained; nil-safe
		viewStore = st
		recvSink := sink
		if isBatch {
			// Each item reports its own deliveries (EmitDeliveries).
			recvSink = event.Discard
		}
		in, err := inbox.Open(ctx, inbox.Options{
			Tunnel: o.Tunnel.options(provider, quietLogger()),
			Receiver: webhook.Options{
				Store: storeOrNil(st), Sink: recvSink, Forward: o.Fwd.forwarder(f), ForwardSync: o.Fwd.Sync, Now: f.Now,
			},
		})
		if err != nil {
			return reportEarly(sink, err)
		}
		defer func() {
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer scancel()
			_ = in.Close(sctx)
		}()
		opts.Inbox = in
	}

	if isBatch {
		defaults := opts.Request
		defaults.Input, defaults.Messages = "", nil
		return runBatch(ctx, stop, f, o, client, opts.Inbox, defaults)
	}

	var prog *ui.Program
	var after *scrollback
	plain := false
	switch {
	case !f.IO.StderrTTY || o.JSON:
	case o.NoTUI || !f.IO.CanRedraw():
		// A terminal without cursor addressing (TERM=dumb) would be left
		// in an alternate screen it cannot draw: it gets lines instead.
		plain = true
		human.set(render.NewPlain(f.IO.ErrOut, render.StyleRun, !f.IO.ColorDisabled, f.Now))
	default:
		// The TUI outlives the run (it stays until q), so it gets the
		// process context, not the --timeout one.
		uo := ui.Options{
			Mode: ui.ModeRun, Output: f.IO.ErrOut, Replay: o.Fwd.replayFunc(f),
			ExitOnComplete: o.ExitOnComplete, NoColor: f.IO.ColorDisabled, Now: f.Now,
			MaxRows: max(o.Store.Keep, 1), Load: viewLoader(viewStore),
		}
		if f.TUIInput != nil {
			uo.Input = f.TUIInput
		}
		prog = ui.Start(uiCtx, uo)
		after = newScrollback(f.Now)
		human.set(event.Multi(after, prog))
	}

	res, err := runWithTUI(ctx, prog, opts)
	if after != nil {
		// The view is gone with the alternate screen: leave what happened
		// in the scrollback, as plain lines.
		after.print(f.IO.ErrOut, !f.IO.ColorDisabled, exitcode.Of(err))
	}
	if res != nil {
		switch output {
		case "text":
			_ = writeData(f, []byte(res.OutputText+"\n"))
		case "payload":
			writePayload(f.IO.Out, res.Payload, f.IO.StdoutTTY)
		}
	}
	if ndjson != nil && ndjson.Err() != nil && err == nil {
		err = ndjson.Err()
	}
	if err != nil && (plain || after != nil) {
		// The plain lines (during the run, or left after the view) already
		// showed the error and its hint.
		return exitcode.Silent{Err: err}
	}
	return err
}

// swapSink forwards to a sink chosen after the stream was wired.
type swapSink struct {
	mu sync.Mutex
	s  event.Sink
}

func (w *swapSink) set(s event.Sink) {
	w.mu.Lock()
	w.s = s
	w.mu.Unlock()
}

func (w *swapSink) Emit(e event.Event) {
	w.mu.Lock()
	s := w.s
	w.mu.Unlock()
	if s != nil {
		s.Emit(e)
	}
}

// runWithTUI runs the orchestration beside the TUI: quitting the TUI before
// the run ends interrupts the run (exit 130); after the run ends, the TUI
// stays until the user quits.
func runWithTUI(ctx context.Context, prog *ui.Program, opts run.Options) (*run.Result, error) {
	if prog == nil {
		return run.Run(ctx, opts)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		res *run.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := run.Run(runCtx, opts)
		done <- outcome{r, err}
	}()
	uiRes, uiErr := prog.Wait()
	if uiRes.QuitBeforeDone {
		cancel()
	}
	out := <-done
	if out.err == nil && uiErr != nil {
		out.err = uiErr
	}
	return out.res, out.err
}

// reportEarly emits an error that happened before the run started, so
// NDJSON consumers see it too, and returns it.
func reportEarly(sink event.Sink, err error) error {
	sink.Emit(event.Error{ExitCode: exitcode.Of(err), Message: err.Error(), Hint: exitcode.Hint(err)})
	return err
}

// urlFileSink writes the webhook URL to path when the Ready event comes.
func urlFileSink(path string) event.Sink {
	return event.SinkFunc(func(e event.Event) {
		if r, ok := e.(event.Ready); ok {
			_ = os.WriteFile(path, []byte(r.WebhookURL+"\n"), 0o600)
		}
	})
}

func writePayload(w io.Writer, p []byte, pretty bool) {
	if len(p) == 0 {
		return
	}
	if pretty {
		// For people: indented, and sanitised (a payload can hold any
		// byte, as can an invalid body kept in the history).
		var v json.RawMessage = p
		if b, err := json.MarshalIndent(v, "", "  "); err == nil {
			p = b
		}
		p = []byte(sanitizeLines(string(p)))
	}
	w.Write(p)
	if p[len(p)-1] != '\n' {
		io.WriteString(w, "\n")
	}
}

// quietLogger keeps SDK and server logs off the terminal; SAIL_DEBUG=1
// would be the place to route them to stderr.
func quietLogger() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}
