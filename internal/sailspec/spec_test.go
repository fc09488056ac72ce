package sailspec

import (
	"net/http"
	"strings"
	"testing"
)

func hdr(pairs ...string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer sk-test")
	h.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(pairs); i += 2 {
		h.Set(pairs[i], pairs[i+1])
	}
	return h
}

func TestCheckCreateRequest(t *testing.T) {
	cases := []struct {
		name string
		path string
		h    http.Header
		body string
		want []string // substrings, one per expected error; nil = conforms
	}{
		{"responses ok", PathResponses, hdr("Idempotency-Key", "k1"),
			`{"model":"m","input":"hi","background":true,"metadata":{"completion_window":"flex","completion_webhook":"https://x.example/h","webhook_token":"t"},"max_output_tokens":64,"temperature":2,"top_p":0,"reasoning":{"effort":"xhigh"},"text":{"format":{"type":"json_schema","name":"s","schema":{"type":"object"}}},"prompt_cache_key":"p","user":"u"}`, nil},
		{"responses input messages", PathResponses, hdr(),
			`{"model":"m","input":[{"role":"system","content":"be terse"},{"role":"user","content":[{"type":"input_text","text":"hi"}]}]}`, nil},
		{"chat ok", PathChat, hdr("Idempotency-Key", "k1"),
			`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":5,"reasoning_effort":"low","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{}}},"user":"u","prompt_cache_key":"p","metadata":{"a":"b"}}`, nil},
		{"messages ok", PathMessages, hdr("anthropic-idempotency-key", "k1"),
			`{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"system":"s","temperature":1,"top_p":0.5,"output_config":{"effort":"max","format":{"type":"json_schema","schema":{"type":"object"}}},"metadata":{"completion_window":"standard","user_id":"u"}}`, nil},

		{"top-level completion_window", PathResponses, hdr(),
			`{"model":"m","input":"hi","completion_window":"flex"}`, []string{"metadata.completion_window"}},
		{"top-level completion_window on messages", PathMessages, hdr(),
			`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"completion_window":"flex"}`, []string{"metadata.completion_window"}},
		{"messages with Idempotency-Key", PathMessages, hdr("Idempotency-Key", "k"),
			`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, []string{"anthropic-idempotency-key"}},
		{"responses with anthropic key", PathResponses, hdr("anthropic-idempotency-key", "k"),
			`{"model":"m","input":"x"}`, []string{"Idempotency-Key there"}},
		{"key too long", PathChat, hdr("Idempotency-Key", strings.Repeat("k", 256)),
			`{"model":"m","messages":[{"role":"user","content":"x"}]}`, []string{"256 characters"}},
		{"chat max_tokens", PathChat, hdr(),
			`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5}`, []string{"max_completion_tokens"}},
		{"messages stray key", PathMessages, hdr(),
			`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"user":"u"}`, []string{`"user" is not in`}},
		{"messages missing max_tokens", PathMessages, hdr(),
			`{"model":"m","messages":[{"role":"user","content":"x"}]}`, []string{`"max_tokens" missing`}},
		{"messages temperature 1.5", PathMessages, hdr(),
			`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"temperature":1.5}`, []string{"outside 0–1"}},
		{"responses temperature 2.5", PathResponses, hdr(),
			`{"model":"m","input":"x","temperature":2.5}`, []string{"outside 0–2"}},
		{"top_p negative", PathChat, hdr(),
			`{"model":"m","messages":[{"role":"user","content":"x"}],"top_p":-0.1}`, []string{"outside 0–1"}},
		{"metadata not string", PathResponses, hdr(),
			`{"model":"m","input":"x","metadata":{"n":3}}`, []string{"metadata.n: want a string"}},
		{"empty completion_window", PathResponses, hdr(),
			`{"model":"m","input":"x","metadata":{"completion_window":""}}`, []string{"empty"}},
		{"bad webhook url", PathResponses, hdr(),
			`{"model":"m","input":"x","metadata":{"completion_webhook":"x.example/h"}}`, []string{"absolute"}},
		{"user too long", PathResponses, hdr(),
			`{"model":"m","input":"x","user":"` + strings.Repeat("u", 257) + `"}`, []string{"257 characters"}},
		{"bad effort", PathResponses, hdr(),
			`{"model":"m","input":"x","reasoning":{"effort":"max"}}`, []string{"reasoning.effort"}},
		{"messages system role", PathMessages, hdr(),
			`{"model":"m","max_tokens":1,"messages":[{"role":"system","content":"x"}]}`, []string{"role"}},
		{"background stream", PathResponses, hdr(),
			`{"model":"m","input":"x","background":true,"stream":true}`, []string{"foreground"}},
		{"no auth", PathResponses, http.Header{"Content-Type": {"application/json"}},
			`{"model":"m","input":"x"}`, []string{"Authorization"}},
		{"zero token cap", PathResponses, hdr(),
			`{"model":"m","input":"x","max_output_tokens":0}`, []string{"positive integer"}},
		{"json_schema without name", PathResponses, hdr(),
			`{"model":"m","input":"x","text":{"format":{"type":"json_schema","schema":{}}}}`, []string{"name: required"}},
		{"not an object", PathResponses, hdr(), `[1]`, []string{"want a JSON object"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckCreateRequest(tc.path, tc.h, []byte(tc.body))
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tc.want), errs)
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to mention %q", i, errs[i], w)
				}
			}
		})
	}
}

func TestCheckResponseObject(t *testing.T) {
	good := `{"id":"resp_1","object":"response","created_at":1764000000,"status":"pending","background":true,"model":"m","metadata":{"completion_window":"flex"},"output":[],"usage":{"input_tokens":0,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":0},"error":null}`
	if errs := CheckResponseObject([]byte(good)); errs != nil {
		t.Fatalf("conforming object rejected: %v", errs)
	}
	cases := []struct {
		name, from, to, want string
	}{
		{"usage null", `"usage":{"input_tokens":0,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":0}`, `"usage":null`, "usage: want an object"},
		{"no details", `"input_tokens_details":{"cached_tokens":0},`, ``, "usage.input_tokens_details"},
		{"unknown status", `"pending"`, `"Queued"`, "status"},
		{"no metadata", `"metadata":{"completion_window":"flex"},`, ``, `"metadata" missing`},
		{"created_at string", `1764000000`, `"now"`, "created_at"},
		{"wrong object", `"object":"response"`, `"object":"chat.completion"`, "object"},
		{"metadata number", `"completion_window":"flex"`, `"n":1`, "metadata.n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Replace(good, tc.from, tc.to, 1)
			if body == good {
				t.Fatalf("replacement %q not found", tc.from)
			}
			errs := CheckResponseObject([]byte(body))
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
				t.Errorf("errors = %v, want one mentioning %q", errs, tc.want)
			}
		})
	}
}

func TestCheckErrorEnvelope(t *testing.T) {
	if errs := CheckErrorEnvelope([]byte(`{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":"x"}}`)); errs != nil {
		t.Errorf("OpenAI envelope rejected: %v", errs)
	}
	// Anthropic's envelope is not what Sail sends.
	errs := CheckErrorEnvelope([]byte(`{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}`))
	if len(errs) != 2 {
		t.Errorf("Anthropic envelope: errors = %v, want param and code missing", errs)
	}
}

func TestFacts(t *testing.T) {
	if IdempotencyHeader(PathMessages) != "anthropic-idempotency-key" {
		t.Errorf("messages header = %q", IdempotencyHeader(PathMessages))
	}
	for _, p := range []string{PathResponses, PathChat, PathBatches} {
		if IdempotencyHeader(p) != "Idempotency-Key" {
			t.Errorf("%s header = %q", p, IdempotencyHeader(p))
		}
	}
	for _, p := range CreatePaths() {
		for _, k := range RequiredKeys(p) {
			found := false
			for _, a := range AllowedKeys(p) {
				found = found || a == k
			}
			if !found {
				t.Errorf("%s: required key %q not allowed", p, k)
			}
		}
		found := false
		for _, a := range AllowedKeys(p) {
			found = found || a == TokenCapKey(p)
			if a == MetaCompletionWindow {
				t.Errorf("%s allows top-level completion_window", p)
			}
		}
		if !found {
			t.Errorf("%s: token cap %q not allowed", p, TokenCapKey(p))
		}
	}
	if CreateStatus(true) != 202 || CreateStatus(false) != 200 {
		t.Error("create status codes")
	}
}
