package sail

import (
	"bytes"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestCreateResponsesWire(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusAccepted, responseQueued)
	})
	c := f.client(t)
	resp, err := c.Create(testCtx(t), CreateRequest{
		Model:            "moonshotai/Kimi-K2.5",
		Input:            "What is 2+2?",
		Instructions:     "Be terse.",
		MaxOutputTokens:  64,
		Metadata:         map[string]string{"run": "r1", "team": "qa"},
		WebhookURL:       "https://x.example/h",
		WebhookToken:     "tok-secret-123",
		Background:       true,
		CompletionWindow: "flex",
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	req := f.only(t)
	if req.Method != http.MethodPost || req.Path != "/v1/responses" {
		t.Errorf("request = %s %s, want POST /v1/responses", req.Method, req.Path)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	if got := req.Header.Get("User-Agent"); got != "sail-test/1" {
		t.Errorf("User-Agent = %q", got)
	}
	key := req.Header.Get("Idempotency-Key")
	if !strings.HasPrefix(key, "sail_") || len(key) < 20 {
		t.Errorf("Idempotency-Key = %q, want a generated sail_ key", key)
	}
	if resp.IdempotencyKey != key {
		t.Errorf("Response.IdempotencyKey = %q, sent %q", resp.IdempotencyKey, key)
	}
	body := req.JSON(t)
	want := map[string]any{
		"model":             "moonshotai/Kimi-K2.5",
		"input":             "What is 2+2?",
		"instructions":      "Be terse.",
		"max_output_tokens": float64(64),
		"background":        true,
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %#v, want %#v", k, body[k], v)
		}
	}
	checkMetadata(t, body, "flex")

	if resp.ID != "resp_1" || resp.Status != StatusQueued || resp.Object != ObjectResponse || resp.Endpoint != Responses {
		t.Errorf("response = %+v", resp)
	}
	if resp.Terminal() {
		t.Error("queued response reported terminal")
	}
	if string(resp.Raw) != responseQueued {
		t.Errorf("Raw is not the server's bytes:\n got %s\nwant %s", resp.Raw, responseQueued)
	}
}

// checkMetadata asserts the webhook keys, the completion window and the
// user's keys are all in the body's metadata object, and that the window
// is not also at the top level.
func checkMetadata(t *testing.T, body map[string]any, window string) {
	t.Helper()
	md, ok := body["metadata"].(map[string]any)
	if !ok {
		t.Fatalf("metadata missing or not an object: %#v", body["metadata"])
	}
	if v, ok := body["completion_window"]; ok {
		t.Errorf("top-level completion_window = %#v: Sail reads it from metadata", v)
	}
	want := map[string]string{
		"completion_webhook": "https://x.example/h",
		"webhook_token":      "tok-secret-123",
		"completion_window":  window,
		"run":                "r1",
		"team":               "qa",
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("metadata[%q] = %#v, want %q", k, md[k], v)
		}
	}
	if len(md) != len(want) {
		t.Errorf("metadata has %d keys, want %d: %v", len(md), len(want), md)
	}
}

func TestCreateChatWire(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, chatCompletion)
	})
	resp, err := f.client(t).Create(testCtx(t), CreateRequest{
		Endpoint:         Chat,
		Model:            "zai-org/GLM-5",
		Input:            "What is 2+2?",
		Instructions:     "Be terse.",
		MaxOutputTokens:  32,
		Metadata:         map[string]string{"run": "r1", "team": "qa"},
		WebhookURL:       "https://x.example/h",
		WebhookToken:     "tok-secret-123",
		CompletionWindow: "asap",
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	req := f.only(t)
	if req.Path != "/v1/chat/completions" {
		t.Errorf("path = %s", req.Path)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	if req.Header.Get("Idempotency-Key") == "" {
		t.Error("no Idempotency-Key on chat create")
	}
	body := req.JSON(t)
	checkMetadata(t, body, "asap")
	if body["max_completion_tokens"] != float64(32) || body["model"] != "zai-org/GLM-5" {
		t.Errorf("body = %s", req.Body)
	}
	msgs, _ := body["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("messages = %#v", body["messages"])
	}
	sys, _ := msgs[0].(map[string]any)
	user, _ := msgs[1].(map[string]any)
	if sys["role"] != "system" || sys["content"] != "Be terse." || user["role"] != "user" || user["content"] != "What is 2+2?" {
		t.Errorf("messages = %#v", msgs)
	}
	if resp.ID != "chatcmpl-1" || resp.Status != StatusCompleted || resp.OutputText != "4" || resp.Endpoint != Chat || resp.Object != ObjectChatCompletion {
		t.Errorf("response = %+v", resp)
	}
	if resp.Usage == nil || resp.Usage.InputTokens != 10 || resp.Usage.OutputTokens != 1 || resp.Usage.TotalTokens != 11 {
		t.Errorf("usage = %+v", resp.Usage)
	}
}

func TestCreateMessagesWire(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, anthropicMessage)
	})
	resp, err := f.client(t).Create(testCtx(t), CreateRequest{
		Endpoint:         Messages,
		Model:            "moonshotai/Kimi-K2.5",
		Input:            "What is 2+2?",
		Instructions:     "Be terse.",
		Metadata:         map[string]string{"run": "r1", "team": "qa"},
		WebhookURL:       "https://x.example/h",
		WebhookToken:     "tok-secret-123",
		CompletionWindow: "standard",
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	req := f.only(t)
	if req.Path != "/v1/messages" {
		t.Errorf("path = %s", req.Path)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	if got := req.Header.Get("X-Api-Key"); got != testKey {
		t.Errorf("x-api-key = %q", got)
	}
	if req.Header.Get("anthropic-idempotency-key") == "" {
		t.Error("no anthropic-idempotency-key on messages create")
	}
	if v := req.Header.Get("Idempotency-Key"); v != "" {
		t.Errorf("Idempotency-Key = %q on messages, where Sail reads anthropic-idempotency-key", v)
	}
	if got := req.Header.Get("User-Agent"); got != "sail-test/1" {
		t.Errorf("User-Agent = %q", got)
	}
	body := req.JSON(t)
	checkMetadata(t, body, "standard")
	if body["max_tokens"] != float64(DefaultMessagesMaxTokens) {
		t.Errorf("body = %s", req.Body)
	}
	sys, _ := body["system"].([]any)
	if len(sys) != 1 || sys[0].(map[string]any)["text"] != "Be terse." {
		t.Errorf("system = %#v", body["system"])
	}
	if resp.ID != "msg_01" || resp.Status != StatusCompleted || resp.OutputText != "The answer is 4" || resp.Endpoint != Messages || resp.Object != ObjectMessage {
		t.Errorf("response = %+v", resp)
	}
	if resp.Usage == nil || resp.Usage.TotalTokens != 17 {
		t.Errorf("usage = %+v", resp.Usage)
	}
	if string(resp.Raw) != anthropicMessage {
		t.Errorf("Raw = %s", resp.Raw)
	}
}

func TestCreateWithoutWebhookSendsNoMetadata(t *testing.T) {
	for _, ep := range Endpoints() {
		t.Run(string(ep), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v1/chat/completions":
					writeJSON(w, 200, chatCompletion)
				case "/v1/messages":
					writeJSON(w, 200, anthropicMessage)
				default:
					writeJSON(w, 200, responseCompleted)
				}
			})
			if _, err := f.client(t).Create(testCtx(t), CreateRequest{Endpoint: ep, Model: "m", Input: "hi"}); err != nil {
				t.Fatal(err)
			}
			body := f.only(t).JSON(t)
			for _, k := range []string{"metadata", "completion_window", "background"} {
				if _, ok := body[k]; ok {
					t.Errorf("%s sent although not asked for: %s", k, f.only(t).Body)
				}
			}
		})
	}
}

// A create that fails with 500 and is retried must carry the same
// idempotency key both times, in the header the endpoint reads, so the
// server can tell it is the same job.
func TestCreateRetryKeepsIdempotencyKey(t *testing.T) {
	for _, ep := range Endpoints() {
		t.Run(string(ep), func(t *testing.T) {
			var n atomic.Int32
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					quickRetry(w)
					writeJSON(w, 500, `{"error":{"message":"boom","type":"server_error"}}`)
					return
				}
				switch ep {
				case Chat:
					writeJSON(w, 200, chatCompletion)
				case Messages:
					writeJSON(w, 200, anthropicMessage)
				default:
					writeJSON(w, 200, responseQueued)
				}
			})
			resp, err := f.client(t).Create(testCtx(t), CreateRequest{Endpoint: ep, Model: "m", Input: "hi", WebhookURL: "https://x.example/h"})
			if err != nil {
				t.Fatalf("Create after one 500: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 2 {
				t.Fatalf("server saw %d requests, want 2 (one retry)", len(reqs))
			}
			h := "Idempotency-Key"
			if ep == Messages {
				h = "anthropic-idempotency-key"
			}
			k1, k2 := reqs[0].Header.Get(h), reqs[1].Header.Get(h)
			if k1 == "" || k1 != k2 {
				t.Errorf("keys differ across retry: %q then %q", k1, k2)
			}
			if resp.IdempotencyKey != k1 {
				t.Errorf("IdempotencyKey = %q, want %q", resp.IdempotencyKey, k1)
			}
			if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
				t.Errorf("retried body differs:\n%s\n%s", reqs[0].Body, reqs[1].Body)
			}
		})
	}
}

// The same holds when the connection drops after the server got the
// request: the retry must not look like a new job.
func TestCreateRetryAfterDroppedConnectionKeepsKey(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		writeJSON(w, 202, responseQueued)
	})
	if _, err := f.client(t).Create(testCtx(t), CreateRequest{Model: "m", Input: "hi", Background: true}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(reqs))
	}
	if k := reqs[0].Header.Get("Idempotency-Key"); k == "" || k != reqs[1].Header.Get("Idempotency-Key") {
		t.Errorf("keys differ across retry: %q then %q", k, reqs[1].Header.Get("Idempotency-Key"))
	}
}

func TestCreateUsesGivenIdempotencyKeyAndFreshOnes(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 202, responseQueued) })
	c := f.client(t)
	ctx := testCtx(t)
	for _, key := range []string{"my-key-1", "", ""} {
		if _, err := c.Create(ctx, CreateRequest{Model: "m", Input: "hi", IdempotencyKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if got := reqs[0].Header.Get("Idempotency-Key"); got != "my-key-1" {
		t.Errorf("given key not sent: %q", got)
	}
	a, b := reqs[1].Header.Get("Idempotency-Key"), reqs[2].Header.Get("Idempotency-Key")
	if a == "" || a == b {
		t.Errorf("two creates shared a generated key: %q, %q", a, b)
	}
}

func TestCreateRejectsBadRequestsBeforeSending(t *testing.T) {
	cases := map[string]CreateRequest{
		"no model":            {Input: "hi"},
		"no input":            {Model: "m"},
		"chat background":     {Endpoint: Chat, Model: "m", Input: "hi", Background: true},
		"messages background": {Endpoint: Messages, Model: "m", Input: "hi", Background: true},
		"bad endpoint":        {Endpoint: "embeddings", Model: "m", Input: "hi"},
		"reserved metadata":   {Model: "m", Input: "hi", Metadata: map[string]string{"webhook_token": "x"}},
		"token without url":   {Model: "m", Input: "hi", WebhookToken: "t"},
		"key too long":        {Model: "m", Input: "hi", IdempotencyKey: strings.Repeat("k", 256)},
		"key with space":      {Model: "m", Input: "hi", IdempotencyKey: "a b"},
		"negative tokens":     {Model: "m", Input: "hi", MaxOutputTokens: -1},
	}
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 202, responseQueued) })
	c := f.client(t)
	for name, req := range cases {
		_, err := c.Create(testCtx(t), req)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if code := exitcode.Of(err); code != exitcode.Usage {
			t.Errorf("%s: exit code %d, want %d (%v)", name, code, exitcode.Usage, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d invalid requests reached the server", n)
	}
}

func TestCreateEndpointAliases(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, chatCompletion) })
	resp, err := f.client(t).Create(testCtx(t), CreateRequest{Endpoint: "chat/completions", Model: "m", Input: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if f.only(t).Path != "/v1/chat/completions" || resp.Endpoint != Chat {
		t.Errorf("alias went to %s, endpoint %s", f.only(t).Path, resp.Endpoint)
	}
}

// OPENAI_* / ANTHROPIC_* settings of the user's shell must not reach Sail.
func TestCreateIgnoresSDKEnvironment(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-openai-leak")
	t.Setenv("OPENAI_ORG_ID", "org-leak")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/leak")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-leak")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "ant-token-leak")
	t.Setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1/leak")
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/messages" {
			writeJSON(w, 200, anthropicMessage)
			return
		}
		writeJSON(w, 200, chatCompletion)
	})
	c := f.client(t)
	for _, ep := range []Endpoint{Chat, Messages} {
		if _, err := c.Create(testCtx(t), CreateRequest{Endpoint: ep, Model: "m", Input: "hi"}); err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
	}
	for _, r := range f.requests() {
		for name, vals := range r.Header {
			for _, v := range vals {
				if strings.Contains(v, "leak") {
					t.Errorf("%s: header %s carries an environment value: %q", r.Path, name, v)
				}
			}
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("%s: Authorization = %q", r.Path, got)
		}
	}
}

func TestNewRequiresKey(t *testing.T) {
	_, err := New(Options{BaseURL: "http://127.0.0.1:1"})
	if err == nil {
		t.Fatal("New without key succeeded")
	}
	if exitcode.Of(err) != exitcode.Config {
		t.Errorf("exit code = %d, want %d", exitcode.Of(err), exitcode.Config)
	}
	if h := exitcode.Hint(err); !strings.Contains(h, "SAIL_API_KEY") || !strings.Contains(h, "--emulator") {
		t.Errorf("hint = %q", h)
	}
	if _, err := New(Options{APIKey: "k", BaseURL: "ftp://x"}); exitcode.Of(err) != exitcode.Config {
		t.Errorf("bad base URL: %v", err)
	}
	c, err := New(Options{APIKey: "k"})
	if err != nil || c.BaseURL() != DefaultBaseURL {
		t.Errorf("default base URL: %v, %v", c, err)
	}
}
