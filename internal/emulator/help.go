// Package emulator is a local, Sail-compatible inference API with a
// completion-webhook dispatcher and fault injection. It is an http.Handler
// (New) for in-process tests and `sail run --emulator`, and a server (Start)
// for `sail emulator --addr 127.0.0.1:4010`.
//
// Sail's API reference (OpenAPI 2026-02-18) is the specification: OpenAI
// Responses, Chat Completions and Models; Anthropic Messages with its closed
// request schema; OpenAI's error envelope on every endpoint; statuses in
// the reference's names (pending, running) or, with Options.StatusNames,
// OpenAI's (queued, in_progress). Every create stores a response object
// that GET /v1/responses/{id} serves and the webhook carries, byte for
// byte.
//
// Sending completion_webhook with the official Go SDKs: openai-go takes it
// in the Metadata map (shared.Metadata{"completion_webhook": url,
// "webhook_token": tok}). anthropic-sdk-go's MetadataParam types only
// user_id, so add the keys as extra fields:
//
//	md := anthropic.MetadataParam{}
//	md.SetExtraFields(map[string]any{"completion_webhook": url, "webhook_token": tok})
//
// or per request with option.WithJSONSet("metadata.completion_webhook", url).
// Give anthropic-sdk-go the root URL (Running.RootURL, no /v1): it appends
// /v1/messages itself.
package emulator

// HelpText explains the emulator's fake model and fault injection, for
// `sail emulator --help`.
const HelpText = `The emulator serves a Sail-compatible API on loopback:
  GET  /v1/models                   the six Sail models
  POST /v1/responses                OpenAI Responses (background or foreground)
  GET  /v1/responses/{id}           the response object (also for chat/message ids)
  POST /v1/responses/{id}/cancel    cancel an unfinished background response
  POST /v1/chat/completions         OpenAI Chat Completions
  POST /v1/messages                 Anthropic Messages (x-api-key or Bearer)
  POST /v1/messages/count_tokens    Anthropic token count
  GET  /_emulator/deliveries        webhook delivery attempts as JSON (?response_id=ID)
OpenAI SDKs take the base URL http://HOST:PORT/v1; Anthropic SDKs http://HOST:PORT.
Streaming is not emulated (stream:true is a 400).

Requests, as Sail's API reference (2026-02-18) has them:
  Errors are in OpenAI's envelope {"error":{"message","type","param","code"}}
  on every endpoint, /v1/messages included.
  /v1/messages has a closed schema: a top-level key other than model,
  max_tokens (required), messages, system, temperature (0-1), top_p,
  output_config, tools, tool_choice, thinking, stream, metadata and
  context_management is a 400 naming it. Chat refuses max_tokens (400: use
  max_completion_tokens). temperature is 0-2 on responses and chat, top_p 0-1;
  reasoning effort (reasoning.effort, reasoning_effort, output_config.effort)
  must be one of the reference's values; user is at most 256 characters.
  metadata is an object of string values (at most 16 keys, keys up to 64 and
  values up to 512 characters, OpenAI's limits: Sail publishes none).
  metadata.completion_window must be one of asap, priority, standard, flex
  (the reference's), 15m, 24h or balanced (named by other versions of Sail's
  docs); flex needs background=true on /v1/responses. A top-level
  completion_window is ignored on responses and chat, as Sail ignores it.
  Idempotency: Idempotency-Key on responses and chat,
  anthropic-idempotency-key on messages (at most 255 characters). The same key
  with the same body returns the first response (no new job, no second
  webhook); with another body it is a 400 idempotency_error. A request that
  fails validation does not use the key up.

Fake model (deterministic):
  If the last user message contains "a op b" (non-negative integers, op one of
  + - * /), the reply is the result of the first such expression:
  "What is 2+2? Reply with just the number." -> "4". Division gives at most six
  decimals (7/2 -> 3.5, 1/3 -> 0.333333); division by zero gives "undefined".
  Otherwise the reply is "Echo: " followed by the first 200 characters of that
  message. Tokens are counted as ceil(characters/4), at least 1. A reply longer
  than max_output_tokens (max_tokens, max_completion_tokens) is cut to 4
  characters per token and the response ends "incomplete" (max_output_tokens).

Lifecycle and webhooks:
  A background create answers 202 at once with status "pending", then moves to
  "running" and on to its terminal status, each after the configured latency
  (with --status-names openai: "queued", then "in_progress"). A foreground
  create answers 200 when terminal. usage is always present, with
  input_tokens_details and output_tokens_details, zeros until the response
  finishes. On every terminal status (completed, failed, incomplete,
  cancelled) the response object is POSTed to metadata.completion_webhook
  (absolute http/https URL; otherwise nothing is sent) with Content-Type:
  application/json and, when metadata.webhook_token is set, Authorization:
  Bearer <token>. The body is byte-identical to GET /v1/responses/{id}. By
  default: one attempt plus up to 3 retries (at most 4 attempts;
  --max-attempts changes it) on a non-2xx answer, a network error or a timeout
  (30s per attempt), 1s backoff doubling.
  Redirects are not followed: a 3xx is a failed attempt. A failed webhook never
  changes the response.

Fault injection, per request, in metadata (the key stays in the metadata):
  "sail_emulator": "ITEM;ITEM;..."   spaces around items are ignored
    outcome=completed|failed|incomplete|cancelled   terminal status to reach
    drop_webhook          send no webhook
    duplicate             deliver the payload again after the first success
    wrong_token           send a random bearer token instead of webhook_token
    fail_attempts=N       the first N attempts fail as a network error (nothing sent)
    delay=DURATION        wait before the first attempt (Go duration: 500ms, 2s)
    latency=DURATION      time spent pending and again running
  Flags also accept =true or =false. Example:
    "sail_emulator": "outcome=failed;fail_attempts=2;delay=500ms"
  A request value overrides the emulator's settings for that response. An unknown
  item or a bad value is a 400 naming metadata.sail_emulator.
  For chat completions and messages, outcome failed or cancelled makes the create
  answer a 500 error (with x-should-retry: false), while the webhook still
  carries the response object.`
