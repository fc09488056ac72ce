package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/status"
	"github.com/sailresearch/sail/internal/webhook"
)

// maxTriggerPayload bounds a --payload file: the receiver's own default
// limit, so anything larger would only test the 413.
const maxTriggerPayload = webhook.DefaultMaxBody

// triggerStatuses are the terminal statuses a webhook fires on.
var triggerStatuses = []string{"completed\tthe answer, with usage", "failed\tan error object, no output", "cancelled\tno output", "incomplete\thalf an answer, incomplete_details"}

// TriggerOptions are the inputs of `sail trigger`.
type TriggerOptions struct {
	IO         *iostreams.IOStreams
	HTTPClient *http.Client
	Now        func() time.Time // the payload's created_at
	Config     func() (*config.Config, error)

	To             string
	Token          string
	Status         string
	Endpoint       string
	Model          string // "" means the configured model
	Prompt         string
	Payload        string
	MaxAttempts    int
	RetryBackoff   time.Duration
	AttemptTimeout time.Duration
	JSON           bool
}

const triggerLong = `Send your webhook handler what Sail sends when a response finishes: a POST
with Content-Type: application/json, Authorization: Bearer <--token> when a
token is given, and the response object as the body (built by the same code
as the emulator's, with metadata.completion_webhook and metadata.webhook_token
echoed as Sail echoes them).

Delivery is the emulator's own: a non-2xx answer, a network error or a
timeout (--attempt-timeout, 30s like Sail) is retried after --retry-backoff,
doubling, up to --max-attempts in all (default 4: one attempt and Sail's up
to 3 retries). A redirect is a failed attempt; it is not followed.

Each attempt is reported with your app's status, latency and the start of
its answer. Exits 0 when an attempt got a 2xx, 3 when none did.`

const triggerExample = `  # Test your handler in one line:
  sail trigger --to http://localhost:3000/webhooks/sail --token "$WEBHOOK_TOKEN"

  # A failed response, as the chat endpoint would deliver it:
  sail trigger --to http://localhost:3000/webhooks/sail --status failed --endpoint chat

  # Your own payload, retried quickly, with one JSON line per attempt:
  sail trigger --to http://localhost:3000/hook --payload resp.json --retry-backoff 100ms --json

  # Against a listener (sail listen prints this line for itself):
  sail trigger --to http://127.0.0.1:8765/sail --token s3cret`

// NewCmdTrigger builds `sail trigger`.
func NewCmdTrigger(f *Factory, runF func(context.Context, *TriggerOptions) error) *cobra.Command {
	o := &TriggerOptions{IO: f.IO, HTTPClient: f.HTTPClient, Now: f.Now, Config: f.Config}
	cmd := &cobra.Command{
		Use:     "trigger --to URL",
		Short:   "Send a realistic completion webhook to your app, without any API",
		Long:    triggerLong,
		Example: triggerExample,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return triggerRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.To, "to", "", "URL of your webhook handler (required)")
	fl.StringVar(&o.Token, "token", "", "webhook token: sent as Authorization: Bearer and echoed in metadata.webhook_token")
	fl.StringVar(&o.Status, "status", "completed", "terminal status: completed, failed, cancelled or incomplete")
	fl.StringVarP(&o.Endpoint, "endpoint", "e", "responses", "endpoint the response came from: responses, chat or messages")
	fl.StringVarP(&o.Model, "model", "m", "", "model in the payload (default from config: moonshotai/Kimi-K2.5)")
	fl.StringVar(&o.Prompt, "prompt", "What is 2+2? Reply with just the number.", "prompt the emulator's fake model answers for the payload")
	fl.StringVar(&o.Payload, "payload", "", "send this JSON object instead (`FILE`, - for stdin)")
	fl.IntVar(&o.MaxAttempts, "max-attempts", emulator.DefaultSendAttempts, "attempts in all before giving up (Sail: 1 + up to 3 retries)")
	fl.DurationVar(&o.RetryBackoff, "retry-backoff", emulator.DefaultRetryBackoff, "wait before the first retry, doubling after each")
	fl.DurationVar(&o.AttemptTimeout, "attempt-timeout", emulator.DefaultDeliveryTimeout, "bound on each attempt, as Sail's")
	fl.BoolVar(&o.JSON, "json", false, "one JSON object per attempt on stdout")
	registerTriggerCompletions(cmd, f)
	return cmd
}

func registerTriggerCompletions(cmd *cobra.Command, f *Factory) {
	for name, vals := range map[string][]string{"status": triggerStatuses, "endpoint": fixedValues["endpoint"]} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
	}
	_ = cmd.RegisterFlagCompletionFunc("model", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		cfg, err := f.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return cfg.Models(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("payload", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"json"}, cobra.ShellCompDirectiveFilterFileExt
	})
}

// check refuses flags that cannot be sent, and spells the status and the
// endpoint as the payload does.
func (o *TriggerOptions) check(cmd *cobra.Command) error {
	if o.To == "" {
		return usageError(cmd, errors.New("--to URL is required: where should the webhook go?"))
	}
	if err := checkHTTPURL("--to", o.To); err != nil {
		return err
	}
	if o.MaxAttempts < 1 {
		return usageError(cmd, fmt.Errorf("--max-attempts %d: must be at least 1", o.MaxAttempts))
	}
	if o.RetryBackoff < 0 || o.AttemptTimeout <= 0 {
		return usageError(cmd, errors.New("--retry-backoff must not be negative and --attempt-timeout must be positive"))
	}
	if o.Payload != "" {
		for _, name := range []string{"status", "endpoint", "model", "prompt"} {
			if cmd.Flags().Changed(name) {
				return usageError(cmd, fmt.Errorf("--%s describes the generated payload: it cannot be combined with --payload", name))
			}
		}
		return nil
	}
	st := status.Normalize(o.Status)
	switch st {
	case status.Completed, status.Failed, status.Cancelled, status.Incomplete:
		o.Status = st
	default:
		return usageError(cmd, fmt.Errorf("--status %q: webhooks fire on completed, failed, cancelled or incomplete", o.Status))
	}
	ep, err := sail.ParseEndpoint(o.Endpoint)
	if err != nil {
		return err
	}
	o.Endpoint = string(ep)
	return nil
}

// triggerAttempt is one line of `sail trigger --json`.
type triggerAttempt struct {
	Attempt    int               `json:"attempt"`
	ResponseID string            `json:"response_id"`
	URL        string            `json:"url"`
	StatusCode int               `json:"status_code,omitempty"`
	LatencyMS  float64           `json:"latency_ms"`
	OK         bool              `json:"ok"`
	Error      string            `json:"error,omitempty"`
	Answer     string            `json:"answer,omitempty"`  // start of the app's answer, one sanitised line
	Headers    map[string]string `json:"headers,omitempty"` // the app's response headers, redacted
}

func triggerRun(ctx context.Context, o *TriggerOptions) error {
	id, body, err := triggerPayload(o)
	if err != nil {
		return err
	}
	shownURL := redactedURL(o.To)
	if !o.JSON {
		tok := "no token"
		if o.Token != "" {
			tok = "Bearer token"
		}
		fmt.Fprintf(o.IO.Out, "→ POST %s · %s · %s · %s\n", shownURL, render.Sanitize(id), describePayload(o), tok)
	}
	client, rec := recordingClient(noRedirectClient(o.HTTPClient))
	report := &attemptReport{o: o, url: shownURL, answers: rec, enc: json.NewEncoder(o.IO.Out)}
	report.enc.SetEscapeHTML(false)
	_, err = emulator.Send(ctx, emulator.SendOptions{
		Attempts:        o.MaxAttempts,
		RetryBackoff:    max(o.RetryBackoff, time.Nanosecond), // 0 would mean the emulator's default
		DeliveryTimeout: o.AttemptTimeout,
		HTTPClient:      client,
		Log:             report.log,
	}, o.To, o.Token, id, body)
	if err != nil {
		return err
	}
	switch {
	case report.anyOK():
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	n := fmt.Sprintf("%d attempts", o.MaxAttempts)
	if o.MaxAttempts == 1 {
		n = "1 attempt"
	}
	return exitcode.WithHint(exitcode.Verify, fmt.Errorf("no attempt got a 2xx from %s (%s)", shownURL, n),
		"check that your app is running, answers 2xx, and expects the token given to --token")
}

// triggerPayload is the response id and body to send: --payload, or one
// the emulator's code builds.
func triggerPayload(o *TriggerOptions) (string, []byte, error) {
	if o.Payload != "" {
		return readTriggerPayload(o.IO.In, o.Payload)
	}
	if o.Model == "" { // the report names the model too
		cfg, err := o.Config()
		if err != nil {
			return "", nil, err
		}
		o.Model = cfg.Get("model")
	}
	id, body := emulator.SamplePayload(emulator.Sample{
		Endpoint: o.Endpoint, Status: o.Status, Model: o.Model, Prompt: o.Prompt,
		WebhookURL: o.To, Token: o.Token,
	}, o.Now())
	return id, body, nil
}

// attemptReport prints each delivery attempt as it is logged, on the
// dispatcher's goroutine.
type attemptReport struct {
	o       *TriggerOptions
	url     string
	answers *answerRecorder
	enc     *json.Encoder

	mu sync.Mutex
	ok bool
}

func (r *attemptReport) log(a emulator.Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ans := r.answers.take()
	line := triggerAttempt{
		Attempt: a.Number, ResponseID: render.Sanitize(a.ResponseID), URL: r.url, StatusCode: a.StatusCode,
		LatencyMS: float64(a.Duration.Microseconds()) / 1000, OK: a.OK(), Error: render.Sanitize(a.Err),
	}
	if a.StatusCode != 0 {
		line.Answer, line.Headers = render.Sanitize(webhook.Excerpt(ans.body)), ans.headers
	}
	r.ok = r.ok || a.OK()
	if r.o.JSON {
		_ = r.enc.Encode(line)
		return
	}
	fmt.Fprintln(r.o.IO.Out, formatAttempt(line))
}

func (r *attemptReport) anyOK() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok
}

// recordingClient is client with its answers recorded for the report.
func recordingClient(client *http.Client) (*http.Client, *answerRecorder) {
	rec := &answerRecorder{base: client.Transport}
	if rec.base == nil {
		rec.base = http.DefaultTransport
	}
	client.Transport = rec
	return client, rec
}

func describePayload(o *TriggerOptions) string {
	switch o.Payload {
	case "":
	case "-":
		return "payload from stdin"
	default:
		return "payload from " + render.Sanitize(o.Payload)
	}
	return o.Status + " · " + o.Endpoint + " · " + render.Sanitize(o.Model)
}

func formatAttempt(l triggerAttempt) string {
	mark := "✗"
	if l.OK {
		mark = "✓"
	}
	s := fmt.Sprintf("%s attempt %d: ", mark, l.Attempt)
	if l.StatusCode != 0 {
		s += fmt.Sprintf("%d %s in %.0fms", l.StatusCode, http.StatusText(l.StatusCode), l.LatencyMS)
	} else {
		// The URL is already on the first line.
		msg := strings.TrimPrefix(l.Error, fmt.Sprintf("Post %q: ", l.URL))
		s += fmt.Sprintf("%s after %.0fms", msg, l.LatencyMS)
	}
	if l.Answer != "" {
		s += " · " + l.Answer
	}
	return s
}

// readTriggerPayload reads --payload: a JSON object, whose id names the
// response in the report.
func readTriggerPayload(stdin io.Reader, name string) (string, []byte, error) {
	var r io.Reader
	if name == "-" {
		r = stdin
	} else {
		file, err := os.Open(name)
		if err != nil {
			return "", nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("--payload: %w", err), "pass a JSON file, or - for stdin")
		}
		defer file.Close()
		r = file
	}
	body, err := io.ReadAll(io.LimitReader(r, maxTriggerPayload+1))
	if err != nil {
		return "", nil, fmt.Errorf("--payload: %w", err)
	}
	if len(body) > maxTriggerPayload {
		return "", nil, exitcode.New(exitcode.Usage, "--payload is larger than %d MiB", maxTriggerPayload>>20)
	}
	body = bytes.TrimSpace(body)
	info, err := payload.Inspect(body)
	if err != nil {
		return "", nil, exitcode.WithHint(exitcode.Usage, fmt.Errorf("--payload %s is not a JSON object: %w", name, err),
			"Sail delivers the response object; see: sail history show --last --raw")
	}
	return info.ID, body, nil
}

func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return render.Sanitize(raw)
	}
	return render.Sanitize(u.Redacted())
}

// answerRecorder keeps the start and the headers of the last answer the
// dispatcher read, which discards them itself: attempts are sequential,
// so the Log callback of an attempt takes that attempt's answer.
type answerRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last recordedAnswer
}

type recordedAnswer struct {
	headers map[string]string
	body    []byte
}

// answerExcerpt is how much of an answer is kept.
const answerExcerpt = 200

func (r *answerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	r.mu.Lock()
	r.last = recordedAnswer{headers: webhook.ResponseHeaders(res.Header)}
	r.mu.Unlock()
	res.Body = &teeBody{ReadCloser: res.Body, r: r}
	return res, nil
}

func (r *answerRecorder) take() recordedAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.last
	r.last = recordedAnswer{}
	return a
}

type teeBody struct {
	io.ReadCloser
	r *answerRecorder
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.r.mu.Lock()
		if room := answerExcerpt - len(t.r.last.body); room > 0 {
			t.r.last.body = append(t.r.last.body, p[:min(n, room)]...)
		}
		t.r.mu.Unlock()
	}
	return n, err
}
