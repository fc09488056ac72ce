package sail

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sailspec"
)

// The contract tests check every request the CLI can send against the
// facts of Sail's API reference in sailspec, not against the emulator: a
// server that only records captures what the real client sends, and
// sailspec judges it. Each case is one option (a CLI flag or batch-line
// field) on each endpoint, with and without background mode.

// contractFlag is one option as the CLI sets it on a CreateRequest, and
// what the reference expects on the wire for each endpoint: dotted paths
// into the body with their values. An endpoint in refuse must get a usage
// error and no request at all.
type contractFlag struct {
	name   string
	set    func(*CreateRequest)
	want   map[Endpoint]map[string]any
	absent map[Endpoint][]string // dotted paths that must not be in the body
	refuse map[Endpoint]string   // substring of the usage error
}

func ptr[T any](v T) *T { return &v }

func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

var sampleSchema = rawJSON(`{"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"]}`)

func everywhere(m map[string]any) map[Endpoint]map[string]any {
	return map[Endpoint]map[string]any{Responses: m, Chat: m, Messages: m}
}

var contractFlags = []contractFlag{
	{name: "prompt", set: func(*CreateRequest) {},
		want: map[Endpoint]map[string]any{
			Responses: {"input": "What is 2+2?"},
			Chat:      {"messages.0.role": "user", "messages.0.content": "What is 2+2?"},
			Messages:  {"messages.0.role": "user", "messages.0.content.0.text": "What is 2+2?", "max_tokens": float64(DefaultMessagesMaxTokens)},
		},
		absent: map[Endpoint][]string{Responses: {"metadata", "max_output_tokens"}, Chat: {"metadata", "max_completion_tokens"}, Messages: {"metadata"}},
	},
	{name: "instructions", set: func(r *CreateRequest) { r.Instructions = "Be terse." },
		want: map[Endpoint]map[string]any{
			Responses: {"instructions": "Be terse."},
			Chat:      {"messages.0.role": "system", "messages.0.content": "Be terse.", "messages.1.role": "user"},
			Messages:  {"system.0.text": "Be terse."},
		},
	},
	{name: "max-output-tokens", set: func(r *CreateRequest) { r.MaxOutputTokens = 64 },
		want: map[Endpoint]map[string]any{
			Responses: {"max_output_tokens": float64(64)},
			Chat:      {"max_completion_tokens": float64(64)},
			Messages:  {"max_tokens": float64(64)},
		},
		absent: map[Endpoint][]string{Chat: {"max_tokens"}},
	},
	{name: "metadata", set: func(r *CreateRequest) { r.Metadata = map[string]string{"run": "r1", "team": "qa"} },
		want: everywhere(map[string]any{"metadata.run": "r1", "metadata.team": "qa"}),
	},
	{name: "completion-window", set: func(r *CreateRequest) { r.CompletionWindow = "flex" },
		want:   everywhere(map[string]any{"metadata.completion_window": "flex"}),
		absent: map[Endpoint][]string{Responses: {"completion_window"}, Chat: {"completion_window"}, Messages: {"completion_window"}},
	},
	{name: "completion-window-any-value", set: func(r *CreateRequest) { r.CompletionWindow = "24h" },
		want: everywhere(map[string]any{"metadata.completion_window": "24h"}),
	},
	{name: "completion-window-over-metadata", set: func(r *CreateRequest) {
		r.CompletionWindow = "asap"
		r.Metadata = map[string]string{"completion_window": "flex", "run": "r1"}
	},
		want: everywhere(map[string]any{"metadata.completion_window": "asap", "metadata.run": "r1"}),
	},
	{name: "completion-window-in-metadata", set: func(r *CreateRequest) { r.Metadata = map[string]string{"completion_window": "standard"} },
		want: everywhere(map[string]any{"metadata.completion_window": "standard"}),
	},
	{name: "webhook", set: func(r *CreateRequest) { r.WebhookURL, r.WebhookToken = "https://x.example/h", "tok-secret-123" },
		want: everywhere(map[string]any{"metadata.completion_webhook": "https://x.example/h", "metadata.webhook_token": "tok-secret-123"}),
	},
	{name: "temperature", set: func(r *CreateRequest) { r.Temperature = ptr(0.7) },
		want: everywhere(map[string]any{"temperature": 0.7}),
	},
	{name: "temperature-1.5", set: func(r *CreateRequest) { r.Temperature = ptr(1.5) },
		want:   map[Endpoint]map[string]any{Responses: {"temperature": 1.5}, Chat: {"temperature": 1.5}},
		refuse: map[Endpoint]string{Messages: "outside 0–1"},
	},
	{name: "temperature-2.5", set: func(r *CreateRequest) { r.Temperature = ptr(2.5) },
		refuse: map[Endpoint]string{Responses: "outside 0–2", Chat: "outside 0–2", Messages: "outside 0–1"},
	},
	{name: "temperature-negative", set: func(r *CreateRequest) { r.Temperature = ptr(-0.1) },
		refuse: map[Endpoint]string{Responses: "temperature", Chat: "temperature", Messages: "temperature"},
	},
	{name: "top-p", set: func(r *CreateRequest) { r.TopP = ptr(0.9) },
		want: everywhere(map[string]any{"top_p": 0.9}),
	},
	{name: "top-p-1.1", set: func(r *CreateRequest) { r.TopP = ptr(1.1) },
		refuse: map[Endpoint]string{Responses: "top_p", Chat: "top_p", Messages: "top_p"},
	},
	{name: "reasoning-effort", set: func(r *CreateRequest) { r.ReasoningEffort = "high" },
		want: map[Endpoint]map[string]any{
			Responses: {"reasoning.effort": "high"},
			Chat:      {"reasoning_effort": "high"},
			Messages:  {"output_config.effort": "high"},
		},
	},
	{name: "reasoning-effort-minimal", set: func(r *CreateRequest) { r.ReasoningEffort = "minimal" },
		want:   map[Endpoint]map[string]any{Responses: {"reasoning.effort": "minimal"}, Chat: {"reasoning_effort": "minimal"}},
		refuse: map[Endpoint]string{Messages: "not accepted on the messages endpoint"},
	},
	{name: "reasoning-effort-max", set: func(r *CreateRequest) { r.ReasoningEffort = "max" },
		want:   map[Endpoint]map[string]any{Messages: {"output_config.effort": "max"}},
		refuse: map[Endpoint]string{Responses: "not accepted", Chat: "not accepted"},
	},
	{name: "reasoning-effort-unknown", set: func(r *CreateRequest) { r.ReasoningEffort = "turbo" },
		refuse: map[Endpoint]string{Responses: "turbo", Chat: "turbo", Messages: "turbo"},
	},
	{name: "json-schema", set: func(r *CreateRequest) { r.JSONSchema = &JSONSchema{Name: "answer", Schema: sampleSchema} },
		want: map[Endpoint]map[string]any{
			Responses: {"text.format.type": "json_schema", "text.format.name": "answer", "text.format.schema.properties.answer.type": "integer"},
			Chat:      {"response_format.type": "json_schema", "response_format.json_schema.name": "answer", "response_format.json_schema.schema.required.0": "answer"},
			Messages:  {"output_config.format.type": "json_schema", "output_config.format.schema.type": "object"},
		},
		absent: map[Endpoint][]string{Responses: {"text.format.strict"}, Messages: {"output_config.format.name"}},
	},
	{name: "json-schema-strict", set: func(r *CreateRequest) {
		r.JSONSchema = &JSONSchema{Name: "answer", Schema: sampleSchema, Strict: ptr(true)}
	},
		want: map[Endpoint]map[string]any{
			Responses: {"text.format.strict": true},
			Chat:      {"response_format.json_schema.strict": true},
			Messages:  {"output_config.format.type": "json_schema"},
		},
		absent: map[Endpoint][]string{Messages: {"output_config.format.strict"}},
	},
	{name: "prompt-cache-key", set: func(r *CreateRequest) { r.PromptCacheKey = "doc-42" },
		want:   map[Endpoint]map[string]any{Responses: {"prompt_cache_key": "doc-42"}, Chat: {"prompt_cache_key": "doc-42"}},
		refuse: map[Endpoint]string{Messages: "no prompt_cache_key"},
	},
	{name: "user", set: func(r *CreateRequest) { r.User = "user-7" },
		want: map[Endpoint]map[string]any{
			Responses: {"user": "user-7"},
			Chat:      {"user": "user-7"},
			Messages:  {"metadata.user_id": "user-7"},
		},
		absent: map[Endpoint][]string{Messages: {"user"}},
	},
	{name: "user-too-long", set: func(r *CreateRequest) { r.User = strings.Repeat("u", 257) },
		refuse: map[Endpoint]string{Responses: "at most 256", Chat: "at most 256", Messages: "at most 256"},
	},
	{name: "messages-input", set: func(r *CreateRequest) {
		r.Input = ""
		r.Messages = []Message{
			{Role: "user", Content: rawJSON(`"What is 2+2?"`)},
			{Role: "assistant", Content: rawJSON(`"4"`)},
			{Role: "user", Content: rawJSON(`"And 3+3?"`)},
		}
	},
		want: map[Endpoint]map[string]any{
			Responses: {"input.0.role": "user", "input.2.content": "And 3+3?"},
			Chat:      {"messages.1.role": "assistant", "messages.2.content": "And 3+3?"},
			Messages:  {"messages.1.content": "4", "messages.2.role": "user"},
		},
	},
	{name: "messages-input-system", set: func(r *CreateRequest) {
		r.Input = ""
		r.Instructions = "Be terse."
		r.Messages = []Message{
			{Role: "system", Content: rawJSON(`"Answer in French."`)},
			{Role: "user", Content: rawJSON(`[{"type":"text","text":"hi"}]`)},
		}
	},
		want: map[Endpoint]map[string]any{
			Responses: {"instructions": "Be terse.", "input.0.role": "system", "input.1.content.0.text": "hi"},
			Chat:      {"messages.0.content": "Be terse.", "messages.1.role": "system", "messages.2.role": "user"},
			Messages:  {"system.0.text": "Be terse.\n\nAnswer in French.", "messages.0.role": "user"},
		},
		absent: map[Endpoint][]string{Messages: {"messages.1"}},
	},
	{name: "messages-input-developer", set: func(r *CreateRequest) {
		r.Input = ""
		r.Messages = []Message{{Role: "developer", Content: rawJSON(`"x"`)}, {Role: "user", Content: rawJSON(`"hi"`)}}
	},
		want:   map[Endpoint]map[string]any{Responses: {"input.0.role": "developer"}, Chat: {"messages.0.role": "developer"}},
		refuse: map[Endpoint]string{Messages: `role "developer"`},
	},
	{name: "idempotency-key", set: func(r *CreateRequest) { r.IdempotencyKey = "order-42" }},
	{name: "all", set: func(r *CreateRequest) {
		r.Instructions = "Be terse."
		r.MaxOutputTokens = 128
		r.Metadata = map[string]string{"run": "r1"}
		r.CompletionWindow = "standard"
		r.WebhookURL, r.WebhookToken = "https://x.example/h", "tok-secret-123"
		r.Temperature, r.TopP = ptr(0.2), ptr(0.5)
		r.ReasoningEffort = "low"
		r.JSONSchema = &JSONSchema{Name: "answer", Schema: sampleSchema}
		r.User = "user-7"
	},
		want: map[Endpoint]map[string]any{
			Responses: {"metadata.completion_window": "standard", "reasoning.effort": "low", "user": "user-7", "max_output_tokens": float64(128)},
			Chat:      {"metadata.completion_window": "standard", "reasoning_effort": "low", "user": "user-7", "max_completion_tokens": float64(128)},
			Messages:  {"metadata.completion_window": "standard", "output_config.effort": "low", "metadata.user_id": "user-7", "max_tokens": float64(128)},
		},
	},
}

// contractAnswer is a minimal valid answer per endpoint; the recording
// server sends it so the client completes.
func contractAnswer(path string, background bool) (int, string) {
	switch path {
	case sailspec.PathChat:
		return http.StatusOK, chatCompletion
	case sailspec.PathMessages:
		return http.StatusOK, anthropicMessage
	}
	if background {
		return http.StatusAccepted, responseQueued
	}
	return http.StatusOK, responseCompleted
}

func TestContract(t *testing.T) {
	for _, ep := range Endpoints() {
		for _, fl := range contractFlags {
			for _, bg := range []bool{false, true} {
				mode := "foreground"
				if bg {
					mode = "background"
				}
				t.Run(string(ep)+"/"+fl.name+"/"+mode, func(t *testing.T) {
					t.Parallel()
					checkContract(t, ep, fl, bg)
				})
			}
		}
	}
}

func checkContract(t *testing.T, ep Endpoint, fl contractFlag, bg bool) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		code, body := contractAnswer(r.URL.Path, bg)
		writeJSON(w, code, body)
	})
	req := CreateRequest{Endpoint: ep, Model: "moonshotai/Kimi-K2.5", Input: "What is 2+2?", Background: bg}
	fl.set(&req)
	resp, err := f.client(t).Create(testCtx(t), req)

	refusal, refused := fl.refuse[ep]
	if bg && ep != Responses {
		// Background mode exists only on /v1/responses.
		refusal, refused = "background mode exists only on the responses endpoint", true
	}
	if refused {
		if err == nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), refusal) {
			t.Fatalf("Create = %v, want a usage error (exit 2) mentioning %q", err, refusal)
		}
		if n := len(f.requests()); n != 0 {
			t.Fatalf("a refused request still reached the server (%d requests)", n)
		}
		return
	}
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	got := f.only(t)
	if got.Method != http.MethodPost || got.Path != ep.Path() {
		t.Fatalf("request = %s %s, want POST %s", got.Method, got.Path, ep.Path())
	}
	for _, e := range sailspec.CheckCreateRequest(got.Path, got.Header, got.Body) {
		t.Errorf("against the reference: %v", e)
	}
	header := sailspec.IdempotencyHeader(got.Path)
	if key := got.Header.Get(header); key == "" || key != resp.IdempotencyKey {
		t.Errorf("%s = %q, want the create's key %q", header, key, resp.IdempotencyKey)
	}
	if req.IdempotencyKey != "" && resp.IdempotencyKey != req.IdempotencyKey {
		t.Errorf("idempotency key %q, want the caller's %q", resp.IdempotencyKey, req.IdempotencyKey)
	}
	body := decodeBody(t, got.Body)
	if v, ok := body["background"]; ok != bg || (bg && v != true) {
		t.Errorf("background = %#v (present %v), want %v", v, ok, bg)
	}
	for path, want := range fl.want[ep] {
		if v, ok := lookup(body, path); !ok || !equalJSON(v, want) {
			t.Errorf("%s = %#v (present %v), want %#v\nbody: %s", path, v, ok, want, got.Body)
		}
	}
	for _, path := range fl.absent[ep] {
		if v, ok := lookup(body, path); ok {
			t.Errorf("%s = %#v, want it absent\nbody: %s", path, v, got.Body)
		}
	}
}

func decodeBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, b)
	}
	return m
}

// lookup follows a dotted path (object keys and array indexes).
func lookup(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i := 0
			for _, c := range seg {
				if c < '0' || c > '9' {
					return nil, false
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// The recording server's answers are themselves checked, so a fixture
// drifting from the reference cannot hide behind the client.
func TestContractFixturesParse(t *testing.T) {
	for _, body := range []string{responseQueued, responseCompleted, chatCompletion, anthropicMessage} {
		if _, err := ParseResponse([]byte(body)); err != nil {
			t.Errorf("fixture does not parse: %v", err)
		}
	}
}

// The other calls the CLI makes: get, cancel and the model list. They
// carry the bearer key and no body the reference does not describe.
func TestContractReadCalls(t *testing.T) {
	calls := []struct {
		name, method, path string
		do                 func(*Client) error
	}{
		{"get", http.MethodGet, "/v1/responses/resp_1", func(c *Client) error { _, err := c.Get(testCtx(t), "resp_1"); return err }},
		{"cancel", http.MethodPost, "/v1/responses/resp_1/cancel", func(c *Client) error { _, err := c.Cancel(testCtx(t), "resp_1"); return err }},
		{"models", http.MethodGet, "/v1/models", func(c *Client) error { _, err := c.Models(testCtx(t)); return err }},
	}
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/models" {
					writeJSON(w, 200, `{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"sail"}]}`)
					return
				}
				writeJSON(w, 200, responseCompleted)
			})
			if err := call.do(f.client(t)); err != nil {
				t.Fatal(err)
			}
			got := f.only(t)
			if got.Method != call.method || got.Path != call.path {
				t.Errorf("request = %s %s, want %s %s", got.Method, got.Path, call.method, call.path)
			}
			if err := sailspec.CheckAuth(got.Header); err != nil {
				t.Error(err)
			}
			if len(strings.TrimSpace(string(got.Body))) > 0 && strings.TrimSpace(string(got.Body)) != "{}" {
				t.Errorf("body %q, want none", got.Body)
			}
		})
	}
}
