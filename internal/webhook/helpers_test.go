package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sailresearch/sail/internal/store"
)

const testToken = "whtok_test_0123456789abcdefghijklmnopqrstu"

// responseBody is a webhook payload as Sail sends it, with textLen bytes
// of answer.
func responseBody(id, status string, textLen int) []byte {
	text := strings.Repeat("The answer is 4. ", textLen/17+1)[:textLen]
	return fmt.Appendf(nil, `{"id":%q,"object":"response","created_at":1764000000,"status":%q,`+
		`"background":true,"model":"moonshotai/Kimi-K2.5",`+
		`"metadata":{"completion_webhook":"https://x.example/h/abc","webhook_token":%q},`+
		`"output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed",`+
		`"content":[{"type":"output_text","text":%q,"annotations":[]}]}],`+
		`"usage":{"input_tokens":14,"output_tokens":1,"total_tokens":15},"error":null}`,
		id, status, testToken, text)
}

// memSaver is an in-memory Saver that can be told to fail.
type memSaver struct {
	mu   sync.Mutex
	recs []*store.Record
	keys map[string]bool
	fail error
}

func (m *memSaver) Save(r *store.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	cp := *r
	cp.Body = bytes.Clone(r.Body)
	cp.ID = fmt.Sprintf("d_%04d", len(m.recs)+1)
	r.ID = cp.ID
	m.recs = append(m.recs, &cp)
	if r.DedupeKey != "" {
		if m.keys == nil {
			m.keys = map[string]bool{}
		}
		m.keys[r.DedupeKey] = true
	}
	return nil
}

func (m *memSaver) HasDedupeKey(k string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keys[k]
}

func (m *memSaver) setFail(err error) { m.mu.Lock(); m.fail = err; m.mu.Unlock() }

func (m *memSaver) records() []*store.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*store.Record(nil), m.recs...)
}

func (m *memSaver) get(id string) *store.Record {
	for _, r := range m.records() {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// post sends one request straight to the handler.
func post(h http.Handler, method, path string, body []byte, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1"+path, bytes.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// jsonAnswer decodes the receiver's answer body.
func jsonAnswer(t testing.TB, b []byte) map[string]any {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %q is not a JSON object: %v", b, err)
	}
	return m
}

// chunked hides the length of a body, so the request goes out chunked.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

var errDisk = errors.New("disk full")
