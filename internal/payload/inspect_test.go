package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sailresearch/sail/internal/event"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInspectShapes(t *testing.T) {
	tests := []struct {
		file string
		want Info
	}{
		{"response.json", Info{
			ID: "resp_01JABC", Object: "response", Status: "completed", WireStatus: "completed", Model: "moonshotai/Kimi-K2.5",
			OutputText: "The answer is\n4. Really é.",
			WebhookURL: "https://x.ngrok.app/h/abc", HasToken: true,
			Usage: &event.Usage{InputTokens: 14, OutputTokens: 3, TotalTokens: 17},
		}},
		{"chat.json", Info{
			ID: "chatcmpl-9", Object: "chat.completion", Status: "completed", Model: "zai-org/GLM-5",
			OutputText: "Hello there", WebhookURL: "https://example.com/hook",
			Usage: &event.Usage{InputTokens: 5, OutputTokens: 2, TotalTokens: 7},
		}},
		{"message.json", Info{
			ID: "msg_01X", Object: "message", Status: "incomplete", Model: "moonshotai/Kimi-K2.6",
			OutputText: "Bonjour monde", HasToken: true,
			Usage: &event.Usage{InputTokens: 10, OutputTokens: 20, TotalTokens: 30},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Inspect(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Inspect:\n got %+v (usage %+v)\nwant %+v (usage %+v)", got, got.Usage, tt.want, tt.want.Usage)
			}
		})
	}
}

func TestInspectCases(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Info
	}{
		{"pending normalised", `{"id":"r","object":"response","status":"pending"}`,
			Info{ID: "r", Object: "response", Status: "queued", WireStatus: "pending"}},
		{"running normalised", `{"id":"r","object":"response","status":"running"}`,
			Info{ID: "r", Object: "response", Status: "in_progress", WireStatus: "running"}},
		{"unknown status kept", `{"status":"weird"}`, Info{Status: "weird", WireStatus: "weird"}},
		{"chat content parts", `{"object":"chat.completion","choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"image_url"},{"type":"text","text":"b"}]},"finish_reason":"length"}]}`,
			Info{Object: "chat.completion", Status: "incomplete", OutputText: "ab"}},
		{"chat null content", `{"object":"chat.completion","choices":[{"message":{"content":null}}]}`,
			Info{Object: "chat.completion"}},
		{"output_text on the wire", `{"object":"response","output":[],"output_text":"hi"}`,
			Info{Object: "response", OutputText: "hi"}},
		{"last duplicate key wins", `{"id":"a","id":"b","output":[{"content":[{"type":"output_text","text":"x"}]}],"output":[],"object":"response"}`,
			Info{ID: "b", Object: "response"}},
		{"odd types ignored", `{"id":5,"object":["response"],"status":null,"metadata":"x","usage":7,"output":{},"choices":"no"}`,
			Info{}},
		{"escaped keys and values", `{"\u0069d":"r\u00e9","metadata":{"webhook_token":""}}`,
			Info{ID: "ré"}},
		{"float usage", `{"usage":{"input_tokens":1.0,"output_tokens":2e0,"total_tokens":null}}`,
			Info{Usage: &event.Usage{InputTokens: 1, OutputTokens: 2, TotalTokens: 0}}},
		{"untyped output item counts", `{"object":"response","output":[{"content":[{"type":"output_text","text":"y"}]}]}`,
			Info{Object: "response", OutputText: "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inspect([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Inspect(%s):\n got %+v\nwant %+v", tt.body, got, tt.want)
			}
		})
	}
}

func TestInspectRejects(t *testing.T) {
	tests := []struct {
		body      string
		notObject bool
	}{
		{``, false},
		{`   `, false},
		{`{`, false},
		{`{"a":1}x`, false},
		{`{"a":01}`, false},
		{`{"a":"\x"}`, false},
		{"{\"a\":\"\x01\"}", false},
		{`[{"id":"x"}]`, true},
		{`"str"`, true},
		{`null`, true},
		{`42`, true},
	}
	for _, tt := range tests {
		_, err := Inspect([]byte(tt.body))
		if err == nil {
			t.Errorf("Inspect(%q): want error", tt.body)
			continue
		}
		var noe *NotObjectError
		var se *SyntaxError
		if tt.notObject && !errors.As(err, &noe) || !tt.notObject && !errors.As(err, &se) {
			t.Errorf("Inspect(%q): error %T %v has the wrong type", tt.body, err, err)
		}
	}
}

func TestInspectLimit(t *testing.T) {
	body := `{"object":"response","output":[{"type":"message","content":[` +
		`{"type":"output_text","text":"ab\u00e9cd"},{"type":"output_text","text":"efgh"}]}]}`
	for _, tt := range []struct {
		limit int
		want  string
	}{{-1, "abécdefgh"}, {0, ""}, {2, "ab"}, {3, "ab"}, {4, "abé"}, {7, "abécde"}, {100, "abécdefgh"}} {
		info, err := InspectLimit([]byte(body), tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if info.OutputText != tt.want {
			t.Errorf("limit %d: got %q want %q", tt.limit, info.OutputText, tt.want)
		}
	}
}

// TestScannerMatchesEncodingJSON pins the scanner to encoding/json's idea
// of validity on tricky inputs; FuzzScanner extends this to random input.
func TestScannerMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{}`, `[]`, `0`, `-0`, `-`, `01`, `1.`, `1.5e`, `1e+5`, `1E-0`, `.5`, `"\ud800"`, `"\u12"`,
		`"a` + "\t" + `"`, `"\/"`, `{"a":}`, `{"a" 1}`, `{,}`, `[1,]`, `[1 2]`, `tru`, `nulll`,
		" \n{\"a\":[true,false,null]}\r\n", "\xff", `"` + "\xff" + `"`, `{"a":1,}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	}
	for _, in := range inputs {
		err := validate([]byte(in))
		if got, want := err == nil, json.Valid([]byte(in)); got != want {
			t.Errorf("valid(%.40q) = %v, encoding/json says %v (err %v)", in, got, want, err)
		}
	}
}

// validate runs the parser the package uses on any JSON value.
func validate(b []byte) error {
	var noe *NotObjectError
	if _, err := inspect(b); !errors.As(err, &noe) {
		return err
	}
	return nil
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u00e9",true,null]}`, `[`, `"\ud83d\ude00"`, `-0.0e-0`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := validate(b)
		if got, want := err == nil, json.Valid(b); got != want {
			t.Fatalf("valid(%q) = %v, encoding/json says %v (err %v)", b, got, want, err)
		}
		if err != nil {
			return
		}
		// Strings decode exactly like encoding/json.
		if lit := bytes.TrimSpace(b); lit[0] == '"' {
			var v string
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			if got, _ := unquote(lit, -1); got != v {
				t.Fatalf("unquote(%q) = %q, encoding/json %q", b, got, v)
			}
			// Every non-empty run of v is spelled from some unit boundary of lit.
			if n := utf8.RuneCountInString(v); n > 0 && !strings.ContainsRune(v, utf8.RuneError) {
				tok := string([]rune(v)[n/2:])
				found := false
				for i := 1; i < len(lit)-1 && !found; i++ {
					_, found = spelled(lit[1:len(lit)-1], i-1, tok, true)
				}
				if !found {
					t.Fatalf("no spelling of %q found in %q", tok, lit)
				}
			}
			// A limited decode is a prefix, within the limit, complete only when whole.
			for _, limit := range []int{0, 1, 3, 7, len(v)} {
				got, complete := unquote(lit, limit)
				if len(got) > limit || !strings.HasPrefix(v, got) || complete != (got == v) {
					t.Fatalf("unquoteLimit(%q, %d) = %q, %v; full %q", lit, limit, got, complete, v)
				}
			}
		}
	})
}

func BenchmarkInspect(b *testing.B) {
	body := readTestdata(b, "response.json")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := InspectLimit(body, 4096); err != nil {
			b.Fatal(err)
		}
	}
}

// Info keeps the status as the body spells it beside the normalised one,
// so events can show Sail's own spelling.
func TestInspectWireStatus(t *testing.T) {
	cases := []struct{ body, wire, status string }{
		{`{"object":"response","status":"canceled"}`, "canceled", "cancelled"},
		{`{"object":"response","status":"COMPLETED"}`, "COMPLETED", "completed"},
		{`{"object":"response","status":"running"}`, "running", "in_progress"},
		{`{"object":"response","status":"Thinking"}`, "Thinking", "Thinking"},
		{`{"object":"chat.completion","choices":[{"finish_reason":"stop","message":{"content":"4"}}]}`, "", "completed"}, // derived: nothing sent
	}
	for _, c := range cases {
		info, err := Inspect([]byte(c.body))
		if err != nil {
			t.Fatalf("Inspect(%s): %v", c.body, err)
		}
		if info.WireStatus != c.wire || info.Status != c.status {
			t.Errorf("Inspect(%s): wire %q status %q, want %q and %q", c.body, info.WireStatus, info.Status, c.wire, c.status)
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		text string
		n    int
		want string
	}{
		{"4", 10, "4"},
		{"", 10, ""},
		{"\n\n  hello   world \t\n", 20, "hello world"},
		{"hello world", 5, "hell…"},
		{"hello\nsecond line", 20, "hello…"},
		{"hello\n   \n", 20, "hello"},
		{"héllo wörld", 7, "héllo…"},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"abc", 0, ""},
		{"abcd", 1, "…"},
		{"a\r\nb", 5, "a…"},
	}
	for _, tt := range tests {
		if got := Excerpt(tt.text, tt.n); got != tt.want {
			t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.text, tt.n, got, tt.want)
		}
	}
}

// Excerpt stops reading a long line early; what it shows must be what
// collapsing the whole line with strings.Fields and cutting would show.
func TestExcerptMatchesFieldsOnLongLines(t *testing.T) {
	ref := func(text string, n int) string {
		line, rest := "", text
		for rest != "" && strings.TrimSpace(line) == "" {
			line, rest, _ = strings.Cut(rest, "\n")
		}
		r := []rune(strings.Join(strings.Fields(line), " "))
		if len(r) <= n && strings.TrimSpace(rest) == "" {
			return string(r)
		}
		return strings.TrimRight(string(r[:min(len(r), n-1)]), " ") + "…"
	}
	words := []string{"a", "bb", " ", "  ", "\t", "é", "€uro", "\u00a0", "x y"}
	for seed := range 400 {
		var b strings.Builder
		for i := range seed % 97 {
			b.WriteString(words[(seed*7+i*13)%len(words)])
		}
		text := b.String()
		for _, n := range []int{1, 2, 3, 5, 8, 13, 40} {
			if got, want := Excerpt(text, n), ref(text, n); got != want {
				t.Fatalf("Excerpt(%q, %d) = %q, strings.Fields gives %q", text, n, got, want)
			}
		}
	}
}
