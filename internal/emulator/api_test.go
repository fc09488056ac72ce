package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/testutil"
)

// openAIErr decodes OpenAI's error envelope, which Sail uses on every
// endpoint.
type openAIErr struct {
	Error *struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func TestValidation(t *testing.T) {
	e := newEmulator(t, Options{APIKey: testKey})
	okResp := `"model":"zai-org/GLM-5","input":"hi"`
	okChat := `"model":"zai-org/GLM-5","messages":[{"role":"user","content":"hi"}]`
	okMsg := `"model":"zai-org/GLM-5","max_tokens":100,"messages":[{"role":"user","content":"hi"}]`
	bigMD := map[string]string{}
	for i := range 17 {
		bigMD[fmt.Sprintf("k%d", i)] = "v"
	}
	bigMDJSON, _ := json.Marshal(bigMD)
	longKey := strings.Repeat("k", 65)
	longVal := strings.Repeat("v", 513)
	noKey := map[string]string{"Authorization": ""}
	badKey := map[string]string{"Authorization": "Bearer nope"}

	cases := []struct {
		name, path, body string
		hdr              map[string]string
		status           int
		param, code      string // OpenAI envelope expectations ("-" = null)
	}{
		// /v1/responses
		{"invalid json", "/v1/responses", `{"model":`, nil, 400, "-", "-"},
		{"not an object", "/v1/responses", `[1,2]`, nil, 400, "-", "-"},
		{"missing model", "/v1/responses", `{"input":"hi"}`, nil, 400, "model", "missing_required_parameter"},
		{"model wrong type", "/v1/responses", `{"model":5,"input":"hi"}`, nil, 400, "model", "invalid_type"},
		{"unknown model", "/v1/responses", `{"model":"gpt-9","input":"hi"}`, nil, 404, "model", "model_not_found"},
		{"missing input", "/v1/responses", `{"model":"zai-org/GLM-5"}`, nil, 400, "input", "missing_required_parameter"},
		{"empty input", "/v1/responses", `{"model":"zai-org/GLM-5","input":""}`, nil, 400, "input", "empty_string"},
		{"empty input array", "/v1/responses", `{"model":"zai-org/GLM-5","input":[]}`, nil, 400, "input", "empty_array"},
		{"input wrong type", "/v1/responses", `{"model":"zai-org/GLM-5","input":3}`, nil, 400, "input", "invalid_type"},
		{"bad max_output_tokens", "/v1/responses", `{` + okResp + `,"max_output_tokens":0}`, nil, 400, "max_output_tokens", "integer_below_min_value"},
		{"bad background", "/v1/responses", `{` + okResp + `,"background":"yes"}`, nil, 400, "background", "invalid_type"},
		{"bad window", "/v1/responses", `{` + okResp + `,"background":true,"metadata":{"completion_window":"later"}}`, nil, 400, "metadata.completion_window", "invalid_value"},
		{"flex needs background", "/v1/responses", `{` + okResp + `,"metadata":{"completion_window":"flex"}}`, nil, 400, "metadata.completion_window", "invalid_value"},
		{"window not a string", "/v1/responses", `{` + okResp + `,"metadata":{"completion_window":1}}`, nil, 400, "metadata.completion_window", "invalid_type"},
		{"temperature above 2", "/v1/responses", `{` + okResp + `,"temperature":2.5}`, nil, 400, "temperature", "decimal_above_max_value"},
		{"top_p above 1", "/v1/responses", `{` + okResp + `,"top_p":1.5}`, nil, 400, "top_p", "decimal_above_max_value"},
		{"temperature negative", "/v1/responses", `{` + okResp + `,"temperature":-0.1}`, nil, 400, "temperature", "decimal_below_min_value"},
		{"temperature not a number", "/v1/responses", `{` + okResp + `,"temperature":"hot"}`, nil, 400, "temperature", "invalid_type"},
		{"stream", "/v1/responses", `{` + okResp + `,"stream":true}`, nil, 400, "stream", "unsupported_value"},
		{"too many metadata keys", "/v1/responses", `{` + okResp + `,"metadata":` + string(bigMDJSON) + `}`, nil, 400, "metadata", "object_above_max_properties"},
		{"metadata key too long", "/v1/responses", `{` + okResp + `,"metadata":{"` + longKey + `":"v"}}`, nil, 400, "metadata", "string_above_max_length"},
		{"metadata value too long", "/v1/responses", `{` + okResp + `,"metadata":{"k":"` + longVal + `"}}`, nil, 400, "metadata.k", "string_above_max_length"},
		{"metadata non-string", "/v1/responses", `{` + okResp + `,"metadata":{"k":1}}`, nil, 400, "metadata.k", "invalid_type"},
		{"metadata not object", "/v1/responses", `{` + okResp + `,"metadata":"x"}`, nil, 400, "metadata", "invalid_type"},
		{"bad fault syntax", "/v1/responses", `{` + okResp + `,"metadata":{"sail_emulator":"outcome=maybe"}}`, nil, 400, "metadata.sail_emulator", "invalid_value"},
		{"idempotency key too long", "/v1/responses", `{` + okResp + `}`, map[string]string{"Idempotency-Key": strings.Repeat("x", 256)}, 400, "Idempotency-Key", "idempotency_error"},
		{"missing key", "/v1/responses", `{` + okResp + `}`, noKey, 401, "-", "-"},
		{"wrong key", "/v1/responses", `{` + okResp + `}`, badKey, 401, "-", "invalid_api_key"},
		{"x-api-key not on openai", "/v1/responses", `{` + okResp + `}`, map[string]string{"Authorization": "", "X-Api-Key": testKey}, 401, "-", "-"},
		{"unknown response", "/v1/responses/resp_nope", ``, nil, 404, "-", "-"},
		{"cancel unknown", "/v1/responses/resp_nope/cancel", ``, nil, 404, "-", "-"},
		{"unknown path", "/v1/embeddings", `{}`, nil, 404, "-", "unknown_url"},
		{"models wrong key", "/v1/models", ``, badKey, 401, "-", "invalid_api_key"},
		{"model by id unknown", "/v1/models/nope", ``, nil, 404, "model", "model_not_found"},
		// /v1/chat/completions
		{"chat invalid json", "/v1/chat/completions", `nope`, nil, 400, "-", "-"},
		{"chat missing model", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, nil, 400, "model", "missing_required_parameter"},
		{"chat unknown model", "/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"hi"}]}`, nil, 404, "model", "model_not_found"},
		{"chat missing messages", "/v1/chat/completions", `{"model":"zai-org/GLM-5"}`, nil, 400, "messages", "missing_required_parameter"},
		{"chat empty messages", "/v1/chat/completions", `{"model":"zai-org/GLM-5","messages":[]}`, nil, 400, "messages", "empty_array"},
		{"chat message without role", "/v1/chat/completions", `{"model":"zai-org/GLM-5","messages":[{"content":"hi"}]}`, nil, 400, "messages[0].role", "missing_required_parameter"},
		{"chat stream", "/v1/chat/completions", `{` + okChat + `,"stream":true}`, nil, 400, "stream", "unsupported_value"},
		{"chat max_tokens", "/v1/chat/completions", `{` + okChat + `,"max_tokens":10}`, nil, 400, "max_tokens", "unsupported_parameter"},
		{"chat bad max_completion_tokens", "/v1/chat/completions", `{` + okChat + `,"max_completion_tokens":0}`, nil, 400, "max_completion_tokens", "integer_below_min_value"},
		{"chat bad window", "/v1/chat/completions", `{` + okChat + `,"metadata":{"completion_window":"someday"}}`, nil, 400, "metadata.completion_window", "invalid_value"},
		{"chat temperature", "/v1/chat/completions", `{` + okChat + `,"temperature":3}`, nil, 400, "temperature", "decimal_above_max_value"},
		{"chat metadata", "/v1/chat/completions", `{` + okChat + `,"metadata":{"k":true}}`, nil, 400, "metadata.k", "invalid_type"},
		{"chat missing key", "/v1/chat/completions", `{` + okChat + `}`, noKey, 401, "-", "-"},
		{"chat wrong key", "/v1/chat/completions", `{` + okChat + `}`, badKey, 401, "-", "invalid_api_key"},
		// /v1/messages: OpenAI's envelope too, and a closed schema.
		{"msg invalid json", "/v1/messages", `{`, nil, 400, "-", "-"},
		{"msg missing model", "/v1/messages", `{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, nil, 400, "model", "missing_required_parameter"},
		{"msg unknown model", "/v1/messages", `{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, nil, 404, "model", "model_not_found"},
		{"msg missing max_tokens", "/v1/messages", `{"model":"zai-org/GLM-5","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "max_tokens", "missing_required_parameter"},
		{"msg empty messages", "/v1/messages", `{"model":"zai-org/GLM-5","max_tokens":10,"messages":[]}`, nil, 400, "messages", "empty_array"},
		{"msg stream", "/v1/messages", `{` + okMsg + `,"stream":true}`, nil, 400, "stream", "unsupported_value"},
		{"msg metadata too many", "/v1/messages", `{` + okMsg + `,"metadata":` + string(bigMDJSON) + `}`, nil, 400, "metadata", "object_above_max_properties"},
		{"msg metadata non-string", "/v1/messages", `{` + okMsg + `,"metadata":{"completion_webhook":["x"]}}`, nil, 400, "metadata.completion_webhook", "invalid_type"},
		{"msg bad fault", "/v1/messages", `{` + okMsg + `,"metadata":{"sail_emulator":"explode"}}`, nil, 400, "metadata.sail_emulator", "invalid_value"},
		{"msg stray key", "/v1/messages", `{` + okMsg + `,"completion_window":"flex"}`, nil, 400, "completion_window", "unknown_parameter"},
		{"msg stray keys sorted", "/v1/messages", `{` + okMsg + `,"top_k":5,"background":true}`, nil, 400, "background", "unknown_parameter"},
		{"msg bad window", "/v1/messages", `{` + okMsg + `,"metadata":{"completion_window":"tomorrow"}}`, nil, 400, "metadata.completion_window", "invalid_value"},
		{"msg temperature above 1", "/v1/messages", `{` + okMsg + `,"temperature":1.5}`, nil, 400, "temperature", "decimal_above_max_value"},
		{"msg top_p above 1", "/v1/messages", `{` + okMsg + `,"top_p":2}`, nil, 400, "top_p", "decimal_above_max_value"},
		{"msg idempotency key too long", "/v1/messages", `{` + okMsg + `}`, map[string]string{"anthropic-idempotency-key": strings.Repeat("x", 256)}, 400, "anthropic-idempotency-key", "idempotency_error"},
		{"msg missing key", "/v1/messages", `{` + okMsg + `}`, noKey, 401, "-", "-"},
		{"msg wrong x-api-key", "/v1/messages", `{` + okMsg + `}`, map[string]string{"Authorization": "", "X-Api-Key": "nope"}, 401, "-", "invalid_api_key"},
		{"msg wrong method", "/v1/messages", ``, map[string]string{"X-Method": "GET"}, 405, "-", "-"},
		{"count tokens no messages", "/v1/messages/count_tokens", `{"model":"zai-org/GLM-5"}`, nil, 400, "messages", "missing_required_parameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodPost
			if strings.HasPrefix(c.path, "/v1/models") || (strings.HasPrefix(c.path, "/v1/responses/") && !strings.HasSuffix(c.path, "/cancel")) {
				method = http.MethodGet
			}
			hdr := map[string]string{}
			for k, v := range c.hdr {
				if k == "X-Method" {
					method = v
					continue
				}
				hdr[k] = v
			}
			var body any
			if c.body != "" {
				body = c.body
			}
			code, got := call(t, e, method, c.path, body, hdr)
			if code != c.status {
				t.Fatalf("status %d, want %d: %s", code, c.status, got)
			}
			var env openAIErr
			if err := json.Unmarshal(got, &env); err != nil || env.Error == nil || env.Error.Message == "" || env.Error.Type == "" {
				t.Fatalf("OpenAI envelope = %s", got)
			}
			// All four keys are present, null or not.
			var raw map[string]map[string]json.RawMessage
			_ = json.Unmarshal(got, &raw)
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := raw["error"][k]; !ok {
					t.Errorf("envelope lacks %q: %s", k, got)
				}
			}
			if s := str(env.Error.Param); s != c.param {
				t.Errorf("param = %q, want %q (%s)", s, c.param, got)
			}
			if s := str(env.Error.Code); s != c.code {
				t.Errorf("code = %q, want %q (%s)", s, c.code, got)
			}
			if code < 500 && env.Error.Type != "invalid_request_error" {
				t.Errorf("type = %q, want invalid_request_error", env.Error.Type)
			}
			if bytes.Contains(got, []byte("nope")) && c.hdr != nil && c.hdr["Authorization"] == "Bearer nope" {
				t.Errorf("error echoes the wrong key: %s", got)
			}
		})
	}
	settle(t, e)
	if n := len(e.jobs); n != 0 {
		t.Errorf("%d responses created by invalid requests, want 0", n)
	}
}

func str(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

func TestAuthAcceptsAnyKeyByDefault(t *testing.T) {
	e := newEmulator(t, Options{})
	for _, hdr := range []map[string]string{
		{"Authorization": "Bearer anything"},
		{"Authorization": "bearer lower-case-scheme"},
	} {
		if code, body := call(t, e, http.MethodGet, "/v1/models", nil, hdr); code != http.StatusOK {
			t.Errorf("%v: %d %s", hdr, code, body)
		}
	}
	msg := `{"model":"zai-org/GLM-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	for _, hdr := range []map[string]string{
		{"Authorization": "", "X-Api-Key": "k"},
		{"Authorization": "Bearer k"},
	} {
		if code, body := call(t, e, http.MethodPost, "/v1/messages", msg, hdr); code != http.StatusOK {
			t.Errorf("messages with %v: %d %s", hdr, code, body)
		}
	}
}

func TestModels(t *testing.T) {
	e := newEmulator(t, Options{})
	code, body := call(t, e, http.MethodGet, "/v1/models", nil, nil)
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Created int64  `json:"created"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); code != 200 || err != nil || list.Object != "list" || len(list.Data) != 6 {
		t.Fatalf("models: %d %s", code, body)
	}
	for i, m := range list.Data {
		if m.ID != Models[i] || m.Object != "model" || m.Created == 0 || !strings.HasPrefix(m.ID, m.OwnedBy+"/") {
			t.Errorf("model %d = %+v", i, m)
		}
	}
	code, body = call(t, e, http.MethodGet, "/v1/models/zai-org/GLM-5", nil, nil)
	if code != 200 || decode(t, body)["id"] != "zai-org/GLM-5" {
		t.Errorf("model by id: %d %s", code, body)
	}
}

func TestResponseObjectShape(t *testing.T) {
	e := newEmulator(t, Options{})
	req := map[string]any{"model": "moonshotai/Kimi-K2.5", "input": "What is 2+2? Reply with just the number.",
		"metadata": map[string]string{"a": "b"}}
	obj, _ := create(t, e, req, nil)
	id, _ := obj["id"].(string)
	if !strings.HasPrefix(id, "resp_") || obj["object"] != "response" || obj["status"] != StatusCompleted ||
		obj["background"] != false || obj["model"] != "moonshotai/Kimi-K2.5" || obj["error"] != nil ||
		obj["incomplete_details"] != nil || obj["completed_at"] == nil || obj["created_at"] == nil {
		t.Fatalf("foreground response = %v", obj)
	}
	out := obj["output"].([]any)[0].(map[string]any)
	content := out["content"].([]any)[0].(map[string]any)
	if out["type"] != "message" || out["role"] != "assistant" || out["status"] != StatusCompleted ||
		!strings.HasPrefix(out["id"].(string), "msg_") || content["type"] != "output_text" || content["text"] != "4" {
		t.Errorf("output = %v", out)
	}
	usage := obj["usage"].(map[string]any)
	if usage["input_tokens"] != 10.0 || usage["output_tokens"] != 1.0 || usage["total_tokens"] != 11.0 {
		t.Errorf("usage = %v, want 10+1=11 (40 characters = 10 input tokens)", usage)
	}
	if md := obj["metadata"].(map[string]any); md["a"] != "b" {
		t.Errorf("metadata = %v", md)
	}
	_, get := call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
	if decode(t, get)["id"] != id {
		t.Errorf("GET returned %s", get)
	}

	// max_output_tokens cuts the reply: incomplete with partial output.
	obj, _ = create(t, e, map[string]any{"model": "zai-org/GLM-5", "input": "say something rather long please",
		"max_output_tokens": 2, "instructions": "be brief"}, nil)
	if obj["status"] != StatusIncomplete || obj["completed_at"] != nil ||
		obj["incomplete_details"].(map[string]any)["reason"] != "max_output_tokens" {
		t.Errorf("truncated response = %v", obj)
	}
	if text := obj["output"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]; text != "Echo: sa" {
		t.Errorf("truncated text = %v, want %q", text, "Echo: sa")
	}

	// Failed: error set, no output.
	obj, _ = create(t, e, map[string]any{"model": "zai-org/GLM-5", "input": "x",
		"metadata": map[string]string{FaultKey: "outcome=failed"}}, nil)
	if obj["status"] != StatusFailed || obj["error"].(map[string]any)["code"] != "server_error" || len(obj["output"].([]any)) != 0 {
		t.Errorf("failed response = %v", obj)
	}
	// usage is never null: zeros when nothing was produced.
	if u, ok := obj["usage"].(map[string]any); !ok || u["total_tokens"] != 0.0 || u["input_tokens_details"] == nil || u["output_tokens_details"] == nil {
		t.Errorf("failed response usage = %v, want zeros with both details objects", obj["usage"])
	}

	// Message-array input: the last user message is the prompt.
	obj, _ = create(t, e, map[string]any{"model": "zai-org/GLM-5", "input": []any{
		map[string]any{"role": "user", "content": "3*3"},
		map[string]any{"role": "assistant", "content": "9"},
		map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_text", "text": "and 5-7?"}}},
	}}, nil)
	if text := obj["output"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"]; text != "-2" {
		t.Errorf("array input reply = %v, want -2", text)
	}

	// Wrong content type is tolerated; window values other than flex need no
	// background, and a top-level completion_window is ignored whatever it says.
	code, body := call(t, e, http.MethodPost, "/v1/responses", `{"model":"zai-org/GLM-5","input":"1+1","metadata":{"completion_window":"priority"},"completion_window":"nonsense"}`,
		map[string]string{"Content-Type": "text/plain"})
	if code != 200 || decode(t, body)["status"] != StatusCompleted {
		t.Errorf("text/plain create: %d %s", code, body)
	}
	for _, w := range CompletionWindows {
		code, body = call(t, e, http.MethodPost, "/v1/responses", `{"model":"zai-org/GLM-5","input":"1+1","metadata":{"completion_window":"`+w+`"},"background":true}`, nil)
		if obj := decode(t, body); code != 202 || obj["status"] != StatusPending || obj["metadata"].(map[string]any)["completion_window"] != w {
			t.Errorf("%s background create: %d %s", w, code, body)
		}
	}
	// Chat and messages have no background mode: flex is taken as is.
	code, body = call(t, e, http.MethodPost, "/v1/chat/completions", `{"model":"zai-org/GLM-5","messages":[{"role":"user","content":"1+1"}],"metadata":{"completion_window":"flex"},"completion_window":"ignored"}`, nil)
	if code != 200 {
		t.Errorf("flex chat: %d %s", code, body)
	}
	code, body = call(t, e, http.MethodPost, "/v1/messages", `{"model":"zai-org/GLM-5","max_tokens":9,"messages":[{"role":"user","content":"1+1"}],"metadata":{"completion_window":"standard"},"temperature":1,"top_p":0.5}`, nil)
	if code != 200 {
		t.Errorf("standard messages: %d %s", code, body)
	}
}

func TestChatAndMessagesShapes(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{})
	md := map[string]string{"completion_webhook": rcv.URL, "webhook_token": "tok"}

	code, body := call(t, e, http.MethodPost, "/v1/chat/completions", map[string]any{
		"model": "openai/gpt-oss-20b", "metadata": md,
		"messages": []any{map[string]any{"role": "system", "content": "be terse"}, map[string]any{"role": "user", "content": "What is 6*7?"}},
	}, nil)
	var chat struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct{ PromptTokens, CompletionTokens, TotalTokens int64 } `json:"usage"`
	}
	if err := json.Unmarshal(body, &chat); code != 200 || err != nil {
		t.Fatalf("chat: %d %s", code, body)
	}
	if !strings.HasPrefix(chat.ID, "chatcmpl-") || chat.Object != "chat.completion" || chat.Created == 0 || chat.Model != "openai/gpt-oss-20b" ||
		len(chat.Choices) != 1 || chat.Choices[0].Message.Content != "42" || chat.Choices[0].Message.Role != "assistant" || chat.Choices[0].FinishReason != "stop" {
		t.Errorf("chat completion = %+v", chat)
	}
	var usage map[string]map[string]int64
	_ = json.Unmarshal(body, &usage)
	if u := usage["usage"]; u["prompt_tokens"] != 6 || u["completion_tokens"] != 1 || u["total_tokens"] != 7 {
		t.Errorf("chat usage = %v, want 6+1=7", u)
	}

	code, body = call(t, e, http.MethodPost, "/v1/messages", map[string]any{
		"model": "openai/gpt-oss-20b", "max_tokens": 3, "metadata": md, "system": "sys",
		"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "tell me a story"}}}},
	}, map[string]string{"Authorization": "", "X-Api-Key": "k"})
	msg := decode(t, body)
	content := msg["content"].([]any)[0].(map[string]any)
	if code != 200 || !strings.HasPrefix(msg["id"].(string), "msg_") || msg["type"] != "message" || msg["role"] != "assistant" ||
		content["type"] != "text" || content["text"] != "Echo: tell m" || msg["stop_reason"] != "max_tokens" {
		t.Errorf("message = %d %s", code, body)
	}
	if u := msg["usage"].(map[string]any); u["input_tokens"] != 5.0 || u["output_tokens"] != 3.0 {
		t.Errorf("message usage = %v", u)
	}
	settle(t, e)

	// Both are stored as response objects under their own ids, and that is
	// what the webhook carried.
	hits := rcv.got()
	if len(hits) != 2 {
		t.Fatalf("%d webhooks, want 2", len(hits))
	}
	byID := map[string]hit{}
	for _, h := range hits {
		byID[decode(t, h.Body)["id"].(string)] = h
	}
	for id, status := range map[string]string{chat.ID: StatusCompleted, msg["id"].(string): StatusIncomplete} {
		_, get := call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
		obj := decode(t, get)
		if obj["id"] != id || obj["object"] != "response" || obj["background"] != false || obj["status"] != status {
			t.Errorf("GET %s = %s, want a %s response object", id, get, status)
		}
		if h, ok := byID[id]; !ok || !bytes.Equal(h.Body, get) || h.Auth != "Bearer tok" {
			t.Errorf("webhook for %s missing, different from GET, or without the token", id)
		}
	}

	// A failed outcome is a 500 that SDKs must not retry; the webhook still fires.
	code, body = call(t, e, http.MethodPost, "/v1/chat/completions", map[string]any{
		"model": "zai-org/GLM-5", "messages": []any{map[string]any{"role": "user", "content": "x"}},
		"metadata": map[string]string{"completion_webhook": rcv.URL, FaultKey: "outcome=failed"},
	}, nil)
	if code != 500 || !strings.Contains(string(body), `"server_error"`) {
		t.Errorf("failed chat: %d %s", code, body)
	}
	code, body = call(t, e, http.MethodPost, "/v1/messages", map[string]any{
		"model": "zai-org/GLM-5", "max_tokens": 5, "messages": []any{map[string]any{"role": "user", "content": "x"}},
		"metadata": map[string]string{"completion_webhook": rcv.URL, FaultKey: "outcome=cancelled"},
	}, nil)
	if code != 500 || !strings.Contains(string(body), `"type":"server_error"`) {
		t.Errorf("cancelled message: %d %s", code, body)
	}
	settle(t, e)
	if n := len(rcv.got()); n != 4 {
		t.Errorf("%d webhooks, want 4", n)
	}

	code, body = call(t, e, http.MethodPost, "/v1/messages/count_tokens", map[string]any{
		"model": "zai-org/GLM-5", "messages": []any{map[string]any{"role": "user", "content": "abcdefghij"}},
	}, nil)
	if code != 200 || decode(t, body)["input_tokens"] != 3.0 {
		t.Errorf("count_tokens: %d %s", code, body)
	}
}

func TestIdempotency(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{})
	req := webhookReq(rcv.URL, nil)
	key := map[string]string{"Idempotency-Key": "key-1"}
	first, _ := create(t, e, req, key)
	// The same body re-encoded (other key order, spacing) is the same request.
	raw, _ := json.MarshalIndent(map[string]any{"metadata": req["metadata"], "background": true, "input": req["input"], "model": req["model"]}, "", "  ")
	code, body := call(t, e, http.MethodPost, "/v1/responses", raw, key)
	if code != 202 || decode(t, body)["id"] != first["id"] {
		t.Fatalf("replay: %d %s, want the same id %v", code, body, first["id"])
	}
	settle(t, e)
	if n := len(rcv.got()); n != 1 || len(e.jobs) != 1 {
		t.Errorf("%d webhooks and %d responses, want 1 each", n, len(e.jobs))
	}

	// Different body, same key: 400 idempotency_error.
	other := webhookReq(rcv.URL, nil)
	other["input"] = "something else"
	code, body = call(t, e, http.MethodPost, "/v1/responses", other, key)
	var env openAIErr
	if err := json.Unmarshal(body, &env); code != 400 || err != nil || env.Error == nil || str(env.Error.Code) != "idempotency_error" {
		t.Errorf("different body: %d %s, want 400 idempotency_error", code, body)
	}

	// Scope: another API key or another endpoint is another key space.
	k2 := map[string]string{"Idempotency-Key": "key-1", "Authorization": "Bearer other"}
	if second, _ := create(t, e, req, k2); second["id"] == first["id"] {
		t.Error("a different API key reused another key's response")
	}
	chat := map[string]any{"model": "zai-org/GLM-5", "messages": []any{map[string]any{"role": "user", "content": "1+1"}}}
	code, body = call(t, e, http.MethodPost, "/v1/chat/completions", chat, key)
	if code != 200 {
		t.Errorf("same key on chat: %d %s", code, body)
	}
	c1 := decode(t, body)["id"]
	code, body = call(t, e, http.MethodPost, "/v1/chat/completions", chat, key)
	if code != 200 || decode(t, body)["id"] != c1 {
		t.Errorf("chat replay: %d %s, want id %v", code, body, c1)
	}
	settle(t, e)
	if n := len(e.jobs); n != 3 {
		t.Errorf("%d responses, want 3", n)
	}
}

func TestCancel(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{Latency: time.Hour})
	obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
	id := obj["id"].(string)
	code, body := call(t, e, http.MethodPost, "/v1/responses/"+id+"/cancel", nil, nil)
	c := decode(t, body)
	if code != 200 || c["status"] != StatusCancelled || c["id"] != id || len(c["output"].([]any)) != 0 || c["completed_at"] != nil {
		t.Fatalf("cancel: %d %s", code, body)
	}
	// Cancelling again returns the cancelled response unchanged.
	code, again := call(t, e, http.MethodPost, "/v1/responses/"+id+"/cancel", nil, nil)
	if code != 200 || !bytes.Equal(again, body) {
		t.Errorf("second cancel: %d %s", code, again)
	}
	settle(t, e)
	if hits := rcv.got(); len(hits) != 1 || !bytes.Equal(hits[0].Body, body) {
		t.Errorf("cancel webhooks = %d, want 1 carrying the cancelled object", len(hits))
	}

	// Terminal and synchronous responses cannot be cancelled.
	e2 := newEmulator(t, Options{})
	done, _ := create(t, e2, map[string]any{"model": "zai-org/GLM-5", "input": "x", "background": true}, nil)
	testutil.WaitUntil(t, 10*time.Second, "completion", func() bool {
		_, b := call(t, e2, http.MethodGet, "/v1/responses/"+done["id"].(string), nil, nil)
		return decode(t, b)["status"] == StatusCompleted
	})
	fg, _ := create(t, e2, map[string]any{"model": "zai-org/GLM-5", "input": "x"}, nil)
	failed, _ := create(t, e2, map[string]any{"model": "zai-org/GLM-5", "input": "x", "background": true, "metadata": map[string]string{FaultKey: "outcome=failed"}}, nil)
	settle(t, e2)
	for id, want := range map[string]string{
		done["id"].(string):   "Cannot cancel a completed response.",
		fg["id"].(string):     "Cannot cancel a synchronous response.",
		failed["id"].(string): "Cannot cancel a failed response.",
	} {
		code, body := call(t, e2, http.MethodPost, "/v1/responses/"+id+"/cancel", nil, nil)
		var env openAIErr
		if err := json.Unmarshal(body, &env); code != 400 || err != nil || env.Error == nil || env.Error.Message != want {
			t.Errorf("cancel %s: %d %s, want 400 %q", id, code, body, want)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEmulator(t, Options{})
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodGet, "/v1/responses", "POST"},
		{http.MethodPost, "/v1/models", "GET"},
		{http.MethodDelete, "/v1/responses/resp_x", "GET"},
		{http.MethodGet, "/v1/responses/resp_x/cancel", "POST"},
		{http.MethodPost, "/_emulator/deliveries", "GET"},
	} {
		req := httpRequest(c.method, c.path)
		rec := newRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow=%q, want 405 Allow=%s", c.method, c.path, rec.Code, rec.Header().Get("Allow"), c.allow)
		}
	}
}

func TestEviction(t *testing.T) {
	e := newEmulator(t, Options{MaxResponses: 3})
	var ids []string
	for range 5 {
		obj, _ := create(t, e, map[string]any{"model": "zai-org/GLM-5", "input": "x"}, map[string]string{"Idempotency-Key": fmt.Sprint(len(ids))})
		ids = append(ids, obj["id"].(string))
		settle(t, e)
	}
	for i, id := range ids {
		code, _ := call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
		want := http.StatusOK
		if i < 2 {
			want = http.StatusNotFound
		}
		if code != want {
			t.Errorf("response %d: GET %d, want %d", i, code, want)
		}
	}
	if len(e.idem) != 3 {
		t.Errorf("%d idempotency entries kept, want 3 (evicted with their responses)", len(e.idem))
	}
	// When every slot holds an unfinished response, creates are refused.
	e2 := newEmulator(t, Options{MaxResponses: 2, Latency: time.Hour})
	for range 2 {
		create(t, e2, map[string]any{"model": "zai-org/GLM-5", "input": "x", "background": true}, nil)
	}
	code, body := call(t, e2, http.MethodPost, "/v1/responses", map[string]any{"model": "zai-org/GLM-5", "input": "x", "background": true}, nil)
	if code != http.StatusTooManyRequests {
		t.Errorf("create when full: %d %s, want 429", code, body)
	}
}
