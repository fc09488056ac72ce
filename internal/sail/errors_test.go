package sail

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestAPIErrors(t *testing.T) {
	cases := []struct {
		name     string
		endpoint Endpoint
		status   int
		header   map[string]string
		body     string
		wantCode int
		wantMsg  string
		wantType string
		wantErr  string // field code
		wantHint string
	}{
		{
			name: "400 openai envelope", status: 400,
			body:     `{"error":{"message":"model 'x' not found","type":"invalid_request_error","param":"model","code":"model_not_found"}}`,
			wantCode: exitcode.Error, wantMsg: "model 'x' not found", wantType: "invalid_request_error", wantErr: "model_not_found",
		},
		{
			name: "400 idempotency", status: 400,
			body:     `{"error":{"message":"Idempotency-Key reused with a different body","type":"invalid_request_error","code":"idempotency_error","param":null}}`,
			wantCode: exitcode.Error, wantMsg: "Idempotency-Key reused with a different body", wantErr: "idempotency_error",
		},
		{
			name: "400 anthropic envelope", endpoint: Messages, status: 400,
			body:     `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be positive"}}`,
			wantCode: exitcode.Error, wantMsg: "max_tokens: must be positive", wantType: "invalid_request_error",
		},
		{
			name: "401", status: 401,
			body:     `{"error":{"message":"Invalid API key","type":"authentication_error"}}`,
			wantCode: exitcode.Config, wantMsg: "Invalid API key", wantHint: "SAIL_API_KEY",
		},
		{
			name: "401 anthropic", endpoint: Messages, status: 401,
			body:     `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
			wantCode: exitcode.Config, wantMsg: "invalid x-api-key", wantHint: "SAIL_API_KEY",
		},
		{
			name: "403", status: 403,
			body:     `{"error":{"message":"this key may not use GLM-5","type":"permission_error"}}`,
			wantCode: exitcode.Config, wantMsg: "this key may not use GLM-5", wantHint: "SAIL_API_KEY",
		},
		{
			name: "500", status: 500,
			body:     `{"error":{"message":"internal error","type":"server_error"}}`,
			wantCode: exitcode.Error, wantMsg: "internal error", wantHint: "try again",
		},
		{
			name: "502 html", status: 502, header: map[string]string{"Content-Type": "text/html"},
			body:     "<html><body>Bad gateway</body></html>",
			wantCode: exitcode.Error, wantMsg: "<html><body>Bad gateway</body></html>",
		},
		{
			name: "422 detail", status: 422,
			body:     `{"detail":"input: field required"}`,
			wantCode: exitcode.Error, wantMsg: "input: field required",
		},
		{
			name: "400 error string", status: 400,
			body:     `{"error":"bad input"}`,
			wantCode: exitcode.Error, wantMsg: "bad input",
		},
		{
			name: "400 empty body", status: 400, body: "",
			wantCode: exitcode.Error, wantMsg: "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				quickRetry(w)
				w.Header().Set("X-Request-Id", "req_42")
				ct := "application/json"
				for k, v := range tc.header {
					if k == "Content-Type" {
						ct = v
						continue
					}
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			ep := tc.endpoint
			if ep == "" {
				ep = Responses
			}
			_, err := f.client(t).Create(testCtx(t), CreateRequest{Endpoint: ep, Model: "m", Input: "hi"})
			var api *APIError
			if !errors.As(err, &api) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			if api.StatusCode != tc.status || api.Message != tc.wantMsg {
				t.Errorf("status %d message %q, want %d %q", api.StatusCode, api.Message, tc.status, tc.wantMsg)
			}
			if tc.wantType != "" && api.Type != tc.wantType {
				t.Errorf("type = %q, want %q", api.Type, tc.wantType)
			}
			if api.Code != tc.wantErr {
				t.Errorf("code = %q, want %q", api.Code, tc.wantErr)
			}
			if api.RequestID != "req_42" {
				t.Errorf("request id = %q", api.RequestID)
			}
			if api.Method != "POST" || api.Path != ep.Path() {
				t.Errorf("call = %s %s", api.Method, api.Path)
			}
			if got := exitcode.Of(err); got != tc.wantCode {
				t.Errorf("exit code = %d, want %d", got, tc.wantCode)
			}
			if tc.wantHint != "" && !strings.Contains(exitcode.Hint(err), tc.wantHint) {
				t.Errorf("hint = %q, want it to mention %q", exitcode.Hint(err), tc.wantHint)
			}
			if tc.wantMsg != "" && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Error() = %q lacks the server message", err.Error())
			}
		})
	}
}

func TestServerErrorsAreRetriedThenReported(t *testing.T) {
	var n atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		quickRetry(w)
		writeJSON(w, 503, `{"error":{"message":"overloaded","type":"server_error"}}`)
	})
	_, err := f.client(t, func(o *Options) { o.MaxRetries = 3 }).Get(testCtx(t), "resp_1")
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != 503 || api.Message != "overloaded" {
		t.Fatalf("err = %v", err)
	}
	if got := n.Load(); got != 4 {
		t.Errorf("server saw %d attempts, want 1 + 3 retries", got)
	}
	if exitcode.Of(err) != exitcode.Error {
		t.Errorf("exit code = %d", exitcode.Of(err))
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"error":{"message":"nope"}}`)
	})
	_, _ = f.client(t).Create(testCtx(t), CreateRequest{Model: "m", Input: "hi"})
	if n := len(f.requests()); n != 1 {
		t.Errorf("a 400 was sent %d times", n)
	}
}

func TestGetNotFound(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"error":{"message":"No response with id 'resp_x'","type":"invalid_request_error","code":"not_found"}}`)
	})
	_, err := f.client(t).Get(testCtx(t), "resp_x")
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != 404 || api.Path != "/v1/responses/resp_x" || api.Method != "GET" {
		t.Fatalf("err = %v", err)
	}
	if req := f.only(t); req.Method != "GET" || req.Path != "/v1/responses/resp_x" || req.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("request = %s %s auth %q", req.Method, req.Path, req.Header.Get("Authorization"))
	}
	if exitcode.Of(err) != exitcode.Error || !strings.Contains(exitcode.Hint(err), "response id") {
		t.Errorf("code %d hint %q", exitcode.Of(err), exitcode.Hint(err))
	}
}

func TestCancel(t *testing.T) {
	t.Run("supported", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, strings.Replace(responseQueued, `"queued"`, `"cancelled"`, 1))
		})
		resp, err := f.client(t).Cancel(testCtx(t), "resp_1")
		if err != nil {
			t.Fatal(err)
		}
		if req := f.only(t); req.Method != "POST" || req.Path != "/v1/responses/resp_1/cancel" {
			t.Errorf("request = %s %s", req.Method, req.Path)
		}
		if resp.Status != StatusCancelled || !resp.Terminal() {
			t.Errorf("status = %q", resp.Status)
		}
		if exitcode.Of(resp.Failure()) != exitcode.ResponseFailed {
			t.Errorf("cancelled response Failure() = %v", resp.Failure())
		}
	})
	for _, status := range []int{404, 405} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, status, `{"error":{"message":"Cancel is not supported"}}`)
			})
			_, err := f.client(t).Cancel(testCtx(t), "resp_1")
			if !errors.Is(err, ErrCancelUnsupported) {
				t.Fatalf("err = %v, want ErrCancelUnsupported", err)
			}
			var api *APIError
			if !errors.As(err, &api) || api.StatusCode != status {
				t.Errorf("no APIError %d inside %v", status, err)
			}
			if !strings.Contains(err.Error(), "does not support cancel") || !strings.Contains(err.Error(), "Cancel is not supported") {
				t.Errorf("message = %q", err.Error())
			}
			if exitcode.Of(err) != exitcode.Error || !strings.Contains(exitcode.Hint(err), "sail responses wait resp_1") {
				t.Errorf("code %d hint %q", exitcode.Of(err), exitcode.Hint(err))
			}
		})
	}
	t.Run("other errors stay plain", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 401, `{"error":{"message":"bad key"}}`)
		})
		_, err := f.client(t).Cancel(testCtx(t), "resp_1")
		if errors.Is(err, ErrCancelUnsupported) || exitcode.Of(err) != exitcode.Config {
			t.Errorf("err = %v (code %d)", err, exitcode.Of(err))
		}
	})
}

func TestNetworkErrorNamesBaseURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	c, err := New(Options{BaseURL: "http://" + addr, APIKey: testKey, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"create": func() error { _, err := c.Create(testCtx(t), CreateRequest{Model: "m", Input: "hi"}); return err },
		"messages": func() error {
			_, err := c.Create(testCtx(t), CreateRequest{Endpoint: Messages, Model: "m", Input: "hi"})
			return err
		},
		"get":    func() error { _, err := c.Get(testCtx(t), "resp_1"); return err },
		"models": func() error { _, err := c.Models(testCtx(t)); return err },
	} {
		err := call()
		var ne *NetworkError
		if !errors.As(err, &ne) {
			t.Errorf("%s: %v (%T) is not a *NetworkError", name, err, err)
			continue
		}
		if !strings.Contains(err.Error(), "http://"+addr+"/v1") {
			t.Errorf("%s: %q does not name the base URL", name, err)
		}
		if !strings.Contains(exitcode.Hint(err), "SAIL_API_URL") {
			t.Errorf("%s: hint %q", name, exitcode.Hint(err))
		}
		if exitcode.Of(err) != exitcode.Error {
			t.Errorf("%s: exit code %d", name, exitcode.Of(err))
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("%s: error leaks the API key", name)
		}
	}
}

func TestMalformedJSON(t *testing.T) {
	for _, body := range []string{`{"id":"resp_1","status":`, `[1,2,3]`, `{"status":"queued"}`, `not json`} {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, body) })
		c := f.client(t)
		_, err := c.Get(testCtx(t), "resp_1")
		var me *MalformedError
		if !errors.As(err, &me) {
			t.Errorf("get %q: %v (%T) is not a *MalformedError", body, err, err)
		}
		_, err = c.Create(testCtx(t), CreateRequest{Endpoint: Messages, Model: "m", Input: "hi"})
		if !errors.As(err, &me) {
			t.Errorf("messages %q: %v (%T) is not a *MalformedError", body, err, err)
		}
		if exitcode.Of(err) != exitcode.Error || exitcode.Hint(err) == "" {
			t.Errorf("code %d hint %q", exitcode.Of(err), exitcode.Hint(err))
		}
	}
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"object":"list","data":[`) })
	_, err := f.client(t).Models(testCtx(t))
	var me *MalformedError
	if !errors.As(err, &me) {
		t.Errorf("models: %v (%T) is not a *MalformedError", err, err)
	}
}

// Servers sometimes echo a rejected key or token back; it must not end up
// in our error text.
func TestErrorsRedactSecrets(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"error":{"message":"bad key `+testKey+` and token tok-secret-123","param":"metadata.webhook_token=tok-secret-123"}}`)
	})
	_, err := f.client(t).Create(testCtx(t), CreateRequest{Model: "m", Input: "hi", WebhookURL: "https://x.example/h", WebhookToken: "tok-secret-123"})
	if err == nil {
		t.Fatal("no error")
	}
	if msg := err.Error(); strings.Contains(msg, testKey) || strings.Contains(msg, "tok-secret-123") || !strings.Contains(msg, "bad key •••") {
		t.Errorf("error = %q", msg)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		header map[string]string
		want   time.Duration
	}{
		{map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond},
		{map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, 30 * time.Second},
		{map[string]string{"Retry-After": now.Add(-30 * time.Second).Format(http.TimeFormat)}, 0},
		{map[string]string{"Retry-After": "soon"}, 0},
		{map[string]string{"Retry-After": "-3"}, 0},
		{map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		{map[string]string{}, 0},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c.header {
			h.Set(k, v)
		}
		if got := parseRetryAfter(h, now); got != c.want {
			t.Errorf("%v: got %v, want %v", c.header, got, c.want)
		}
	}
}
