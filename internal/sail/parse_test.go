package sail

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestNormalizeBaseURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", DefaultBaseURL},
		{"https://api.sailresearch.com", "https://api.sailresearch.com/v1"},
		{"https://api.sailresearch.com/", "https://api.sailresearch.com/v1"},
		{"https://api.sailresearch.com/v1", "https://api.sailresearch.com/v1"},
		{"https://api.sailresearch.com/v1/", "https://api.sailresearch.com/v1"},
		{"  https://api.sailresearch.com/v1//  ", "https://api.sailresearch.com/v1"},
		{"HTTPS://API.SailResearch.com/v1", "https://api.sailresearch.com/v1"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/v1"},
		{"http://[::1]:9000/v1", "http://[::1]:9000/v1"},
		{"https://proxy.example/sail", "https://proxy.example/sail/v1"},
		{"https://proxy.example/sail/v1/", "https://proxy.example/sail/v1"},
	}
	for _, c := range cases {
		got, err := NormalizeBaseURL(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeBaseURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"api.sailresearch.com", "localhost:8080", "ftp://x/v1", "https://", "http:///v1",
		"https://user:pw@api.sailresearch.com", "https://api.sailresearch.com/v1?x=1", "https://api.sailresearch.com/#f", "://x",
	} {
		_, err := NormalizeBaseURL(bad)
		if err == nil {
			t.Errorf("NormalizeBaseURL(%q) accepted", bad)
			continue
		}
		if exitcode.Of(err) != exitcode.Config || !strings.Contains(exitcode.Hint(err), "SAIL_API_URL") {
			t.Errorf("NormalizeBaseURL(%q): code %d hint %q", bad, exitcode.Of(err), exitcode.Hint(err))
		}
		if strings.Contains(err.Error(), "pw@") {
			t.Errorf("error echoes credentials: %v", err)
		}
	}
}

func TestAnthropicBase(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.sailresearch.com/v1": "https://api.sailresearch.com/",
		"https://proxy.example/sail/v1":   "https://proxy.example/sail/",
	} {
		if got := anthropicBase(in); got != want {
			t.Errorf("anthropicBase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	yes := []string{"http://127.0.0.1:8080/v1", "http://127.3.4.5", "http://[::1]:80", "http://localhost:1/v1", "http://LOCALHOST", "http://emu.localhost:9", "http://[::ffff:127.0.0.1]:1",
		"http://LOCALHOST.", "https://user@127.0.0.1:4010/path"}
	no := []string{"https://api.sailresearch.com/v1", "http://10.0.0.1", "http://[::2]", "http://localhost.example.com", "not a url", "", "http://0.0.0.0",
		"https://api.sailresearch.com", "http://127.0.0.1.nip.io", "https://notlocalhost:443", "http://%zz"}
	for _, u := range yes {
		if !IsLoopback(u) {
			t.Errorf("IsLoopback(%q) = false", u)
		}
	}
	for _, u := range no {
		if IsLoopback(u) {
			t.Errorf("IsLoopback(%q) = true", u)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	for in, want := range map[string]Endpoint{
		"responses": Responses, "Responses": Responses, "/v1/responses": Responses,
		"chat": Chat, "chat/completions": Chat, "chat.completions": Chat, " CHAT ": Chat,
		"messages": Messages, "/v1/messages": Messages,
	} {
		got, err := ParseEndpoint(in)
		if err != nil || got != want {
			t.Errorf("ParseEndpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "batches", "embeddings", "chatx"} {
		_, err := ParseEndpoint(bad)
		if exitcode.Of(err) != exitcode.Usage || !strings.Contains(exitcode.Hint(err), "responses, chat, messages") {
			t.Errorf("ParseEndpoint(%q): %v (hint %q)", bad, err, exitcode.Hint(err))
		}
	}
	for _, e := range Endpoints() {
		if !strings.HasPrefix(e.Path(), "/v1/") {
			t.Errorf("%s.Path() = %q", e, e.Path())
		}
	}
}

// ParseResponse normalises the status for logic (one normaliser, the
// status package's) and keeps the server's spelling for display.
func TestParseResponseStatusDialects(t *testing.T) {
	cases := []struct {
		in, want string
		terminal bool
	}{
		{"pending", "queued", false},
		{"queued", "queued", false},
		{"running", "in_progress", false},
		{"in_progress", "in_progress", false},
		{"completed", "completed", true},
		{"failed", "failed", true},
		{"cancelled", "cancelled", true},
		{"canceled", "cancelled", true},
		{"incomplete", "incomplete", true},
		{" Completed ", "completed", true},
		{"RUNNING", "in_progress", false},
		{"paused", "paused", false}, // unknown: shown as is, not terminal
		{"", "", false},
	}
	for _, c := range cases {
		raw, _ := json.Marshal(c.in)
		r, err := ParseResponse([]byte(`{"id":"resp_1","object":"response","status":` + string(raw) + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != c.want || r.WireStatus != c.in {
			t.Errorf("status %q: Status %q, WireStatus %q; want %q, %q", c.in, r.Status, r.WireStatus, c.want, c.in)
		}
		if r.Terminal() != c.terminal {
			t.Errorf("status %q: Terminal() = %v, want %v", c.in, r.Terminal(), c.terminal)
		}
	}
}

func TestParseResponseShapes(t *testing.T) {
	cases := []struct {
		name, raw                            string
		id, object, status, text, incomplete string
		endpoint                             Endpoint
		in, out, total                       int64
		errCode, errMsg                      string
	}{
		{name: "response completed", raw: responseCompleted, id: "resp_1", object: "response", status: "completed", text: "2+2 = 4", endpoint: Responses, in: 14, out: 3, total: 17},
		{name: "response pending alias", raw: `{"id":"r","object":"response","status":"pending"}`, id: "r", object: "response", status: "queued", endpoint: Responses},
		{name: "response failed", raw: `{"id":"r","object":"response","status":"failed","error":{"code":"server_error","message":"model crashed"}}`, id: "r", object: "response", status: "failed", endpoint: Responses, errCode: "server_error", errMsg: "model crashed"},
		{name: "response incomplete", raw: `{"id":"r","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"partial"}]}]}`, id: "r", object: "response", status: "incomplete", text: "partial", incomplete: "max_output_tokens", endpoint: Responses},
		{name: "response numeric error code", raw: `{"id":"r","object":"response","status":"failed","error":{"code":500,"message":"x"}}`, id: "r", object: "response", status: "failed", endpoint: Responses, errCode: "500", errMsg: "x"},
		{name: "chat", raw: chatCompletion, id: "chatcmpl-1", object: "chat.completion", status: "completed", text: "4", endpoint: Chat, in: 10, out: 1, total: 11},
		{name: "chat content parts", raw: `{"id":"c","object":"chat.completion","choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}`, id: "c", object: "chat.completion", status: "completed", text: "ab", endpoint: Chat},
		{name: "chat null content", raw: `{"id":"c","object":"chat.completion","choices":[{"message":{"content":null}}]}`, id: "c", object: "chat.completion", status: "completed", endpoint: Chat},
		{name: "message", raw: anthropicMessage, id: "msg_01", object: "message", status: "completed", text: "The answer is 4", endpoint: Messages, in: 12, out: 5, total: 17},
		{name: "message max_tokens", raw: `{"id":"m","type":"message","content":[{"type":"text","text":"cut"}],"stop_reason":"max_tokens"}`, id: "m", object: "message", status: "incomplete", text: "cut", incomplete: "max_tokens", endpoint: Messages},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(c.raw))
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != c.id || r.Object != c.object || r.Status != c.status || r.OutputText != c.text || r.Endpoint != c.endpoint || r.IncompleteReason != c.incomplete {
				t.Errorf("got %+v", r)
			}
			if c.total != 0 {
				if r.Usage == nil || r.Usage.InputTokens != c.in || r.Usage.OutputTokens != c.out || r.Usage.TotalTokens != c.total {
					t.Errorf("usage = %+v", r.Usage)
				}
			}
			if c.errMsg != "" {
				if r.Error == nil || r.Error.Code != c.errCode || r.Error.Message != c.errMsg {
					t.Errorf("error = %+v", r.Error)
				}
			} else if r.Error != nil {
				t.Errorf("unexpected error %+v", r.Error)
			}
			if string(r.Raw) != strings.TrimSpace(c.raw) {
				t.Errorf("Raw differs")
			}
		})
	}
	for _, bad := range []string{"", "null", "[]", `"x"`, "{", `{"output":5}`} {
		if _, err := ParseResponse([]byte(bad)); err == nil {
			t.Errorf("ParseResponse(%q) accepted", bad)
		}
	}
}

func TestFailure(t *testing.T) {
	for _, s := range []string{"queued", "in_progress", "completed", "paused"} {
		if err := (&Response{ID: "r", Status: s}).Failure(); err != nil {
			t.Errorf("%s: Failure = %v", s, err)
		}
	}
	err := (&Response{ID: "r", Status: "failed", Error: &ResponseError{Code: "server_error", Message: "model crashed"}}).Failure()
	if exitcode.Of(err) != exitcode.ResponseFailed || !strings.Contains(err.Error(), "model crashed") || !strings.Contains(err.Error(), "r ended failed") {
		t.Errorf("failed: %v", err)
	}
	err = (&Response{ID: "r", Status: "incomplete", IncompleteReason: "max_output_tokens"}).Failure()
	if exitcode.Of(err) != exitcode.ResponseFailed || !strings.Contains(err.Error(), "max_output_tokens") || exitcode.Hint(err) == "" {
		t.Errorf("incomplete: %v (hint %q)", err, exitcode.Hint(err))
	}
	var nilResp *Response
	if nilResp.Failure() != nil || nilResp.Terminal() {
		t.Error("nil response")
	}
}
