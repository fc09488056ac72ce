package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/sailspec"
)

// The emulator's contract tests: every answer it gives, checked against
// the facts of Sail's API reference as package sailspec writes them down,
// never against the client. The client's requests are checked against the
// same facts in internal/sail (TestContract*).

// dialects are the two status dialects with the unfinished statuses each
// must write and the set every status it writes must belong to.
var dialects = []struct {
	names            string
	pending, running string
	all              []string
}{
	// The reference lists no "incomplete"; the emulator keeps OpenAI's for a
	// reply cut by the token cap in both dialects (sailspec accepts it).
	{StatusNamesSail, StatusPending, StatusRunning, append(sailspec.StatusesReference(), StatusIncomplete)},
	{StatusNamesOpenAI, StatusQueued, StatusInProgress, sailspec.StatusesOpenAI()},
}

// specCreate is one valid create request for path: it is itself checked
// against sailspec before use, so the table cannot drift from the facts.
func specCreate(t *testing.T, path string, background bool, md map[string]string) map[string]any {
	t.Helper()
	var body map[string]any
	switch path {
	case sailspec.PathResponses:
		body = map[string]any{"model": "zai-org/GLM-5", "input": "What is 6*7?"}
		if background {
			body["background"] = true
		}
	case sailspec.PathChat:
		body = map[string]any{"model": "zai-org/GLM-5", "messages": []any{map[string]any{"role": "user", "content": "What is 6*7?"}}}
	case sailspec.PathMessages:
		body = map[string]any{"model": "zai-org/GLM-5", "max_tokens": 64, "messages": []any{map[string]any{"role": "user", "content": "What is 6*7?"}}}
	}
	if md != nil {
		body["metadata"] = md
	}
	checkRequest(t, path, body, nil)
	return body
}

// checkRequest fails the test when body (with the headers call sends) is
// not a request the reference allows.
func checkRequest(t *testing.T, path string, body map[string]any, hdr map[string]string) {
	t.Helper()
	h := http.Header{}
	h.Set("Authorization", "Bearer "+testKey)
	h.Set("Content-Type", "application/json")
	for k, v := range hdr {
		h.Set(k, v)
	}
	raw, _ := json.Marshal(body)
	if errs := sailspec.CheckCreateRequest(path, h, raw); len(errs) > 0 {
		t.Fatalf("the test's own %s request breaks the reference: %v\n%s", path, errs, raw)
	}
}

// checkObject fails the test when b is not a reference response object
// written in dialect d, with status want (a canonical name, mapped to d's).
func checkObject(t *testing.T, what string, b []byte, names string, all []string, want string) map[string]any {
	t.Helper()
	if errs := sailspec.CheckResponseObject(b); len(errs) > 0 {
		t.Errorf("%s breaks the reference's response object: %v\n%s", what, errs, b)
	}
	obj := decode(t, b)
	s, _ := obj["status"].(string)
	if !slices.Contains(all, s) {
		t.Errorf("%s: status %q is not in the %s dialect %v", what, s, names, all)
	}
	if w := wireStatus(names, want); s != w {
		t.Errorf("%s: status %q, want %q", what, s, w)
	}
	return obj
}

func checkEnvelope(t *testing.T, what string, code int, b []byte) {
	t.Helper()
	if code < 400 {
		t.Errorf("%s: status %d, want an error", what, code)
	}
	if errs := sailspec.CheckErrorEnvelope(b); len(errs) > 0 {
		t.Errorf("%s: not OpenAI's error envelope: %v\n%s", what, errs, b)
	}
}

// TestContractAnswerShapes: for each dialect, each terminal outcome and
// each way of creating (responses in background and foreground, chat,
// messages), the create answer, GET and the webhook all carry what the
// reference requires.
func TestContractAnswerShapes(t *testing.T) {
	type way struct {
		name       string
		path       string
		background bool
	}
	ways := []way{
		{"responses background", sailspec.PathResponses, true},
		{"responses foreground", sailspec.PathResponses, false},
		{"chat", sailspec.PathChat, false},
		{"messages", sailspec.PathMessages, false},
	}
	for _, d := range dialects {
		for _, outcome := range []string{StatusCompleted, StatusFailed, StatusIncomplete, StatusCancelled} {
			for _, w := range ways {
				t.Run(fmt.Sprintf("%s/%s/%s", d.names, outcome, w.name), func(t *testing.T) {
					rcv := newReceiver(t, nil)
					e := newEmulator(t, Options{StatusNames: d.names})
					md := map[string]string{
						sailspec.MetaCompletionWebhook: rcv.URL, sailspec.MetaWebhookToken: "tok",
						sailspec.MetaCompletionWindow: "standard", FaultKey: "outcome=" + outcome,
					}
					code, b := call(t, e, http.MethodPost, w.path, specCreate(t, w.path, w.background, md), nil)
					var id string
					switch {
					case w.path == sailspec.PathResponses:
						if want := sailspec.CreateStatus(w.background); code != want {
							t.Fatalf("create: HTTP %d, want %d: %s", code, want, b)
						}
						want := outcome
						if w.background {
							want = StatusQueued
						}
						obj := checkObject(t, "create answer", b, d.names, d.all, want)
						id, _ = obj["id"].(string)
						if w.background {
							checkZeroUsage(t, obj)
						}
					case outcome == StatusFailed || outcome == StatusCancelled:
						// Chat and messages answer the failure as an error;
						// the webhook still carries the response object.
						if code != http.StatusInternalServerError {
							t.Fatalf("create: HTTP %d, want 500: %s", code, b)
						}
						checkEnvelope(t, "create answer", code, b)
					default:
						if code != http.StatusOK {
							t.Fatalf("create: HTTP %d, want 200: %s", code, b)
						}
						id, _ = decode(t, b)["id"].(string)
					}
					settle(t, e)
					hits := rcv.got()
					if len(hits) != 1 {
						t.Fatalf("%d webhooks, want 1", len(hits))
					}
					hook := checkObject(t, "webhook", hits[0].Body, d.names, d.all, outcome)
					if id == "" {
						id, _ = hook["id"].(string)
					}
					code, get := call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
					if code != http.StatusOK || string(get) != string(hits[0].Body) {
						t.Errorf("GET %s: HTTP %d, want 200 and the webhook's bytes:\n%s\n%s", id, code, get, hits[0].Body)
					}
					// The response object echoes the request's metadata, as
					// Sail's does: strings, the window included.
					gotMD, _ := hook["metadata"].(map[string]any)
					for k, v := range md {
						if gotMD[k] != v {
							t.Errorf("metadata.%s = %v, want %q", k, gotMD[k], v)
						}
					}
					if outcome == StatusCompleted || outcome == StatusIncomplete {
						if u := hook["usage"].(map[string]any); u["output_tokens"] == 0.0 {
							t.Errorf("finished usage = %v, want the counted tokens", u)
						}
					} else {
						checkZeroUsage(t, hook)
					}
				})
			}
		}
		// A response seen while it runs, and cancelled: the answers between
		// create and the end.
		t.Run(d.names+"/running and cancel", func(t *testing.T) {
			e := newEmulator(t, Options{StatusNames: d.names, Latency: time.Hour})
			obj, b := create(t, e, specCreate(t, sailspec.PathResponses, true, nil), nil)
			checkObject(t, "create answer", b, d.names, d.all, StatusQueued)
			id := obj["id"].(string)
			_, get := call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
			checkObject(t, "GET pending", get, d.names, d.all, StatusQueued)
			e.setStatus(e.jobs[id], StatusInProgress)
			_, get = call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
			checkZeroUsage(t, checkObject(t, "GET running", get, d.names, d.all, StatusInProgress))
			code, c := call(t, e, http.MethodPost, "/v1/responses/"+id+"/cancel", nil, nil)
			if code != http.StatusOK {
				t.Fatalf("cancel: HTTP %d %s", code, c)
			}
			checkObject(t, "cancel answer", c, d.names, d.all, StatusCancelled)
		})
	}
}

func checkZeroUsage(t *testing.T, obj map[string]any) {
	t.Helper()
	u, ok := obj["usage"].(map[string]any)
	if !ok {
		t.Errorf("usage = %v, want an object", obj["usage"])
		return
	}
	for _, k := range sailspec.UsageKeys() {
		if u[k] != 0.0 {
			t.Errorf("usage.%s = %v before any output, want 0", k, u[k])
		}
	}
	for d, keys := range sailspec.UsageDetails() {
		for _, k := range keys {
			if det, _ := u[d].(map[string]any); det == nil || det[k] != 0.0 {
				t.Errorf("usage.%s.%s = %v, want 0", d, k, u[d])
			}
		}
	}
}

// TestContractErrors: every kind of error on every endpoint is answered in
// OpenAI's envelope, /v1/messages included.
func TestContractErrors(t *testing.T) {
	e := newEmulator(t, Options{APIKey: testKey, MaxResponses: 1, Latency: time.Hour})
	// Fill the only slot so the next create is refused with 429.
	create(t, e, specCreate(t, sailspec.PathResponses, true, nil), nil)
	wrongKey := map[string]string{"Authorization": "Bearer wrong"}
	noKey := map[string]string{"Authorization": ""}
	big := `{"model":"zai-org/GLM-5","input":"` + strings.Repeat("x", maxBody) + `"}`
	type req struct {
		method, path, body string
		hdr                map[string]string
	}
	var cases []req
	for _, p := range sailspec.CreatePaths() {
		valid, _ := json.Marshal(specCreate(t, p, false, nil))
		cases = append(cases,
			req{"POST", p, string(valid), wrongKey},
			req{"POST", p, string(valid), noKey},
			req{"POST", p, `{"model":`, nil},
			req{"POST", p, `{"model":"zai-org/GLM-5"}`, nil},
			req{"POST", p, `{"model":"nope","input":"x","messages":[{"role":"user","content":"x"}],"max_tokens":5}`, nil},
			req{"GET", p, ``, nil},
			req{"POST", p, string(valid), map[string]string{sailspec.IdempotencyHeader(p): strings.Repeat("k", sailspec.MaxIdempotencyKey+1)}},
			req{"POST", p, big, nil},
		)
	}
	cases = append(cases,
		req{"POST", sailspec.PathResponses, `{"model":"zai-org/GLM-5","input":"x","background":true}`, nil}, // 429: full
		req{"POST", sailspec.PathMessages, `{"model":"zai-org/GLM-5","max_tokens":5,"messages":[{"role":"user","content":"x"}],"stray":1}`, nil},
		req{"POST", sailspec.PathChat, `{"model":"zai-org/GLM-5","messages":[{"role":"user","content":"x"}],"max_tokens":5}`, nil},
		req{"GET", "/v1/models", ``, wrongKey},
		req{"GET", "/v1/models/nope", ``, nil},
		req{"GET", "/v1/responses/resp_nope", ``, nil},
		req{"POST", "/v1/responses/resp_nope/cancel", ``, nil},
		req{"POST", "/v1/messages/count_tokens", `{}`, nil},
		req{"GET", "/v1/nothing-here", ``, nil},
		req{"GET", "/elsewhere", ``, nil},
	)
	for _, c := range cases {
		name := fmt.Sprintf("%s %s %.40s", c.method, c.path, c.body)
		code, b := call(t, e, c.method, c.path, c.body, c.hdr)
		checkEnvelope(t, name, code, b)
	}
	// After Close, creates on every endpoint answer 503 in the envelope.
	e.beginClose()
	for _, p := range sailspec.CreatePaths() {
		code, b := call(t, e, http.MethodPost, p, specCreate(t, p, false, nil), nil)
		if code != http.StatusServiceUnavailable {
			t.Errorf("%s after close: HTTP %d, want 503", p, code)
		}
		checkEnvelope(t, p+" after close", code, b)
	}
}

// TestContractRequestRules: what the reference says each create endpoint
// accepts and refuses, as the emulator enforces it.
func TestContractRequestRules(t *testing.T) {
	e := newEmulator(t, Options{})
	param := func(b []byte) string {
		var env openAIErr
		_ = json.Unmarshal(b, &env)
		if env.Error == nil {
			return ""
		}
		return str(env.Error.Param)
	}

	t.Run("messages accepts every listed key", func(t *testing.T) {
		body := specCreate(t, sailspec.PathMessages, false, map[string]string{"user_id": "u"})
		extra := map[string]any{
			"system": "be brief", "temperature": sailspec.TemperatureMaxAnthropic, "top_p": sailspec.TopPMax,
			"output_config": map[string]any{"effort": "low"}, "tools": []any{}, "tool_choice": map[string]any{"type": "auto"},
			"thinking": map[string]any{"type": "disabled"}, "stream": false, "context_management": map[string]any{},
		}
		for k, v := range extra {
			body[k] = v
		}
		for _, k := range sailspec.AllowedKeys(sailspec.PathMessages) {
			if _, ok := body[k]; !ok {
				t.Fatalf("the test leaves out listed key %q", k)
			}
		}
		checkRequest(t, sailspec.PathMessages, body, nil)
		if code, b := call(t, e, http.MethodPost, sailspec.PathMessages, body, nil); code != http.StatusOK {
			t.Errorf("every listed key: HTTP %d %s", code, b)
		}
	})

	t.Run("messages refuses every other top-level key", func(t *testing.T) {
		stray := []string{sailspec.MetaCompletionWindow, "background", "top_k", "stop_sequences", "x"}
		for _, p := range []string{sailspec.PathResponses, sailspec.PathChat} {
			for _, k := range sailspec.AllowedKeys(p) {
				if !slices.Contains(sailspec.AllowedKeys(sailspec.PathMessages), k) && !slices.Contains(stray, k) {
					stray = append(stray, k)
				}
			}
		}
		for _, k := range stray {
			body := specCreate(t, sailspec.PathMessages, false, nil)
			body[k] = "v"
			code, b := call(t, e, http.MethodPost, sailspec.PathMessages, body, nil)
			checkEnvelope(t, "stray "+k, code, b)
			if code != http.StatusBadRequest || param(b) != k || !strings.Contains(string(b), "'"+k+"'") {
				t.Errorf("stray key %q: HTTP %d %s, want 400 naming it", k, code, b)
			}
		}
	})

	t.Run("chat refuses max_tokens and names the cap it takes", func(t *testing.T) {
		body := specCreate(t, sailspec.PathChat, false, nil)
		body["max_tokens"] = 10
		code, b := call(t, e, http.MethodPost, sailspec.PathChat, body, nil)
		checkEnvelope(t, "chat max_tokens", code, b)
		if code != http.StatusBadRequest || !strings.Contains(string(b), sailspec.TokenCapKey(sailspec.PathChat)) {
			t.Errorf("chat max_tokens: HTTP %d %s, want 400 naming %s", code, b, sailspec.TokenCapKey(sailspec.PathChat))
		}
	})

	t.Run("each endpoint's token cap", func(t *testing.T) {
		// An echo reply is longer than one token: the cap, read under the
		// endpoint's own key, cuts it.
		cut := map[string]string{
			sailspec.PathResponses: `"status":"incomplete"`,
			sailspec.PathChat:      `"finish_reason":"length"`,
			sailspec.PathMessages:  `"stop_reason":"max_tokens"`,
		}
		for _, p := range sailspec.CreatePaths() {
			body := specCreate(t, p, false, nil)
			if p == sailspec.PathResponses {
				body["input"] = "tell me a story"
			} else {
				body["messages"] = []any{map[string]any{"role": "user", "content": "tell me a story"}}
			}
			body[sailspec.TokenCapKey(p)] = 1
			checkRequest(t, p, body, nil)
			if code, b := call(t, e, http.MethodPost, p, body, nil); code != http.StatusOK || !strings.Contains(string(b), cut[p]) {
				t.Errorf("%s with %s=1: HTTP %d %s, want the reply cut (%s)", p, sailspec.TokenCapKey(p), code, b, cut[p])
			}
		}
	})

	t.Run("required keys", func(t *testing.T) {
		for _, p := range sailspec.CreatePaths() {
			for _, k := range sailspec.RequiredKeys(p) {
				body := specCreate(t, p, false, nil)
				delete(body, k)
				code, b := call(t, e, http.MethodPost, p, body, nil)
				checkEnvelope(t, p+" without "+k, code, b)
				if code != http.StatusBadRequest || param(b) != k {
					t.Errorf("%s without %s: HTTP %d %s, want 400 naming it", p, k, code, b)
				}
			}
		}
	})

	t.Run("metadata", func(t *testing.T) {
		for _, p := range sailspec.CreatePaths() {
			full := map[string]string{}
			for i := range sailspec.MetadataMaxKeys {
				full[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", sailspec.MetadataMaxValueLen)
			}
			full[strings.Repeat("k", sailspec.MetadataMaxKeyLen)] = "v"
			delete(full, "k00")
			if code, b := call(t, e, http.MethodPost, p, specCreate(t, p, false, full), nil); code != http.StatusOK {
				t.Errorf("%s metadata at the limits: HTTP %d %s", p, code, b)
			}
			for name, md := range map[string]any{
				"non-string value": map[string]any{"k": 1},
				"nested object":    map[string]any{sailspec.MetaCompletionWebhook: map[string]any{"url": "x"}},
				"too many keys":    manyKeys(sailspec.MetadataMaxKeys + 1),
				"key too long":     map[string]any{strings.Repeat("k", sailspec.MetadataMaxKeyLen+1): "v"},
				"value too long":   map[string]any{"k": strings.Repeat("v", sailspec.MetadataMaxValueLen+1)},
				"not an object":    "x",
			} {
				body := specCreate(t, p, false, nil)
				body["metadata"] = md
				code, b := call(t, e, http.MethodPost, p, body, nil)
				checkEnvelope(t, p+" metadata "+name, code, b)
				if code != http.StatusBadRequest || !strings.HasPrefix(param(b), "metadata") {
					t.Errorf("%s metadata %s: HTTP %d %s, want 400 on metadata", p, name, code, b)
				}
			}
		}
	})

	t.Run("completion window", func(t *testing.T) {
		for _, p := range sailspec.CreatePaths() {
			for _, w := range sailspec.CompletionWindows() {
				bg := p == sailspec.PathResponses
				body := specCreate(t, p, bg, map[string]string{sailspec.MetaCompletionWindow: w})
				if code, b := call(t, e, http.MethodPost, p, body, nil); code != sailspec.CreateStatus(bg) {
					t.Errorf("%s window %s: HTTP %d %s", p, w, code, b)
				}
			}
			body := specCreate(t, p, false, map[string]string{sailspec.MetaCompletionWindow: "whenever"})
			code, b := call(t, e, http.MethodPost, p, body, nil)
			checkEnvelope(t, p+" unknown window", code, b)
			if code != http.StatusBadRequest || param(b) != "metadata."+sailspec.MetaCompletionWindow {
				t.Errorf("%s unknown window: HTTP %d %s, want 400 on metadata.completion_window", p, code, b)
			}
		}
		// flex needs background on responses.
		body := specCreate(t, sailspec.PathResponses, false, map[string]string{sailspec.MetaCompletionWindow: "flex"})
		if code, b := call(t, e, http.MethodPost, sailspec.PathResponses, body, nil); code != http.StatusBadRequest {
			t.Errorf("foreground flex: HTTP %d %s, want 400", code, b)
		}
		// A top-level completion_window is not read on responses and chat.
		for _, p := range []string{sailspec.PathResponses, sailspec.PathChat} {
			body := specCreate(t, p, false, nil)
			body[sailspec.MetaCompletionWindow] = "not-a-window"
			if code, b := call(t, e, http.MethodPost, p, body, nil); code != http.StatusOK {
				t.Errorf("%s with a top-level completion_window: HTTP %d %s, want it ignored", p, code, b)
			}
		}
	})

	t.Run("value ranges", func(t *testing.T) {
		for _, p := range sailspec.CreatePaths() {
			for key, limit := range map[string]float64{"temperature": sailspec.TemperatureMax(p), "top_p": sailspec.TopPMax} {
				for v, ok := range map[float64]bool{0: true, limit: true, limit + 0.01: false, -0.01: false} {
					body := specCreate(t, p, false, nil)
					body[key] = v
					code, b := call(t, e, http.MethodPost, p, body, nil)
					if ok && code != http.StatusOK || !ok && (code != http.StatusBadRequest || param(b) != key) {
						t.Errorf("%s %s=%v: HTTP %d %s (accepted: %v)", p, key, v, code, b, ok)
					}
				}
			}
			effortKey := map[string]func(string) any{
				sailspec.PathResponses: func(s string) any { return map[string]any{"effort": s} },
				sailspec.PathChat:      func(s string) any { return s },
				sailspec.PathMessages:  func(s string) any { return map[string]any{"effort": s} },
			}[p]
			key := map[string]string{sailspec.PathResponses: "reasoning", sailspec.PathChat: "reasoning_effort", sailspec.PathMessages: "output_config"}[p]
			for _, eff := range append(sailspec.ReasoningEfforts(p), "extreme") {
				body := specCreate(t, p, false, nil)
				body[key] = effortKey(eff)
				code, b := call(t, e, http.MethodPost, p, body, nil)
				if ok := eff != "extreme"; ok && code != http.StatusOK || !ok && (code != http.StatusBadRequest || !strings.HasPrefix(param(b), key)) {
					t.Errorf("%s effort %s: HTTP %d %s", p, eff, code, b)
				}
			}
			if p != sailspec.PathMessages {
				body := specCreate(t, p, false, nil)
				body["user"] = strings.Repeat("u", sailspec.MaxUserLen+1)
				if code, b := call(t, e, http.MethodPost, p, body, nil); code != http.StatusBadRequest || param(b) != "user" {
					t.Errorf("%s long user: HTTP %d %s, want 400", p, code, b)
				}
			}
		}
	})
}

func manyKeys(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

// TestContractIdempotency: on each create endpoint, the header the
// reference names there (and only it) makes a retry return the first
// response with no second job or webhook; another body under the same key
// is a 400 idempotency_error.
func TestContractIdempotency(t *testing.T) {
	for _, p := range sailspec.CreatePaths() {
		t.Run(p, func(t *testing.T) {
			rcv := newReceiver(t, nil)
			e := newEmulator(t, Options{})
			h := sailspec.IdempotencyHeader(p)
			other := sailspec.HeaderIdempotencyKey
			if h == other {
				other = sailspec.HeaderAnthropicIdempotencyKey
			}
			md := map[string]string{sailspec.MetaCompletionWebhook: rcv.URL}
			body := specCreate(t, p, false, md)
			key := map[string]string{h: "key-" + strings.ReplaceAll(p, "/", "-")}
			checkRequest(t, p, body, key)

			_, first := call(t, e, http.MethodPost, p, body, key)
			_, again := call(t, e, http.MethodPost, p, body, key)
			id := decode(t, first)["id"]
			if id == nil || decode(t, again)["id"] != id {
				t.Fatalf("retry under %s: %s, want the first response %s", h, again, first)
			}
			changed := specCreate(t, p, false, md)
			changed["model"] = "openai/gpt-oss-20b"
			code, b := call(t, e, http.MethodPost, p, changed, key)
			checkEnvelope(t, "other body", code, b)
			var env openAIErr
			_ = json.Unmarshal(b, &env)
			if code != http.StatusBadRequest || env.Error == nil || str(env.Error.Code) != sailspec.IdempotencyErrorCode {
				t.Errorf("other body under the same key: HTTP %d %s, want 400 %s", code, b, sailspec.IdempotencyErrorCode)
			}
			// The other endpoints' header name means nothing here.
			_, x1 := call(t, e, http.MethodPost, p, body, map[string]string{other: "k2"})
			_, x2 := call(t, e, http.MethodPost, p, body, map[string]string{other: "k2"})
			if decode(t, x1)["id"] == decode(t, x2)["id"] {
				t.Errorf("%s honoured on %s; the reference names %s there", other, p, h)
			}
			settle(t, e)
			if n := len(rcv.got()); n != 3 {
				t.Errorf("%d webhooks, want 3 (one per job: first, and the two unkeyed)", n)
			}
		})
	}
}
