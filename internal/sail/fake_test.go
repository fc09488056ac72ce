package sail

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// seen is one request as the fake server received it.
type seen struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// JSON decodes the request body into a generic map.
func (s seen) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(s.Body, &m); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, s.Body)
	}
	return m
}

// fake is an httptest server that records every request and answers with
// a per-test handler. It listens on 127.0.0.1 only.
type fake struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newFake(t *testing.T, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fake) only(t *testing.T) seen {
	t.Helper()
	r := f.requests()
	if len(r) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(r))
	}
	return r[0]
}

const testKey = "sk-test-0123456789abcdef"

// client builds a Client on the fake with fast, deterministic retries.
func (f *fake) client(t *testing.T, mutate ...func(*Options)) *Client {
	t.Helper()
	o := Options{BaseURL: f.URL, APIKey: testKey, HTTPClient: f.Client(), UserAgent: "sail-test/1"}
	for _, m := range mutate {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// quickRetry makes the SDKs retry after 1ms instead of their 0.5s backoff.
func quickRetry(w http.ResponseWriter) { w.Header().Set("Retry-After-Ms", "1") }

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Wire bodies in the shapes Sail answers with.
const (
	responseQueued = `{"id":"resp_1","object":"response","created_at":1764000000,"status":"queued","background":true,"model":"moonshotai/Kimi-K2.5","metadata":{"completion_webhook":"https://x.example/h","webhook_token":"tok-secret-123"},"output":[],"usage":null,"error":null,"incomplete_details":null}`

	responseCompleted = `{"id":"resp_1","object":"response","created_at":1764000000,"status":"completed","background":true,"model":"moonshotai/Kimi-K2.5",
  "output":[{"type":"reasoning","id":"rs_1","summary":[]},
            {"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"2+2 ","annotations":[]},{"type":"refusal","refusal":"no"},{"type":"output_text","text":"= 4","annotations":[]}]}],
  "usage":{"input_tokens":14,"output_tokens":3,"total_tokens":17},"error":null,"incomplete_details":null,"completed_at":1764000002}
`

	chatCompletion = `{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"zai-org/GLM-5","choices":[{"index":0,"message":{"role":"assistant","content":"4"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}`

	anthropicMessage = `{"id":"msg_01","type":"message","role":"assistant","model":"moonshotai/Kimi-K2.5","content":[{"type":"thinking","thinking":"hmm","signature":""},{"type":"text","text":"The answer"},{"type":"text","text":" is 4"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":5}}`
)
