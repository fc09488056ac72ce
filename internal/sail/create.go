package sail

import (
	"context"
	"crypto/rand"
	"encoding/json"
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
	"github.com/sailresearch/sail/internal/sailspec"
)

// Metadata keys Sail reads: the completion window and the webhook.
const (
	MetaCompletionWindow  = sailspec.MetaCompletionWindow
	MetaCompletionWebhook = sailspec.MetaCompletionWebhook
	MetaWebhookToken      = sailspec.MetaWebhookToken
)

// DefaultMessagesMaxTokens is sent as max_tokens on /v1/messages, where
// the field is required, when CreateRequest.MaxOutputTokens is 0. It is
// generous because Sail's models reason before answering.
const DefaultMessagesMaxTokens = 4096

// messagesTimeout is the per-attempt timeout of a Messages create. Passing
// one also bypasses the Anthropic SDK's guard that refuses large max_tokens
// without streaming, which is tuned to Anthropic's own models, not Sail's.
const messagesTimeout = 10 * time.Minute

// maxIdempotencyKey is Sail's limit on the idempotency key.
const maxIdempotencyKey = sailspec.MaxIdempotencyKey

// CreateRequest is one create call on any endpoint.
type CreateRequest struct {
	Endpoint Endpoint // "" means Responses
	Model    string   // required
	// Input is the user's prompt. Exactly one of Input and Messages is
	// required.
	Input string
	// Messages is the input as {role, content} messages: responses'
	// input array, chat's messages, or messages' messages (a system
	// message there moves into "system", after Instructions).
	Messages []Message
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
	// CompletionWindow (asap, priority, standard, flex, or any other value
	// a docs version names) is sent verbatim as metadata.completion_window
	// on every endpoint, where Sail reads it; it replaces a
	// completion_window in Metadata. "" leaves Metadata as it is.
	CompletionWindow string
	// IdempotencyKey is sent as Idempotency-Key (responses, chat) or
	// anthropic-idempotency-key (messages), at most 255 printable ASCII
	// characters; "" means a fresh random key. Reusing a key with the same
	// body makes Sail return the earlier job.
	IdempotencyKey string

	// Generation parameters, mapped per endpoint (see README, "API
	// compatibility"); nil or "" leaves each to the server. Values outside
	// the reference's ranges for the endpoint are usage errors.
	Temperature     *float64    // responses and chat 0–2, messages 0–1
	TopP            *float64    // 0–1
	ReasoningEffort string      // reasoning.effort | reasoning_effort | output_config.effort
	JSONSchema      *JSONSchema // text.format | response_format | output_config.format
	PromptCacheKey  string      // responses and chat only
	User            string      // "user" (responses, chat) or metadata.user_id (messages)
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
	if r.Input == "" && len(r.Messages) == 0 {
		return usage("no input given: pass the prompt as an argument")
	}
	if r.Input != "" && len(r.Messages) > 0 {
		return usage("give the input as a prompt or as messages, not both")
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
	return r.checkParams()
}

// metadata merges the user's metadata with the keys sail sets: the
// completion window and webhook everywhere, and the user on messages.
func (r *CreateRequest) metadata() map[string]string {
	userInMeta := r.User != "" && r.Endpoint == Messages
	if len(r.Metadata) == 0 && r.WebhookURL == "" && r.CompletionWindow == "" && !userInMeta {
		return nil
	}
	m := make(map[string]string, len(r.Metadata)+4)
	for k, v := range r.Metadata {
		m[k] = v
	}
	if r.CompletionWindow != "" {
		m[MetaCompletionWindow] = r.CompletionWindow
	}
	if userInMeta {
		m[MetaUserID] = r.User
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
// Every attempt carries the same idempotency key (Idempotency-Key, or
// anthropic-idempotency-key on messages), so the SDK's retries of a 5xx
// or a dropped connection cannot start a second job.
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

// extraBody is the endpoint's body beyond what the SDK params carry: the
// generation parameters and, as given, the input messages. Each key is a
// top-level key sailspec lists for the endpoint; they are set on the JSON
// body so the values go out exactly as the user wrote them.
func (r *CreateRequest) extraBody() []bodyField {
	var f []bodyField
	add := func(k string, v any) { f = append(f, bodyField{k, v}) }
	if r.Temperature != nil {
		add("temperature", *r.Temperature)
	}
	if r.TopP != nil {
		add("top_p", *r.TopP)
	}
	switch r.Endpoint {
	case Responses:
		if len(r.Messages) > 0 {
			add("input", r.Messages)
		}
		if r.ReasoningEffort != "" {
			add("reasoning", map[string]string{"effort": r.ReasoningEffort})
		}
		if js := r.JSONSchema; js != nil {
			format := map[string]any{"type": "json_schema", "name": js.Name, "schema": js.Schema}
			if js.Strict != nil {
				format["strict"] = *js.Strict
			}
			add("text", map[string]any{"format": format})
		}
		if r.PromptCacheKey != "" {
			add("prompt_cache_key", r.PromptCacheKey)
		}
		if r.User != "" {
			add("user", r.User)
		}
	case Chat:
		if len(r.Messages) > 0 {
			msgs := r.Messages
			if r.Instructions != "" {
				sys, _ := json.Marshal(r.Instructions)
				msgs = append([]Message{{Role: "system", Content: sys}}, msgs...)
			}
			add("messages", msgs)
		}
		if r.ReasoningEffort != "" {
			add("reasoning_effort", r.ReasoningEffort)
		}
		if js := r.JSONSchema; js != nil {
			inner := map[string]any{"name": js.Name, "schema": js.Schema}
			if js.Strict != nil {
				inner["strict"] = *js.Strict
			}
			add("response_format", map[string]any{"type": "json_schema", "json_schema": inner})
		}
		if r.PromptCacheKey != "" {
			add("prompt_cache_key", r.PromptCacheKey)
		}
		if r.User != "" {
			add("user", r.User)
		}
	case Messages:
		if len(r.Messages) > 0 {
			var turns []Message
			for _, m := range r.Messages {
				if m.Role != "system" {
					turns = append(turns, m)
				}
			}
			add("messages", turns)
		}
		oc := map[string]any{}
		if r.ReasoningEffort != "" {
			oc["effort"] = r.ReasoningEffort
		}
		if js := r.JSONSchema; js != nil {
			// Anthropic's format has no name or strict.
			oc["format"] = map[string]any{"type": "json_schema", "schema": js.Schema}
		}
		if len(oc) > 0 {
			add("output_config", oc)
		}
		// user goes into metadata.user_id (see metadata); prompt cache
		// keys were refused by check.
	}
	return f
}

type bodyField struct {
	key   string
	value any
}

// system is the messages endpoint's "system": Instructions, then the
// text of each system message, separated by blank lines.
func (r *CreateRequest) system() string {
	parts := []string{}
	if r.Instructions != "" {
		parts = append(parts, r.Instructions)
	}
	for _, m := range r.Messages {
		if s, ok := m.text(); ok && m.Role == "system" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

func (c *Client) openaiCreateOptions(k *call, req CreateRequest, key string, raw *[]byte) []option.RequestOption {
	opts := []option.RequestOption{
		option.WithHeader(sailspec.HeaderIdempotencyKey, key),
		option.WithMiddleware(k.middleware),
		option.WithResponseBodyInto(raw),
	}
	for _, f := range req.extraBody() {
		opts = append(opts, option.WithJSONSet(f.key, f.value))
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
	}
	if req.Input != "" {
		p.Input = responses.ResponseNewParamsInputUnion{OfString: openai.String(req.Input)}
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
	p := openai.ChatCompletionNewParams{
		Model: shared.ChatModel(req.Model),
	}
	if req.Input != "" {
		// With Messages, extraBody sets "messages" instead.
		if req.Instructions != "" {
			p.Messages = append(p.Messages, openai.SystemMessage(req.Instructions))
		}
		p.Messages = append(p.Messages, openai.UserMessage(req.Input))
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
	}
	if req.Input != "" {
		p.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(req.Input))}
	}
	if sys := req.system(); sys != "" {
		p.System = []anthropic.TextBlockParam{{Text: sys}}
	}
	opts := []aoption.RequestOption{
		aoption.WithHeader(sailspec.HeaderAnthropicIdempotencyKey, key),
		aoption.WithMiddleware(k.middleware),
		aoption.WithResponseBodyInto(raw),
		aoption.WithRequestTimeout(messagesTimeout),
	}
	// The SDK types metadata as {user_id}; Sail reads arbitrary string keys
	// there, so the whole object is set on the JSON body.
	if m := req.metadata(); m != nil {
		opts = append(opts, aoption.WithJSONSet("metadata", m))
	}
	for _, f := range req.extraBody() {
		opts = append(opts, aoption.WithJSONSet(f.key, f.value))
	}
	_, err := c.messages.New(ctx, p, opts...)
	return err
}
