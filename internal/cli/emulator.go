package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
)

// EmulatorOptions are the inputs of `sail emulator`.
type EmulatorOptions struct {
	IO *iostreams.IOStreams

	Addr            string
	APIKey          string
	JSON            bool
	URLFile         string
	DeliveryTimeout time.Duration
	Faults          emulatorFlags
}

const emulatorLong = `Serve a Sail-compatible API on loopback: /v1/models, /v1/responses (create,
get, cancel), /v1/chat/completions and /v1/messages, with completion
webhooks delivered exactly as Sail documents them (Bearer token, up to
3 retries, 30 s per attempt, no redirects). Sail's API reference (OpenAPI
2026-02-18) is its specification. Point the OpenAI or Anthropic SDKs at it
to test your webhook handler offline, including failures the real service
rarely shows.

Statuses: Sail's reference names the unfinished ones pending and running,
its docs pages (and OpenAI) queued and in_progress; a client must accept
both. --status-names picks the one the emulator speaks (default sail).

Any non-empty API key is accepted unless --api-key is set. Each delivery
attempt is logged on stderr; GET /_emulator/deliveries lists them as JSON.

` + emulator.HelpText

// NewCmdEmulator builds `sail emulator`.
func NewCmdEmulator(f *Factory, runF func(context.Context, *EmulatorOptions) error) *cobra.Command {
	o := &EmulatorOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run a local Sail-compatible API that sends real completion webhooks",
		Long:  emulatorLong,
		Example: `  sail emulator --addr 127.0.0.1:8766
  export SAIL_API_URL=http://127.0.0.1:8766/v1 SAIL_API_KEY=anything

  # Webhook retries made visible: the first two attempts fail
  sail emulator --fail-attempts 2 --retry-backoff 200ms

  # OpenAI's status names, and "retries up to 3 times" read as 3 attempts
  sail emulator --status-names openai --max-attempts 3

  # A background create: 202, status "pending", usage with zeros
  curl -i http://127.0.0.1:8766/v1/responses -H 'Authorization: Bearer x' \
    -d '{"model":"moonshotai/Kimi-K2.5","input":"hi","background":true}'

  # Python: OpenAI(base_url="http://127.0.0.1:8766/v1", api_key="anything")`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return emulatorRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Addr, "addr", "127.0.0.1:4010", "address to listen on (127.0.0.1:0 picks a free port)")
	fl.StringVar(&o.APIKey, "api-key", "", "accept only this API key (default: any non-empty key)")
	fl.BoolVar(&o.JSON, "json", false, "NDJSON on stdout: a ready line, then one line per delivery attempt")
	fl.StringVar(&o.URLFile, "url-file", "", "write the base URL to this file once listening")
	fl.DurationVar(&o.DeliveryTimeout, "delivery-timeout", emulator.DefaultDeliveryTimeout, "timeout of each webhook attempt")
	fl.DurationVar(&o.Faults.Latency, "latency", 0, "time each response spends pending, then again running (queued, in_progress)")
	fl.StringVar(&o.Faults.Outcome, "outcome", "completed", "terminal status: completed, failed, incomplete or cancelled")
	fl.BoolVar(&o.Faults.DropWebhook, "drop-webhook", false, "never send webhooks")
	fl.BoolVar(&o.Faults.DuplicateWebhook, "duplicate-webhook", false, "send every webhook twice")
	fl.BoolVar(&o.Faults.WrongToken, "wrong-token", false, "send a wrong bearer token")
	fl.IntVar(&o.Faults.FailAttempts, "fail-attempts", 0, "the first N attempts of each webhook fail like a dropped connection")
	fl.DurationVar(&o.Faults.WebhookDelay, "webhook-delay", 0, "wait before the first attempt")
	fl.DurationVar(&o.Faults.RetryBackoff, "retry-backoff", emulator.DefaultRetryBackoff, "first retry delay, doubling")
	fl.IntVar(&o.Faults.MaxAttempts, "max-attempts", emulator.DefaultMaxAttempts, "delivery attempts per webhook, the first included (4 = 1 + 3 retries; 3 = the other reading of \"up to 3 retries\")")
	fl.StringVar(&o.Faults.StatusNames, "status-names", emulator.StatusNamesSail, "names of unfinished statuses: sail (pending, running, as Sail's API reference) or openai (queued, in_progress, as its docs pages)")
	fl.BoolVar(&o.Faults.BatchWebhooks, "batch-webhooks", true, "requests of a batch (/v1/batches) fire their webhooks; false leaves them to polling")
	registerCompletions(cmd, f)
	return cmd
}

func emulatorRun(ctx context.Context, o *EmulatorOptions) error {
	eo := o.Faults.options(emulatorAttemptLog(o))
	eo.APIKey = o.APIKey
	eo.DeliveryTimeout = o.DeliveryTimeout
	if err := (eo).Validate(); err != nil {
		return exitcode.New(exitcode.Usage, "%v", err)
	}
	run, err := emulator.Start(ctx, o.Addr, eo)
	if err != nil {
		return err
	}
	if o.URLFile != "" {
		if err := os.WriteFile(o.URLFile, []byte(run.BaseURL+"\n"), 0o600); err != nil {
			_ = run.Shutdown(context.WithoutCancel(ctx))
			return fmt.Errorf("write --url-file: %w", err)
		}
	}
	printEmulatorReady(o, run)
	select {
	case <-ctx.Done():
	case <-run.Done():
		if err := run.Err(); err != nil {
			return fmt.Errorf("emulator stopped: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := run.Shutdown(sctx); err != nil {
		return fmt.Errorf("emulator shutdown: %w", err)
	}
	return nil
}

// emulatorAttemptLog reports each delivery attempt: an NDJSON line on
// stdout with --json, else a line on stderr.
func emulatorAttemptLog(o *EmulatorOptions) func(emulator.Attempt) {
	var mu sync.Mutex
	return func(a emulator.Attempt) {
		mu.Lock()
		defer mu.Unlock()
		if o.JSON {
			b, _ := json.Marshal(struct {
				Type string `json:"type"`
				emulator.Attempt
			}{"attempt", a})
			fmt.Fprintln(o.IO.Out, string(b))
			return
		}
		result := fmt.Sprintf("%d", a.StatusCode)
		if a.Err != "" {
			result = a.Err
		}
		fmt.Fprintf(o.IO.ErrOut, "%s  webhook %s attempt %d → %s  %s (%s)\n", a.At.Local().Format("15:04:05.000"),
			a.ResponseID, a.Number, a.URL, result, a.Duration.Round(time.Millisecond))
	}
}

// printEmulatorReady says where the emulator listens: the ready line with
// --json, else the URL and how to point sail at it.
func printEmulatorReady(o *EmulatorOptions, run *emulator.Running) {
	if o.JSON {
		b, _ := json.Marshal(map[string]string{"type": "ready", "base_url": run.BaseURL, "addr": run.Addr})
		fmt.Fprintln(o.IO.Out, string(b))
		return
	}
	fmt.Fprintf(o.IO.Out, "Sail emulator listening on %s\n", run.BaseURL)
	// With --api-key only that key works; it is a secret, so it is
	// named, never printed.
	key := "anything"
	if o.APIKey != "" {
		key = "<your --api-key>"
	}
	fmt.Fprintf(o.IO.ErrOut, "  export SAIL_API_URL=%s SAIL_API_KEY=%s\n  Press Ctrl-C to stop.\n", run.BaseURL, key)
}
