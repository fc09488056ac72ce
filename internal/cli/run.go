package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/batch"
	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/run"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/session"
	"github.com/sailresearch/sail/internal/webhook"
	"github.com/sailresearch/sail/ui"
)

// RunOptions are the inputs of `sail run`: its dependencies, its flags, and
// what RunE resolved from them before anything runs.
type RunOptions struct {
	IO         *iostreams.IOStreams
	Config     func() (*config.Config, error)
	Env        config.Env
	HTTPClient *http.Client
	Now        func() time.Time
	Interrupts func() (<-chan os.Signal, func())
	TUIInput   io.Reader

	Prompt            string
	Webhook           bool
	Model             string
	Endpoint          string
	Instructions      string
	MaxOutputTokens   int64
	Metadata          []string
	CompletionWindow  string
	Gen               genFlags
	Token             string
	APIURL            string
	Timeout           time.Duration
	PollInterval      time.Duration
	NoPoll            bool
	WebhookGrace      time.Duration
	Settle            time.Duration
	CancelOnInterrupt bool
	JSON              bool
	Output            string // events | text | payload ("" = decide from the terminal)
	NoTUI             bool
	ExitOnComplete    bool
	URLFile           string

	Batch batchFlags

	Tunnel tunnelFlags
	Store  historyFlags
	Fwd    forwardFlags
	Emu    emulatorFlags

	// Request is the create request the flags make: prompt, metadata and
	// the generation parameters mapped from Gen. For a batch it holds the
	// items' defaults.
	Request sail.CreateRequest
}

const runLong = `Create a Sail response and wait for it to finish.

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
(see 'sail help exit-codes').`

const runExample = `  # Offline, against the embedded emulator:
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
  sail run --webhook --emulator --json @prompt.txt | jq -c 'select(.type=="completed")'`

// NewCmdRun builds `sail run`.
func NewCmdRun(f *Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	o := &RunOptions{IO: f.IO, Config: f.Config, Env: f.Env, HTTPClient: f.HTTPClient, Now: f.Now, Interrupts: f.Interrupts, TUIInput: f.TUIInput}
	cmd := &cobra.Command{
		Use:     "run [PROMPT | - | @FILE]",
		Short:   "Create a response and watch its completion webhook arrive",
		Long:    runLong,
		Example: runExample,
		Args:    usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.parse(cmd, args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRun(cmd.Context(), o)
		},
	}
	o.register(cmd)
	registerCompletions(cmd, f)
	return cmd
}

func (o *RunOptions) register(cmd *cobra.Command) {
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
	fl.BoolVar(&o.CancelOnInterrupt, "cancel-on-interrupt", false, "cancel the response on Ctrl-C")
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
}

// parse resolves the arguments, the configuration and the flags into the
// options, refusing every conflict before anything starts.
func (o *RunOptions) parse(cmd *cobra.Command, args []string) error {
	switch {
	case o.Batch.enabled() && len(args) > 0:
		return exitcode.WithHint(exitcode.Usage, errors.New("give the prompt as arguments or the batch with -f, not both"),
			"put every prompt in the -f file, one JSON string or object per line")
	case o.Batch.enabled():
	case len(args) == 0:
		return usageError(cmd, errors.New("a prompt is required: sail run --webhook \"What is 2+2?\""))
	default:
		p, err := promptFromArgs(o.IO.In, args)
		if err != nil {
			return err
		}
		o.Prompt = p
	}
	if err := o.configure(cmd); err != nil {
		return err
	}
	if err := o.Gen.apply(cmd, &o.Request); err != nil {
		return err
	}
	if err := o.Batch.checkUse(cmd); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	return o.build()
}

// configure applies the configuration under the flags the user set.
func (o *RunOptions) configure(cmd *cobra.Command) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	applyFlags(cmd, cfg, map[string]string{"model": "model", "endpoint": "endpoint", "api-url": "api_url", "tunnel": "tunnel", "public-url": "public_url", "domain": "ngrok_domain", "history-dir": "history_dir"})
	o.Model, o.Endpoint, o.APIURL = cfg.Get("model"), cfg.Get("endpoint"), cfg.Get("api_url")
	o.Tunnel.resolve(cfg, o.Env)
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
	return nil
}

// validate refuses flags that contradict each other or cannot work.
func (o *RunOptions) validate() error {
	if _, err := sail.ParseEndpoint(o.Endpoint); err != nil {
		return exitcode.WithHint(exitcode.Usage, err, "use --endpoint responses, chat or messages")
	}
	if o.JSON && o.Output != "" && o.Output != session.Events {
		return exitcode.WithHint(exitcode.Usage, fmt.Errorf("--json and --output %s ask for different things on stdout", o.Output), "drop --json, or use --output events")
	}
	switch o.Output {
	case "", session.Events, session.Text, session.Payload:
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
	return o.Fwd.validate()
}

// build makes the request, refusing out-of-range values before a tunnel or
// emulator starts, then checks what only a batch (or only a run) takes.
func (o *RunOptions) build() error {
	ep, _ := sail.ParseEndpoint(o.Endpoint)
	reserve := 0
	if o.Webhook {
		reserve = 2
	}
	md, err := ParseMetadata(o.Metadata, metadataReserve(o.Metadata, reserve, o.CompletionWindow, o.Request.User, ep))
	if err != nil {
		return err
	}
	req := &o.Request
	req.Endpoint, req.Model, req.Instructions = ep, o.Model, o.Instructions
	req.MaxOutputTokens, req.Metadata, req.CompletionWindow = o.MaxOutputTokens, md, o.CompletionWindow
	if err := setPrompt(req, o.Prompt); err != nil {
		return err
	}
	if err := req.CheckParams(); err != nil {
		return err
	}
	noteOverrides(o.IO.ErrOut, md, o.CompletionWindow, o.Request.User, ep)
	if o.Batch.enabled() && o.Output != "" {
		return exitcode.New(exitcode.Usage, "--output applies to a single run; a batch writes one result line per item")
	}
	return o.Batch.Sail.validate(ep)
}

func runRun(ctx context.Context, o *RunOptions) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	so := o.session(cfg)
	if o.Batch.enabled() {
		return batch.Command(ctx, o.batch(so))
	}
	return run.Command(ctx, run.CommandOptions{
		Session: so,
		Run: run.Options{
			Request: o.Request, Webhook: o.Webhook, Token: o.Token, PollInterval: o.PollInterval, NoPoll: o.NoPoll,
			WebhookGrace: o.WebhookGrace, Settle: o.Settle, CancelOnInterrupt: o.CancelOnInterrupt, Now: o.Now,
		},
		Timeout: o.Timeout,
		URLFile: o.URLFile,
		View:    ui.Options{Replay: o.Fwd.replayFunc(o.HTTPClient), ExitOnComplete: o.ExitOnComplete, MaxRows: max(o.Store.Keep, 1)},
	})
}

// session is what a run or a batch runs on.
func (o *RunOptions) session(cfg *config.Config) session.Options {
	so := session.Options{
		IO: o.IO, Now: o.Now, HTTPClient: o.HTTPClient, ViewInput: o.TUIInput,
		API: &session.API{URL: o.APIURL, Key: cfg.Get("api_key"), UserAgent: "sail/" + versionShort()},
	}
	if !o.Batch.enabled() {
		rules := session.RunRules
		so.Rules, so.Flags = &rules, session.Flags{JSON: o.JSON, NoTUI: o.NoTUI, Out: o.Output}
	}
	if o.Emu.Enabled {
		eo := o.Emu.options(nil)
		// Finished responses are only read back by the item that made them:
		// keeping a few times the concurrency keeps a long batch's memory flat.
		eo.MaxResponses = max(1024, 4*o.Batch.Concurrency)
		so.Emulator, so.AttemptNotices = &eo, !o.Batch.enabled()
	}
	if o.Webhook {
		so.Receive = &session.Receive{
			Tunnel:   o.Tunnel.options(o.Tunnel.Provider, nil),
			History:  o.Store.opener(o.Env, o.Now, o.IO.ErrOut),
			Receiver: webhook.Options{Forward: o.Fwd.forwarder(o.HTTPClient), ForwardSync: o.Fwd.Sync, Now: o.Now},
			Quiet:    o.Batch.enabled(),
		}
	}
	return so
}
