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
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/session"
)

// apiFlags select the API for the plain API commands.
type apiFlags struct {
	URL string
}

func (a *apiFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.URL, "api-url", "", "Sail API base URL (default from SAIL_API_URL or https://api.sailresearch.com/v1)")
}

// printJSON writes raw JSON: indented on a terminal, compact otherwise,
// through session.WriteData like every other data output (a model's answer
// can hold bidi controls). metadata.webhook_token is masked: Sail echoes it
// in every response object, and a secret must not reach a terminal or a
// script's log.
func printJSON(s *iostreams.IOStreams, raw []byte) error {
	raw = payload.Redact(bytes.Clone(raw), "")
	var buf []byte
	var err error
	if s.StdoutTTY {
		buf, err = json.MarshalIndent(json.RawMessage(raw), "", "  ")
	} else {
		buf, err = json.Marshal(json.RawMessage(raw))
	}
	if err != nil {
		// Not JSON after all: print it as a JSON string, so the output is
		// still JSON and no raw control byte (NUL, ESC) reaches it.
		buf, _ = json.Marshal(string(raw))
	}
	return session.WriteData(s, append(buf, '\n'))
}

// NewCmdResponses groups the response commands.
func NewCmdResponses(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "responses",
		Aliases: []string{"response", "r"},
		Short:   "Create, get, wait for and cancel responses",
		Args:    usageArgs(cobra.NoArgs),
	}
	cmd.AddCommand(NewCmdResponsesCreate(f, nil), NewCmdResponsesGet(f, nil), NewCmdResponsesWait(f, nil), NewCmdResponsesCancel(f, nil))
	return cmd
}

// ResponsesCreateOptions are the inputs of `sail responses create`.
type ResponsesCreateOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*config.Config, error) // with this command line's flags applied
	Client func() (*sail.Client, error)

	Prompt string // PROMPT, - or @FILE, as given
	// Request holds the flags that go into the request as they are; model,
	// endpoint, prompt and metadata are resolved when it runs.
	Request  sail.CreateRequest
	Endpoint string
	Metadata []string
	Gen      genFlags
	API      apiFlags
}

const responsesCreateLong = `Create a response on /v1/responses, /v1/chat/completions or /v1/messages and
print the JSON the API answered. --webhook-url and --webhook-token go into
metadata.completion_webhook and metadata.webhook_token, --completion-window
into metadata.completion_window. Every create carries a fresh idempotency key
(Idempotency-Key; anthropic-idempotency-key on messages), so a retried
request never starts a second job.

A prompt that is a JSON array of {"role", "content"} objects is sent as input
messages. --temperature, --top-p, --reasoning-effort, --json-schema,
--prompt-cache-key and --user are mapped to each endpoint's own names; a
value outside the endpoint's range is a usage error before anything is sent.`

const responsesCreateExample = `  sail responses create --background "What is 2+2?"
  sail responses create --endpoint messages --completion-window standard "hi"
  sail responses create --json-schema answer.schema.json --reasoning-effort low "What is 2+2?"
  sail responses create --endpoint chat --temperature 0.2 @messages.json
  sail responses create --background --webhook-url http://127.0.0.1:8765/sail --webhook-token s3cret-webhook-token-0123 "hi"
  sail responses create --endpoint messages --metadata team=evals @prompt.txt
  echo "hi" | sail responses create -`

// NewCmdResponsesCreate builds `sail responses create`.
func NewCmdResponsesCreate(f *Factory, runF func(context.Context, *ResponsesCreateOptions) error) *cobra.Command {
	o := &ResponsesCreateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:     "create PROMPT | - | @FILE",
		Short:   "Create a response and print the API's answer as JSON",
		Long:    responsesCreateLong,
		Example: responsesCreateExample,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Prompt = args[0]
			if err := o.Gen.apply(cmd, &o.Request); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return responsesCreateRun(cmd.Context(), o)
		},
	}
	o.Config = f.configFor(cmd, apiConfigKeys)
	o.Client = f.apiClientFor(o.Config)
	fl := cmd.Flags()
	fl.StringVarP(&o.Endpoint, "endpoint", "e", "", "responses, chat or messages (default responses)")
	fl.StringVarP(&o.Request.Model, "model", "m", "", "model (default moonshotai/Kimi-K2.5)")
	fl.StringVar(&o.Request.Instructions, "instructions", "", "system instructions")
	fl.Int64Var(&o.Request.MaxOutputTokens, "max-output-tokens", 0, "cap on output tokens")
	fl.BoolVar(&o.Request.Background, "background", false, "return at once and run in the background (responses only)")
	fl.StringVar(&o.Request.WebhookURL, "webhook-url", "", "metadata.completion_webhook: where Sail POSTs the result")
	fl.StringVar(&o.Request.WebhookToken, "webhook-token", "", "metadata.webhook_token: sent back as a Bearer token")
	fl.StringArrayVar(&o.Metadata, "metadata", nil, "extra metadata `key=value` (repeatable)")
	fl.StringVar(&o.Request.CompletionWindow, "completion-window", "", "metadata.completion_window: asap, priority, standard or flex")
	o.Gen.register(cmd)
	o.API.register(cmd)
	registerCompletions(cmd, f)
	return cmd
}

func responsesCreateRun(ctx context.Context, o *ResponsesCreateOptions) error {
	prompt, err := readPrompt(o.IO.In, o.Prompt)
	if err != nil {
		return err
	}
	c, err := o.Client()
	if err != nil {
		return err
	}
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	req, md, err := createRequest(o, cfg, prompt)
	if err != nil {
		return err
	}
	noteOverrides(o.IO.ErrOut, md, req.CompletionWindow, req.User, req.Endpoint)
	resp, err := c.Create(ctx, req)
	if err != nil {
		return err
	}
	return printJSON(o.IO, resp.Raw)
}

// createRequest completes o.Request with what the configuration and the
// prompt decide, and checks it before anything is sent. md is the
// metadata the user gave, before the flags that override it.
func createRequest(o *ResponsesCreateOptions, cfg *config.Config, prompt string) (sail.CreateRequest, map[string]string, error) {
	req := o.Request
	ep, err := sail.ParseEndpoint(cfg.Get("endpoint"))
	if err != nil {
		return req, nil, exitcode.WithHint(exitcode.Usage, err, "use --endpoint responses, chat or messages")
	}
	reserve := 0
	if req.WebhookURL != "" {
		reserve++
	}
	if req.WebhookToken != "" {
		reserve++
	}
	md, err := ParseMetadata(o.Metadata, metadataReserve(o.Metadata, reserve, req.CompletionWindow, req.User, ep))
	if err != nil {
		return req, nil, err
	}
	if req.Background && ep != sail.Responses {
		return req, nil, exitcode.New(exitcode.Usage, "--background only applies to --endpoint responses")
	}
	req.Endpoint, req.Model, req.Metadata = ep, cfg.Get("model"), md
	if err := setPrompt(&req, prompt); err != nil {
		return req, nil, err
	}
	return req, md, req.CheckParams()
}

// ResponseIDOptions are the inputs of the commands that take one response
// id: `sail responses get` and `sail responses cancel`.
type ResponseIDOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*sail.Client, error)

	ID  string
	API apiFlags
}

// NewCmdResponsesGet builds `sail responses get`.
func NewCmdResponsesGet(f *Factory, runF func(context.Context, *ResponseIDOptions) error) *cobra.Command {
	return newCmdResponseID(f, runF, &cobra.Command{
		Use:     "get ID",
		Short:   "Print GET /v1/responses/{id}",
		Example: `  sail responses get resp_01J...`,
	}, (*sail.Client).Get)
}

// NewCmdResponsesCancel builds `sail responses cancel`.
func NewCmdResponsesCancel(f *Factory, runF func(context.Context, *ResponseIDOptions) error) *cobra.Command {
	return newCmdResponseID(f, runF, &cobra.Command{
		Use:     "cancel ID",
		Short:   "Cancel a background response",
		Example: `  sail responses cancel resp_01J...`,
	}, (*sail.Client).Cancel)
}

// newCmdResponseID completes cmd as a command that calls one API method
// on a response id and prints the answer.
func newCmdResponseID(f *Factory, runF func(context.Context, *ResponseIDOptions) error, cmd *cobra.Command,
	call func(*sail.Client, context.Context, string) (*sail.Response, error)) *cobra.Command {
	o := &ResponseIDOptions{IO: f.IO}
	cmd.Args = usageArgs(cobra.ExactArgs(1))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		o.ID = args[0]
		if runF != nil {
			return runF(cmd.Context(), o)
		}
		c, err := o.Client()
		if err != nil {
			return err
		}
		resp, err := call(c, cmd.Context(), o.ID)
		if err != nil {
			return err
		}
		return printJSON(o.IO, resp.Raw)
	}
	o.Client = f.apiClientFor(f.configFor(cmd, apiConfigKeys))
	o.API.register(cmd)
	return cmd
}

// ResponsesWaitOptions are the inputs of `sail responses wait`.
type ResponsesWaitOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*sail.Client, error)

	ID       string
	Timeout  time.Duration
	Interval time.Duration
	API      apiFlags
}

// NewCmdResponsesWait builds `sail responses wait`.
func NewCmdResponsesWait(f *Factory, runF func(context.Context, *ResponsesWaitOptions) error) *cobra.Command {
	o := &ResponsesWaitOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "wait ID",
		Short: "Poll a response until it finishes, then print it",
		Long: `Poll GET /v1/responses/{id} with backoff until the status is terminal and
print the response. Status changes go to stderr. Exits 6 when the response
ended failed, cancelled or incomplete, 124 on --timeout.`,
		Example: `  sail responses wait resp_01J... --timeout 5m | jq -r '.output[0].content[0].text'`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return responsesWaitRun(cmd.Context(), o)
		},
	}
	o.Client = f.apiClientFor(f.configFor(cmd, apiConfigKeys))
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up after this long (exit 124)")
	cmd.Flags().DurationVar(&o.Interval, "interval", 500*time.Millisecond, "first poll interval (grows to 5s)")
	o.API.register(cmd)
	return cmd
}

func responsesWaitRun(ctx context.Context, o *ResponsesWaitOptions) error {
	c, err := o.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	resp, err := c.Wait(ctx, o.ID, sail.WaitOptions{Interval: o.Interval, OnStatus: func(r *sail.Response) {
		fmt.Fprintf(o.IO.ErrOut, "%s %s\n", r.ID, r.Status)
	}})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return exitcode.WithHint(exitcode.Timeout, fmt.Errorf("%s did not finish within %s", o.ID, o.Timeout), "raise --timeout")
		}
		return err
	}
	if err := printJSON(o.IO, resp.Raw); err != nil {
		return err
	}
	switch resp.Status {
	case "failed", "cancelled", "incomplete":
		return exitcode.New(exitcode.ResponseFailed, "response %s ended %s", resp.ID, resp.Status)
	}
	return nil
}
