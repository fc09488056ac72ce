// Package sailspec writes down the facts of Sail's published API reference
// (OpenAPI version 2026-02-18) that this project depends on, and checks
// requests and answers against them.
//
// It exists so the client and the emulator are each checked against the
// reference rather than against each other: when both were written from
// one misunderstanding, a test that pits one against the other cannot
// notice. The facts live here, in non-test code, so the client's contract
// tests and the emulator's tests read the same ones.
//
// Where the reference is silent or its docs pages disagree, the values
// below follow the project's decisions (README, "API compatibility").
// The package depends on nothing else in the project.
package sailspec

import (
	"net/http"
	"slices"
)

// ReferenceVersion is the version of Sail's OpenAPI reference these facts
// come from.
const ReferenceVersion = "2026-02-18"

// Request paths of the create endpoints.
const (
	PathResponses = "/v1/responses"
	PathChat      = "/v1/chat/completions"
	PathMessages  = "/v1/messages"
	PathBatches   = "/v1/batches"
)

// CreatePaths lists the three create endpoints.
func CreatePaths() []string { return []string{PathResponses, PathChat, PathMessages} }

// Idempotency header names. Sail reads Idempotency-Key on responses, chat
// and batches, and anthropic-idempotency-key on messages, nothing else.
const (
	HeaderIdempotencyKey          = "Idempotency-Key"
	HeaderAnthropicIdempotencyKey = "anthropic-idempotency-key" // as the reference spells it; http.Header canonicalises
	MaxIdempotencyKey             = 255                         // characters
)

// IdempotencyHeader is the header Sail reads the idempotency key from on
// path ("" for a path that takes none).
func IdempotencyHeader(path string) string {
	switch path {
	case PathMessages:
		return HeaderAnthropicIdempotencyKey
	case PathResponses, PathChat, PathBatches:
		return HeaderIdempotencyKey
	}
	return ""
}

// Metadata keys Sail reads from request metadata (an object of string
// values) on all three create endpoints.
const (
	MetaCompletionWindow  = "completion_window"
	MetaCompletionWebhook = "completion_webhook"
	MetaWebhookToken      = "webhook_token"
)

// Metadata limits. The reference publishes none; the project follows
// OpenAI's (which Sail's responses and chat endpoints mirror) and the
// emulator enforces them.
const (
	MetadataMaxKeys     = 16
	MetadataMaxKeyLen   = 64
	MetadataMaxValueLen = 512
)

// CompletionWindows are the values the reference (2026-02) names for
// metadata.completion_window; flex needs background mode. Earlier docs
// name asap, 15m, 24h and a later page asap, balanced, flex, so any
// non-empty value is passed through: this list is what completion and
// help offer, not a validation set.
func CompletionWindows() []string { return []string{"asap", "priority", "standard", "flex"} }

// Value ranges of the create parameters, per endpoint.
const (
	TemperatureMaxOpenAI    = 2.0 // responses and chat: 0–2
	TemperatureMaxAnthropic = 1.0 // messages: 0–1
	TopPMax                 = 1.0 // every endpoint: 0–1
	MaxUserLen              = 256 // responses "user"
)

// TemperatureMax is the upper bound of temperature on path.
func TemperatureMax(path string) float64 {
	if path == PathMessages {
		return TemperatureMaxAnthropic
	}
	return TemperatureMaxOpenAI
}

// ReasoningEfforts are the reasoning effort values path accepts:
// reasoning.effort (responses), reasoning_effort (chat) and
// output_config.effort (messages).
func ReasoningEfforts(path string) []string {
	if path == PathMessages {
		return []string{"low", "medium", "high", "xhigh", "max"}
	}
	return []string{"none", "minimal", "low", "medium", "high", "xhigh"}
}

// MessageRoles are the roles a {role, content} input message may have on
// path. Messages takes the system prompt in "system", never as a role.
func MessageRoles(path string) []string {
	switch path {
	case PathMessages:
		return []string{"user", "assistant"}
	case PathChat:
		return []string{"system", "developer", "user", "assistant", "tool"}
	}
	return []string{"system", "developer", "user", "assistant"}
}

// allowedKeys are the top-level request keys each create endpoint's
// reference lists. Messages' schema is closed: any other key can be a
// 400. Responses and chat are open in practice, but the client sends only
// what is listed.
var allowedKeys = map[string][]string{
	PathResponses: {
		"model", "input", "instructions", "background", "metadata", "stream",
		"max_output_tokens", "temperature", "top_p", "reasoning", "text",
		"prompt_cache_key", "user", "store", "include", "truncation",
		"raw_prompt_tokens",
	},
	PathChat: {
		// OpenAI's chat wire format, which Sail follows; max_tokens is not
		// among them (Sail rejects it: use max_completion_tokens).
		"model", "messages", "metadata", "stream", "stream_options",
		"max_completion_tokens", "temperature", "top_p", "reasoning_effort",
		"response_format", "prompt_cache_key", "user", "store", "tools",
		"tool_choice", "n", "stop", "seed", "presence_penalty",
		"frequency_penalty", "logprobs", "top_logprobs",
	},
	PathMessages: {
		"model", "max_tokens", "messages", "system", "temperature", "top_p",
		"output_config", "tools", "tool_choice", "thinking", "stream",
		"metadata", "context_management",
	},
}

// requiredKeys are the top-level keys each create endpoint requires.
var requiredKeys = map[string][]string{
	PathResponses: {"model", "input"},
	PathChat:      {"model", "messages"},
	PathMessages:  {"model", "max_tokens", "messages"},
}

// AllowedKeys lists the top-level keys the reference lists for path's
// create body (nil for an unknown path).
func AllowedKeys(path string) []string { return slices.Clone(allowedKeys[path]) }

// RequiredKeys lists the top-level keys path's create body must hold.
func RequiredKeys(path string) []string { return slices.Clone(requiredKeys[path]) }

// TokenCapKey is the top-level key of the output token cap on path.
func TokenCapKey(path string) string {
	switch path {
	case PathChat:
		return "max_completion_tokens"
	case PathMessages:
		return "max_tokens"
	}
	return "max_output_tokens"
}

// CreateStatus is the HTTP status of a successful create: 202 for a
// background create (answered at once, not yet done), 200 otherwise.
func CreateStatus(background bool) int {
	if background {
		return http.StatusAccepted
	}
	return http.StatusOK
}

// Response statuses in the two dialects Sail's docs use. The reference
// lists the first; its docs pages and OpenAI's SDKs the second. Both may
// appear on the wire, and incomplete is OpenAI's.
func StatusesReference() []string {
	return []string{"pending", "running", "failed", "completed", "cancelled"}
}

// StatusesOpenAI is the docs pages' (and OpenAI's) dialect.
func StatusesOpenAI() []string {
	return []string{"queued", "in_progress", "failed", "completed", "cancelled", "incomplete"}
}

// ResponseRequiredKeys are the response object's required fields.
func ResponseRequiredKeys() []string {
	return []string{"id", "object", "created_at", "status", "model", "metadata", "usage"}
}

// UsageKeys are the integer fields of the response object's usage, which
// is present (zeros) before the response finishes, never null.
func UsageKeys() []string { return []string{"input_tokens", "output_tokens", "total_tokens"} }

// UsageDetails maps each usage details object to the integer fields it
// holds.
func UsageDetails() map[string][]string {
	return map[string][]string{
		"input_tokens_details":  {"cached_tokens"},
		"output_tokens_details": {"reasoning_tokens"},
	}
}

// ErrorKeys are the fields of OpenAI's error envelope
// {"error":{"message","type","param","code"}}, which Sail uses on every
// endpoint, /v1/messages included.
func ErrorKeys() []string { return []string{"message", "type", "param", "code"} }

// IdempotencyErrorCode is error.code when a key is reused with a
// different body.
const IdempotencyErrorCode = "idempotency_error"
