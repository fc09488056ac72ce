package sail

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	openai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/sailresearch/sail/internal/exitcode"
)

// Metadata keys Sail reads to deliver a completion webhook.
const (
	MetaCompletionWebhook = "completion_webhook"
	MetaWebhookToken      = "webhook_token"
)

// DefaultMessagesMaxTokens is sent as max_tokens on /v1/messages, where
// the field is required, when CreateRequest.MaxOutputTokens is 0. It is
// generous because Sail's models reason before answering.
const DefaultMessagesMaxTokens = 4096

// messagesTimeout is the per-attempt timeout of a Messages create. Passing
// one also bypasses the Anthropic SDK's guard that refuses large max_tokens
// without streaming, which is tuned to Anthropic's own models, not Sail's.
const messagesTimeout = 10 * time.Minute

// maxIdempotencyKey is Sail's limit on the Idempotency-Key header.
const maxIdempotencyKey = 255

// CreateRequest is one create call on any endpoint.
type CreateRequest struct {
	Endpoint Endpoint // "" means Responses
	Model    string   // required
	Input    string   // the user's prompt; required
	// Instructions become "instructions" (responses), a system message
	// (chat) or "system" (messages).
	Instructions string
	// MaxOutputTokens becomes max_output_tokens (responses),
	// max_completion_tokens (chat) or max_tokens (messages, where 0 means
	// DefaultMessagesMaxTokens). 0 leaves it to the server elsewhere.
	MaxOutputTokens int64
	// Metadata is the user's metadata; it must not set completion_webhook
	// or webhook_token itself (use WebhookURL/WebhookToken).
	Metadata map[string]string
	// WebhookURL and WebhookToken go into metadata.completion_webhook and
	// metadata.webhook_token, on all three endpoints.
	WebhookURL, WebhookToken string
	// Background asks for background mode; only the responses endpoint has
	// it, so Background with chat or messages is a usage error (exit 2)
	// rather than a silently blocking call.
	Background bool
	// CompletionWindow (asap, priority, standard, flex) is sent verbatim as
	// the body field completion_window; "" omits it.
	CompletionWindow string
	// IdempotencyKey is sent as the Idempotency-Key header (at most 255
	// printable ASCII characters); "" means a fresh random key. Reusing a
	// key with the same body makes Sail return the earlier job.
	IdempotencyKey string
}

// NewIdempotencyKey returns a fresh random key ("sail_" + 26 base32
// characters, 130 bits from crypto/rand).
func NewIdempotencyKey() string { return "sail_" + rand.Text() }

func (r *CreateRequest) check() error {
	usage := func(format string, args ...any) error {
		return exitcode.New(exitcode.Usage, format, args...)
	}
	if strings.TrimSpace(r.Model) == "" {
		return exitcode.WithHint(exitcode.Usage, errors.New("no model given"), "pass --model or set SAIL_MODEL (see `sail models`)")
	}
	if r.Input == "" {
		return usage("no input given: pass the prompt as an argument")
	}
	if r.Background && r.Endpoint != Responses {
		return exitcode.WithHint(exitcode.Usage,
			fmt.Errorf("background mode exists only on the responses endpoint, not %s", r.Endpoint),
			"drop --background or use --endpoint responses")
	}
	if r.MaxOutputTokens < 0 {
		return usage("max output tokens must not be negative")
	}
	for k := range r.Metadata {
		if k == MetaCompletionWebhook || k == MetaWebhookToken {
			return usage("metadata key %q is set by the webhook options, not by user metadata", k)
		}
	}
	if r.WebhookToken != "" && r.WebhookURL == "" {
		return usage("a webhook token needs a webhook URL")
	}
	if k := r.IdempotencyKey; k != "" {
		if len(k) > maxIdempotencyKey {
			return usage("idempotency key is %d characters; Sail allows at most %d", len(k), maxIdempotencyKey)
		}
		for i := 0; i < len(k); i++ {
			if k[i] < 0x21 || k[i] > 0x7e {
				return usage("idempotency key must be printable ASCII without spaces")
			}
		}
	}
	return nil
}

// metadata merges the user's metadata with the webhook keys.
func (r *CreateRequest) metadata() map[string]string {
	if len(r.Metadata) == 0 && r.WebhookURL == "" {
		return nil
	}
	m := make(map[string]string, len(r.Metadata)+2)
	for k, v := range r.Metadata {
		m[k] = v
	}
	if r.WebhookURL != "" {
		m[MetaCompletionWebhook] = r.WebhookURL
	}
	if r.WebhookToken != "" {
		m[MetaWebhookToken] = r.WebhookToken
	}
	return m
}

// Create sends one create call and returns what the server answered: for
// responses, the response object (non-terminal in background mode); for
// chat and messages, the finished answer (no GET by id exists for them).
// A bad request is a usage error (exit 2) before anything is sent.
//
// Every attempt carries the same Idempotency-Key, so the SDK's retries of
// a 5xx or a dropped connection cannot start a second job.
func (c *Client) Create(ctx context.Context, req CreateRequest) (*Response, error) {
	if req.Endpoint == "" {
		req.Endpoint = Responses
	}
	ep, err := ParseEndpoint(string(req.Endpoint))
	if err != nil {
		return nil, err
	}
	req.Endpoint = ep
	if err := req.check(); err != nil {
		return nil, err
	}
	key := req.IdempotencyKey
	if key == "" {
		key = NewIdempotencyKey()
	}
	k := c.newCall(http.MethodPost, req.Endpoint.Path(), req.WebhookToken)

	var raw []byte
	switch req.Endpoint {
	case Chat:
		err = c.createChat(ctx, k, req, key, &raw)
	case Messages:
		err = c.createMessage(ctx, k, req, key, &raw)
	default:
		err = c.createResponse(ctx, k, req, key, &raw)
	}
	if err := k.finish(ctx, err); err != nil {
		return nil, err
	}
	r, err := k.decode(raw, req.Endpoint)
	if err != nil {
		return nil, err
	}
	r.IdempotencyKey = key
	return r, nil
}

func (c *Client) openaiCreateOptions(k *call, req CreateRequest, key string, raw *[]byte) []option.RequestOption {
	opts := []option.RequestOption{
		option.WithHeader("Idempotency-Key", key),
		option.WithMiddleware(k.middleware),
		option.WithResponseBodyInto(raw),
	}
	if req.CompletionWindow != "" {
		opts = append(opts, option.WithJSONSet("completion_window", req.CompletionWindow))
	}
	return opts
}

func (c *Client) createResponse(ctx context.Context, k *call, req CreateRequest, key string, raw *[]byte) error {
	_, err := c.responses.New(ctx, responseParams(req), c.openaiCreateOptions(k, req, key, raw)...)
	return err
}

// responseParams is the body of a responses create; batch requests carry
// the same body (ResponsesBody).
func responseParams(req CreateRequest) responses.ResponseNewParams {
	p := responses.ResponseNewParams{
		Model: shared.ResponsesModel(req.Model),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(req.Input)},
	}
	if req.Instructions != "" {
		p.Instructions = openai.String(req.Instructions)
	}
	if req.MaxOutputTokens > 0 {
		p.MaxOutputTokens = openai.Int(req.MaxOutputTokens)
	}
	if req.Background {
		p.Background = openai.Bool(true)
	}
	if m := req.metadata(); m != nil {
		p.Metadata = shared.Metadata(m)
	}
	return p
}

func (c *Client) createChat(ctx context.Context, k *call, req CreateRequest, key string, raw *[]byte) error {
	var msgs []openai.ChatCompletionMessageParamUnion
	if req.Instructions != "" {
		msgs = append(msgs, openai.SystemMessage(req.Instructions))
	}
	msgs = append(msgs, openai.UserMessage(req.Input))
	p := openai.ChatCompletionNewParams{
		Model:    shared.ChatModel(req.Model),
		Messages: msgs,
	}
	if req.MaxOutputTokens > 0 {
		p.MaxCompletionTokens = openai.Int(req.MaxOutputTokens)
	}
	if m := req.metadata(); m != nil {
		p.Metadata = shared.Metadata(m)
	}
	_, err := c.chat.New(ctx, p, c.openaiCreateOptions(k, req, key, raw)...)
	return err
}

func (c *Client) createMessage(ctx context.Context, k *call, req CreateRequest, key string, raw *[]byte) error {
	maxTokens := req.MaxOutputTokens
	if maxTokens == 0 {
		maxTokens = DefaultMessagesMaxTokens
	}
	p := anthropic.MessageNewParams{
		Model:     anthropic.Model(req.Model),
		MaxTokens: maxTokens,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(req.Input))},
	}
	if req.Instructions != "" {
		p.System = []anthropic.TextBlockParam{{Text: req.Instructions}}
	}
	opts := []aoption.RequestOption{
		aoption.WithHeader("Idempotency-Key", key),
		aoption.WithMiddleware(k.middleware),
		aoption.WithResponseBodyInto(raw),
		aoption.WithRequestTimeout(messagesTimeout),
	}
	// The SDK types metadata as {user_id}; Sail reads arbitrary string keys
	// there, so the whole object is set on the JSON body.
	if m := req.metadata(); m != nil {
		opts = append(opts, aoption.WithJSONSet("metadata", m))
	}
	if req.CompletionWindow != "" {
		opts = append(opts, aoption.WithJSONSet("completion_window", req.CompletionWindow))
	}
	_, err := c.messages.New(ctx, p, opts...)
	return err
}
