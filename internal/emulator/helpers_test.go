package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/testutil"
)

const testKey = "sk-test"

// newEmulator returns an emulator closed at the end of the test, with fast
// retry defaults unless o sets them.
func newEmulator(t testing.TB, o Options) *Emulator {
	t.Helper()
	if o.RetryBackoff == 0 {
		o.RetryBackoff = time.Millisecond
	}
	if o.DeliveryTimeout == 0 {
		o.DeliveryTimeout = 5 * time.Second
	}
	e, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// call sends a request straight to the handler and returns status and body.
func call(t testing.TB, h http.Handler, method, path string, body any, hdr map[string]string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if _, ok := hdr["Authorization"]; !ok {
		req.Header.Set("Authorization", "Bearer "+testKey)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// create posts a Responses create and returns the decoded object. A
// background create must answer 202, a foreground one 200.
func create(t testing.TB, h http.Handler, req map[string]any, hdr map[string]string) (map[string]any, []byte) {
	t.Helper()
	code, body := call(t, h, http.MethodPost, "/v1/responses", req, hdr)
	want := http.StatusOK
	if req["background"] == true {
		want = http.StatusAccepted
	}
	if code != want {
		t.Fatalf("create: status %d, want %d: %s", code, want, body)
	}
	return decode(t, body), body
}

func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// settle waits until every lifecycle and delivery goroutine has finished,
// so counts can be asserted exactly.
func settle(t testing.TB, e *Emulator) {
	t.Helper()
	testutil.WaitUntil(t, 10*time.Second, "the emulator's goroutines to finish", func() bool { return e.active.Load() == 0 })
}

// hit is one request a receiver saw.
type hit struct {
	Method, Auth, ContentType, UserAgent string
	Body                                 []byte
}

// receiver is a webhook endpoint on loopback that records requests and
// answers with status(n) for the n-th request (1-based).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	hits   []hit
	status func(n int) int
}

func newReceiver(t testing.TB, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{status: status}
	if r.status == nil {
		r.status = func(int) int { return http.StatusOK }
	}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.hits = append(r.hits, hit{req.Method, req.Header.Get("Authorization"), req.Header.Get("Content-Type"), req.Header.Get("User-Agent"), b})
		n := len(r.hits)
		r.mu.Unlock()
		w.WriteHeader(r.status(n))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// webhookReq is a background create with a webhook and extra metadata.
func webhookReq(url string, md map[string]string) map[string]any {
	m := map[string]string{"completion_webhook": url}
	for k, v := range md {
		m[k] = v
	}
	return map[string]any{
		"model": "moonshotai/Kimi-K2.5", "input": "What is 2+2? Reply with just the number.",
		"background": true, "metadata": m,
	}
}

func attemptsFor(e *Emulator, id string) []Attempt {
	var out []Attempt
	for _, a := range e.Attempts() {
		if a.ResponseID == id {
			out = append(out, a)
		}
	}
	return out
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func httpRequest(method, path string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("Authorization", "Bearer "+testKey)
	return r
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
