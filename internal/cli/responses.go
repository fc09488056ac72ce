package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/sail"
)

// apiFlags select the API for the plain API commands.
type apiFlags struct {
	URL string
}

func (a *apiFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.URL, "api-url", "", "Sail API base URL (default from SAIL_API_URL or https://api.sailresearch.com/v1)")
}

// client builds the API client from config with --api-url applied.
func (a *apiFlags) client(f *Factory, cmd *cobra.Command) (*sail.Client, *config.Config, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, nil, err
	}
	applyFlags(cmd, cfg, map[string]string{"api-url": "api_url", "model": "model", "endpoint": "endpoint"})
	c, err := sail.New(sail.Options{BaseURL: cfg.Get("api_url"), APIKey: cfg.Get("api_key"), HTTPClient: f.HTTPClient, UserAgent: "sail/" + versionShort()})
	return c, cfg, err
}

// printJSON writes raw JSON: indented on a terminal, compact otherwise.
// metadata.webhook_token is masked: Sail echoes it in every response
// object, and a secret must not reach a terminal or a script's log.
func printJSON(f *Factory, raw []byte) error {
	raw = payload.Redact(bytes.Clone(raw), "")
	var buf []byte
	var err error
	if f.IO.StdoutTTY {
		buf, err = json.MarshalIndent(json.RawMessage(raw), "", "  ")
	} else {
		buf, err = json.Marshal(json.RawMessage(raw))
	}
	if err != nil {
		// Not JSON after all: print it as a JSON string, so the output is
		// still JSON and no raw control byte (NUL, ESC) reaches it.
		buf, _ = json.Marshal(string(raw))
	}
	_, err = f.IO.Out.Write(append(buf, '\n'))
	return err
}

// NewCmdResponses groups the response commands.
func NewCmdResponses(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "responses",
		Aliases: []string{"response", "r"},
		Short:   "Create, get, wait for and cancel responses",
		Args:    usageArgs(cobra.NoArgs),
	}
	cmd.AddCommand(newCmdResponsesCreate(f), newCmdResponsesGet(f), newCmdResponsesWait(f), newCmdResponsesCancel(f))
	return cmd
}

func newCmdResponsesCreate(f *Factory) *cobra.Command {
	var api apiFlags
	var req sail.CreateRequest
	var endpoint string
	var metadata []string
	var gen genFlags
	cmd := &cobra.Command{
		Use:   "create PROMPT | - | @FILE",
		Short: "Create a response and print the API's answer as JSON",
		Long: `Create a response on /v1/responses, /v1/chat/completions or /v1/messages and
print the JSON the API answered. --webhook-url and --webhook-token go into
metadata.completion_webhook and metadata.webhook_token, --completion-window
into metadata.completion_window. Every create carries a fresh idempotency key
(Idempotency-Key; anthropic-idempotency-key on messages), so a retried
request never starts a second job.

A prompt that is a JSON array of {"role", "content"} objects is sent as input
messages. --temperature, --top-p, --reasoning-effort, --json-schema,
--prompt-cache-key and --user are mapped to each endpoint's own names; a
value outside the endpoint's range is a usage error before anything is sent.`,
		Example: `  sail responses create --background "What is 2+2?"
  sail responses create --endpoint messages --completion-window standard "hi"
  sail responses create --json-schema answer.schema.json --reasoning-effort low "What is 2+2?"
  sail responses create --endpoint chat --temperature 0.2 @messages.json
  sail responses create --background --webhook-url http://127.0.0.1:8765/sail --webhook-token s3cret-webhook-token-0123 "hi"
  sail responses create --endpoint messages --metadata team=evals @prompt.txt
  echo "hi" | sail responses create -`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			prompt, err := readPrompt(f.IO.In, args[0])
			if err != nil {
				return err
			}
			c, cfg, err := api.client(f, cmd)
			if err != nil {
				return err
			}
			ep, err := sail.ParseEndpoint(cfg.Get("endpoint"))
			if err != nil {
				return exitcode.WithHint(exitcode.Usage, err, "use --endpoint responses, chat or messages")
			}
			reserve := 0
			if req.WebhookURL != "" {
				reserve++
			}
			if req.WebhookToken != "" {
				reserve++
			}
			if err := gen.apply(cmd, &req); err != nil {
				return err
			}
			md, err := ParseMetadata(metadata, metadataReserve(metadata, reserve, req.CompletionWindow, req.User, ep))
			if err != nil {
				return err
			}
			if req.Background && ep != sail.Responses {
				return exitcode.New(exitcode.Usage, "--background only applies to --endpoint responses")
			}
			req.Endpoint, req.Model, req.Metadata = ep, cfg.Get("model"), md
			if err := setPrompt(&req, prompt); err != nil {
				return err
			}
			if err := req.CheckParams(); err != nil {
				return err
			}
			noteOverrides(f.IO.ErrOut, md, req.CompletionWindow, req.User, ep)
			resp, err := c.Create(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printJSON(f, resp.Raw)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&endpoint, "endpoint", "e", "", "responses, chat or messages (default responses)")
	fl.StringVarP(&req.Model, "model", "m", "", "model (default moonshotai/Kimi-K2.5)")
	fl.StringVar(&req.Instructions, "instructions", "", "system instructions")
	fl.Int64Var(&req.MaxOutputTokens, "max-output-tokens", 0, "cap on output tokens")
	fl.BoolVar(&req.Background, "background", false, "return at once and run in the background (responses only)")
	fl.StringVar(&req.WebhookURL, "webhook-url", "", "metadata.completion_webhook: where Sail POSTs the result")
	fl.StringVar(&req.WebhookToken, "webhook-token", "", "metadata.webhook_token: sent back as a Bearer token")
	fl.StringArrayVar(&metadata, "metadata", nil, "extra metadata `key=value` (repeatable)")
	fl.StringVar(&req.CompletionWindow, "completion-window", "", "metadata.completion_window: asap, priority, standard or flex")
	gen.register(cmd)
	api.register(cmd)
	registerCompletions(cmd, f)
	return cmd
}

func newCmdResponsesGet(f *Factory) *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:     "get ID",
		Short:   "Print GET /v1/responses/{id}",
		Example: `  sail responses get resp_01J...`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := api.client(f, cmd)
			if err != nil {
				return err
			}
			resp, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(f, resp.Raw)
		},
	}
	api.register(cmd)
	return cmd
}

func newCmdResponsesWait(f *Factory) *cobra.Command {
	var api apiFlags
	var timeout, interval time.Duration
	cmd := &cobra.Command{
		Use:   "wait ID",
		Short: "Poll a response until it finishes, then print it",
		Long: `Poll GET /v1/responses/{id} with backoff until the status is terminal and
print the response. Status changes go to stderr. Exits 6 when the response
ended failed, cancelled or incomplete, 124 on --timeout.`,
		Example: `  sail responses wait resp_01J... --timeout 5m | jq -r '.output[0].content[0].text'`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := api.client(f, cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			resp, err := c.Wait(ctx, args[0], sail.WaitOptions{Interval: interval, OnStatus: func(r *sail.Response) {
				fmt.Fprintf(f.IO.ErrOut, "%s %s\n", r.ID, r.Status)
			}})
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
					return exitcode.WithHint(exitcode.Timeout, fmt.Errorf("%s did not finish within %s", args[0], timeout), "raise --timeout")
				}
				return err
			}
			if err := printJSON(f, resp.Raw); err != nil {
				return err
			}
			switch resp.Status {
			case "failed", "cancelled", "incomplete":
				return exitcode.New(exitcode.ResponseFailed, "response %s ended %s", resp.ID, resp.Status)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long (exit 124)")
	cmd.Flags().DurationVar(&interval, "interval", 500*time.Millisecond, "first poll interval (grows to 5s)")
	api.register(cmd)
	return cmd
}

func newCmdResponsesCancel(f *Factory) *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:     "cancel ID",
		Short:   "Cancel a background response",
		Example: `  sail responses cancel resp_01J...`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := api.client(f, cmd)
			if err != nil {
				return err
			}
			resp, err := c.Cancel(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(f, resp.Raw)
		},
	}
	api.register(cmd)
	return cmd
}
