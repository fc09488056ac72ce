package sail

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestPromptMessages(t *testing.T) {
	cases := []struct {
		prompt  string
		isMsgs  bool
		n       int
		errPart string
	}{
		{"What is 2+2?", false, 0, ""},
		{"[1, 2, 3]", false, 0, ""},              // a JSON array, but not of objects: text
		{"[not json", false, 0, ""},              // text that starts with a bracket
		{"[]", false, 0, ""},                     // nothing to send as messages
		{`["a", {"role":"user"}]`, false, 0, ""}, // mixed: text
		{`[{"role":"user","content":"hi"}]`, true, 1, ""},
		{"  \n[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]},{\"role\":\"assistant\",\"content\":\"4\"}]\n", true, 2, ""},
		{`[{"role":"user"}]`, true, 0, "content: missing"},
		{`[{"role":"user","content":""}]`, true, 0, "content: empty"},
		{`[{"role":"user","content":3}]`, true, 0, "want a string or an array"},
		{`[{"content":"x"}]`, false, 0, ""}, // data without roles: text
		{`[{"role":"user","content":"x"},{"content":"y"}]`, true, 0, "messages[1]: no role"},
		{`[{"role":"","content":"x"}]`, true, 0, "non-empty string"},
		{`[{"role":"user","content":"x","extra":1}]`, true, 0, `unknown key "extra"`},
	}
	for _, c := range cases {
		msgs, ok, err := PromptMessages(c.prompt)
		if ok != c.isMsgs {
			t.Errorf("%q: messages %v, want %v", c.prompt, ok, c.isMsgs)
		}
		if c.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), c.errPart) || exitcode.Of(err) != exitcode.Usage {
				t.Errorf("%q: error %v, want a usage error mentioning %q", c.prompt, err, c.errPart)
			}
			continue
		}
		if err != nil || len(msgs) != c.n {
			t.Errorf("%q: %d messages, err %v; want %d", c.prompt, len(msgs), err, c.n)
		}
	}
}

func TestParseJSONSchema(t *testing.T) {
	bare := `{"type":"object","properties":{"schema":{"type":"string"}}}`
	js, err := ParseJSONSchema("schemas/Answer v2.schema.json", []byte(bare))
	if err != nil {
		t.Fatal(err)
	}
	// A bare schema whose properties include "schema" is still bare: it
	// has a "type".
	if js.Name != "Answer_v2_schema" || string(js.Schema) != bare || js.Strict != nil {
		t.Errorf("bare: %+v", js)
	}

	js, err = ParseJSONSchema("x.json", []byte(`{"name":"answer","strict":false,"schema":{"type":"object"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if js.Name != "answer" || string(js.Schema) != `{"type":"object"}` || js.Strict == nil || *js.Strict {
		t.Errorf("wrapper: %+v", js)
	}

	js, err = ParseJSONSchema("", []byte(`{"type":"object"}`))
	if err != nil || js.Name != "output" {
		t.Errorf("no source: %+v, %v", js, err)
	}

	for src, want := range map[string]string{
		`[]`:                           "want a JSON object",
		`{"name":3,"schema":{}}`:       `"name" must be a string`,
		`{"name":"a b","schema":{}}`:   "letters, digits",
		`{"schema":{},"strict":"yes"}`: `"strict" must be true or false`,
		`{"name":"` + strings.Repeat("n", 65) + `","schema":{}}`: "1–64",
	} {
		if _, err := ParseJSONSchema("f.json", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}

func TestCheckParamsBeforeSending(t *testing.T) {
	cases := []struct {
		req  CreateRequest
		want string
	}{
		{CreateRequest{Endpoint: Messages, Temperature: ptr(1.2)}, "outside 0–1 on the messages endpoint"},
		{CreateRequest{Temperature: ptr(2.01)}, "outside 0–2"},
		{CreateRequest{Endpoint: Chat, TopP: ptr(-0.5)}, "top_p"},
		{CreateRequest{Endpoint: Messages, ReasoningEffort: "none"}, "not accepted on the messages endpoint"},
		{CreateRequest{Endpoint: Messages, PromptCacheKey: "k"}, "no prompt_cache_key"},
		{CreateRequest{Endpoint: Chat, Messages: []Message{{Role: "tool", Content: rawJSON(`"x"`)}}}, `role "tool"`},
		{CreateRequest{Endpoint: Messages, Messages: []Message{{Role: "system", Content: rawJSON(`"x"`)}}}, "at least one user or assistant"},
		{CreateRequest{Endpoint: Messages, Messages: []Message{{Role: "system", Content: rawJSON(`[{"type":"text","text":"x"}]`)}, {Role: "user", Content: rawJSON(`"x"`)}}}, "must be a non-empty string"},
		{CreateRequest{Metadata: map[string]string{"completion_window": " "}}, "completion_window is empty"},
		{CreateRequest{JSONSchema: &JSONSchema{Name: "a", Schema: rawJSON(`[1]`)}}, "must be a JSON object"},
		{CreateRequest{Endpoint: "bogus"}, "unknown endpoint"},
	}
	for _, c := range cases {
		err := c.req.CheckParams()
		if err == nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want a usage error mentioning %q", c.req, err, c.want)
		}
	}
	ok := CreateRequest{Endpoint: Messages, Temperature: ptr(1.0), TopP: ptr(0.0), ReasoningEffort: "max", User: "u",
		Messages: []Message{{Role: "system", Content: rawJSON(`"s"`)}, {Role: "user", Content: rawJSON(`"x"`)}}}
	if err := ok.CheckParams(); err != nil {
		t.Errorf("in-range request refused: %v", err)
	}
}

func TestCreateRefusesPromptAndMessages(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, responseCompleted) })
	_, err := f.client(t).Create(testCtx(t), CreateRequest{Model: "m", Input: "x", Messages: []Message{{Role: "user", Content: rawJSON(`"y"`)}}})
	if exitcode.Of(err) != exitcode.Usage || len(f.requests()) != 0 {
		t.Errorf("Create = %v after %d requests, want a usage error and none", err, len(f.requests()))
	}
}
