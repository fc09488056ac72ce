package batch

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/sail"
)

func TestReader(t *testing.T) {
	in := strings.Join([]string{
		`{"custom_id":"a","input":"What is 1+1?"}`,
		``,
		`{"input":"no id","model":"zai-org/GLM-5","endpoint":"chat","metadata":{"k":"v"},"max_output_tokens":5}`,
		`not json`,
		`{"input":""}`,
		`{"input":"x","promt":"typo"}`,
		`{"input":"x","endpoint":"nope"}`,
		`{"input":"x","metadata":{"webhook_token":"t"}}`,
		`{"input":"x","max_output_tokens":"5"}`,
		`{"custom_id":"last","input":"ok"}`,
	}, "\n")
	r := NewReader(strings.NewReader(in))
	var items []Item
	var lineErrs []int
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			lineErrs = append(lineErrs, le.Line)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	if len(items) != 3 || items[0].Key() != "a" || items[1].Key() != "line:3" || items[2].CustomID != "last" || items[2].Line != 10 {
		t.Fatalf("items: %+v", items)
	}
	if items[1].Endpoint != "chat" || items[1].Metadata["k"] != "v" || items[1].MaxOutputTokens != 5 {
		t.Fatalf("fields: %+v", items[1])
	}
	want := []int{4, 5, 6, 7, 8, 9}
	if len(lineErrs) != len(want) {
		t.Fatalf("line errors at %v, want %v", lineErrs, want)
	}
	for i := range want {
		if lineErrs[i] != want[i] {
			t.Fatalf("line errors at %v, want %v", lineErrs, want)
		}
	}
}

func TestLineErrorMessages(t *testing.T) {
	for line, want := range map[string]string{
		`{"input":"x","promt":"typo"}`:          `unknown field "promt" (fields: custom_id, input, model`,
		`{"input":3}`:                           `"input" must be a string or an array of {"role", "content"} messages`,
		`{"input":"x","max_output_tokens":"5"}`: `"max_output_tokens" must be a whole number, got a string`,
		`{"input":"x","metadata":{"a":1}}`:      `"metadata" must be an object of string values, got a number`,
		`42`:                                    `want a JSON object such as {"input": "…"} or a JSON string, got a number`,
		`["What is 2+2?"]`:                      `want a JSON object such as {"input": "…"} or a JSON string, got an array`,
		`What is 2+2?`:                          `not JSON: write the prompt as a JSON string`,
		`""`:                                    `the prompt is empty`,
		`"a" "b"`:                               "more than one JSON value",
		`"unterminated`:                         "not valid JSON",
		`{`:                                     "not valid JSON",
		`{"input":"x"`:                          "cut short",
		`{"input":"x"} {}`:                      "more than one JSON value",
		`{"input":[]}`:                          "the array is empty",
		`{"input":[{"content":"x"}]}`:           "no role",
		`{"input":[{"role":"user"}]}`:           "content: missing",
		`{"input":[{"role":"user","content":"x","name":"n"}]}`: `unknown key "name"`,
		`{"input":[1]}`:                                               `"input"`,
		`{"input":"x","temperature":2.5}`:                             `"temperature" 2.5 is outside 0–2`,
		`{"input":"x","temperature":"hot"}`:                           `"temperature" must be a number, got a string`,
		`{"input":"x","top_p":-1}`:                                    `"top_p" -1 is outside 0–1`,
		`{"input":"x","reasoning_effort":"turbo"}`:                    `"reasoning_effort" "turbo"`,
		`{"input":"x","user":"` + strings.Repeat("u", 257) + `"}`:     "at most 256",
		`{"input":"x","json_schema":[1]}`:                             `"json_schema"`,
		`{"input":"x","json_schema":{"name":"bad name","schema":{}}}`: "letters, digits",
	} {
		_, err := ParseLine([]byte(line), 7)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "line 7: ") {
			t.Errorf("%s: error %v, want %q", line, err, want)
		}
	}
}

func TestJSONStringLineIsAPrompt(t *testing.T) {
	it, err := ParseLine([]byte(`  "What is 4+4?"  `), 3)
	if err != nil || it.Input != "What is 4+4?" || it.Line != 3 || it.Key() != "line:3" {
		t.Fatalf("got %+v, %v", it, err)
	}
	it, err = ParseLine([]byte(`"tab\tand \"quotes\""`), 1)
	if err != nil || it.Input != "tab\tand \"quotes\"" {
		t.Fatalf("escapes: got %+v, %v", it, err)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{`{"input":"hi"}`, `{"input":[{"role":"user","content":"x"}],"temperature":1,"json_schema":{"type":"object"}}`, `{"custom_id":"a","input":"x","metadata":{"a":"b"}}`, `[]`, `{"input":null}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := ParseLine(b, 1)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line != 1 {
				t.Fatalf("error without line number: %v", err)
			}
			return
		}
		if (strings.TrimSpace(it.Input) == "") == (len(it.Messages) == 0) || it.Line != 1 {
			t.Fatalf("accepted an item without input: %+v", it)
		}
	})
}

func TestParseLineParams(t *testing.T) {
	it, err := ParseLine([]byte(`{"custom_id":"c","input":[{"role":"system","content":"Be terse."},{"role":"user","content":[{"type":"input_text","text":"hi"}]}],`+
		`"temperature":0.5,"top_p":0.9,"reasoning_effort":"low","json_schema":{"name":"answer","schema":{"type":"object"},"strict":true},`+
		`"prompt_cache_key":"p","user":"u","completion_window":"flex"}`), 3)
	if err != nil {
		t.Fatal(err)
	}
	if it.Input != "" || len(it.Messages) != 2 || it.Messages[0].Role != "system" || string(it.Messages[1].Content) != `[{"type":"input_text","text":"hi"}]` {
		t.Fatalf("messages: %+v", it.Messages)
	}
	var req sail.CreateRequest
	req.Input = "default"
	req.Temperature = ptr(1.0)
	req.CompletionWindow = "asap"
	it.ApplyParams(&req)
	if req.Input != "" || len(req.Messages) != 2 || *req.Temperature != 0.5 || *req.TopP != 0.9 || req.ReasoningEffort != "low" ||
		req.PromptCacheKey != "p" || req.User != "u" || req.CompletionWindow != "flex" {
		t.Fatalf("request: %+v", req)
	}
	if js := req.JSONSchema; js == nil || js.Name != "answer" || string(js.Schema) != `{"type":"object"}` || js.Strict == nil || !*js.Strict {
		t.Fatalf("json schema: %+v", req.JSONSchema)
	}

	// A line that sets nothing keeps the run's defaults.
	plain, err := ParseLine([]byte(`{"input":"hi"}`), 4)
	if err != nil {
		t.Fatal(err)
	}
	req = sail.CreateRequest{Temperature: ptr(0.3), ReasoningEffort: "high"}
	plain.ApplyParams(&req)
	if *req.Temperature != 0.3 || req.ReasoningEffort != "high" || req.Messages != nil {
		t.Fatalf("defaults lost: %+v", req)
	}
}

func ptr[T any](v T) *T { return &v }
