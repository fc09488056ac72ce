package payload

import (
	"github.com/sailresearch/sail/internal/secret"
	"github.com/sailresearch/sail/internal/testutil"

	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

const tok = "tok_SECRET_0123456789abcdef"

// decodedStrings walks every key, string and number of a decoded value.
func decodedStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			fn(k)
			decodedStrings(e, fn)
		}
	case []any:
		for _, e := range x {
			decodedStrings(e, fn)
		}
	case string:
		fn(x)
	case json.Number:
		fn(string(x))
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, body, token, want string
	}{
		{"metadata token, no token given",
			`{"metadata":{"webhook_token":"abc","x":"abc"}}`, "",
			`{"metadata":{"webhook_token":"•••","x":"abc"}}`},
		{"metadata token of any type",
			`{"metadata":{"webhook_token":{"a":[1]}}, "n":1}`, "",
			`{"metadata":{"webhook_token":"•••"}, "n":1}`},
		{"metadata null",
			`{"metadata":{"webhook_token":null}}`, "",
			`{"metadata":{"webhook_token":"•••"}}`},
		{"only top-level metadata",
			`{"output":{"metadata":{"webhook_token":"keep"}}}`, "",
			`{"output":{"metadata":{"webhook_token":"keep"}}}`},
		{"duplicate metadata keys both masked",
			`{"metadata":{"webhook_token":"a"},"metadata":{"webhook_token":"b"}}`, "",
			`{"metadata":{"webhook_token":"•••"},"metadata":{"webhook_token":"•••"}}`},
		{"token elsewhere in values and keys",
			`{"a":"x` + tok + `y` + tok + `","` + tok + `":1,"metadata":{"webhook_token":"` + tok + `"}}`, tok,
			`{"a":"x•••y•••","•••":1,"metadata":{"webhook_token":"•••"}}`},
		{"escaped token",
			`{"a":"pre\n\u0074ok_SECRET_0123456789abcdef"}`, tok,
			`{"a":"pre\n•••"}`},
		{"token split by a slash escape",
			`{"a":"ab\/cdefghijklmnopq"}`, "ab/cdefghijklmnopq",
			`{"a":"•••"}`},
		{"token in a number",
			`{"n":[123456789012345678901]}`, "4567890123456789",
			`{"n":["•••"]}`},
		{"token spelled with escapes in a key and a value",
			`{"webhook_\u0074oken":"\u0074ok_SECRET_0123456789abcde\u0066!","x":"\\` + tok + `"}`, tok,
			`{"webhook_\u0074oken":"•••!","x":"\\•••"}`},
		{"escaped metadata key",
			`{"metadata":{"webhook_\u0074oken":"abc"}}`, "",
			`{"metadata":{"webhook_\u0074oken":"•••"}}`},
		{"metadata token value masked elsewhere",
			`{"id":"x` + tok + `","metadata":{"webhook_token":"` + tok + `"}}`, "",
			`{"id":"x•••","metadata":{"webhook_token":"•••"}}`},
		{"a misaligned match is not a match",
			`{"a":"\n` + tok[1:] + `"}`, "n" + tok[1:],
			`{"a":"\n` + tok[1:] + `"}`},
		{"invalid JSON: escaped key spelling",
			`[{"webhook_\u0074oken":"abcdefgh"`, "",
			`[{"webhook_\u0074oken":"•••"`},
		{"short token only masks metadata",
			`{"a":"abc","metadata":{"webhook_token":"abc"}}`, "abc",
			`{"a":"abc","metadata":{"webhook_token":"•••"}}`},
		{"no secrets, unchanged",
			` {"a" : [1, "b"]} `, tok,
			` {"a" : [1, "b"]} `},
		{"invalid JSON: raw token",
			`not json ` + tok + ` end`, tok,
			`not json ••• end`},
		{"invalid JSON: webhook_token pair, cut body",
			`{"metadata": {"webhook_token" : "abcdefgh`, "",
			`{"metadata": {"webhook_token" : "•••"`},
		{"invalid JSON: webhook_token pair then more",
			`{"webhook_token":"a\"b","x":1,`, "",
			`{"webhook_token":"•••","x":1,`},
		{"invalid JSON: overlapping matches merged",
			`{"webhook_token":"zz` + tok + `"` + tok[:5], tok,
			`{"webhook_token":"•••"` + tok[:5]},
		{"a token ending in a backslash is not spelled by the backslash of \\\"",
			`{"a":"aaaaaaaaaaaaaaa\"b","c":"aaaaaaaaaaaaaaa\\"}`, `aaaaaaaaaaaaaaa\`,
			`{"a":"aaaaaaaaaaaaaaa\"b","c":"•••"}`},
		{"invalid JSON: there a raw backslash is the token's",
			`not json aaaaaaaaaaaaaaa\" end`, `aaaaaaaaaaaaaaa\`,
			`not json •••" end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact([]byte(tt.body), tt.token)
			if string(got) != tt.want {
				t.Fatalf("Redact:\n got %s\nwant %s", got, tt.want)
			}
			if json.Valid([]byte(tt.body)) && !json.Valid(got) {
				t.Fatalf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestRedactTestdata(t *testing.T) {
	body := readTestdata(t, "response.json")
	orig := append([]byte(nil), body...)
	out := Redact(body, tok)
	if bytes.Contains(out, []byte("SECRET")) {
		t.Fatalf("token survived: %s", out)
	}
	eq, diffs, err := Compare(orig, out)
	if err != nil || !eq {
		t.Fatalf("redaction changed more than metadata.webhook_token: %v %v", diffs, err)
	}
}

// TestRedactInPlace checks the memory contract: a body that shrinks or
// grows within its capacity is redacted in its own buffer.
func TestRedactInPlace(t *testing.T) {
	body := []byte(`{"metadata":{"webhook_token":"` + tok + `"},"a":"` + tok + `"}`)
	out := Redact(body, tok)
	if unsafe.SliceData(out) != unsafe.SliceData(body) {
		t.Error("shrinking redaction copied the body")
	}
	short := make([]byte, 0, 64)
	short = append(short, `{"metadata":{"webhook_token":"x"}}`...)
	out = Redact(short, "")
	if string(out) != `{"metadata":{"webhook_token":"•••"}}` || unsafe.SliceData(out) != unsafe.SliceData(short) {
		t.Errorf("growing redaction within cap: %s, copied=%v", out, unsafe.SliceData(out) != unsafe.SliceData(short))
	}
	tight := []byte(`{"metadata":{"webhook_token":"x"}}`)
	out = Redact(tight[:len(tight):len(tight)], "")
	if string(out) != `{"metadata":{"webhook_token":"•••"}}` {
		t.Errorf("growing redaction without room: %s", out)
	}
}

// bigBody builds a response whose answer is n bytes of escaped text with
// the token in metadata and, if inText, once at the end of the text.
func bigBody(n int, inText bool) []byte {
	var b bytes.Buffer
	b.Grow(n + 512)
	b.WriteString(`{"id":"resp_big","object":"response","status":"completed","metadata":{"webhook_token":"` + tok + `"},`)
	b.WriteString(`"output":[{"type":"message","content":[{"type":"output_text","text":"`)
	line := strings.Repeat("lorem ipsum dolor ", 5) + `\n`
	for b.Len() < n {
		b.WriteString(line)
	}
	if inText {
		b.WriteString(tok)
	}
	b.WriteString(`"}]}]}`)
	return b.Bytes()
}

// TestRedactHugeBody checks that redaction works in the body's own buffer:
// at 30 MiB with the token where Sail puts it, and at 2 MiB with the token
// also hidden in a long escaped answer (the slow path).
func TestRedactHugeBody(t *testing.T) {
	for _, tt := range []struct {
		size   int
		inText bool
	}{{30 << 20, false}, {2 << 20, true}} {
		body := bigBody(tt.size, tt.inText)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out := Redact(body, tok)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10 {
			t.Errorf("Redact of a %d-byte body allocated %d bytes; want it in place", len(body), alloc)
		}
		if unsafe.SliceData(out) != unsafe.SliceData(body) {
			t.Errorf("Redact copied a %d-byte body", len(body))
		}
		if bytes.Contains(out, []byte(tok)) {
			t.Error("token survived")
		}
		if !json.Valid(out) {
			t.Error("output not valid JSON")
		}
		wantEnd := `\n"}]}]}`
		if tt.inText {
			wantEnd = `\n` + secret.Mask + `"}]}]}`
		}
		if !bytes.HasSuffix(out, []byte(wantEnd)) {
			t.Errorf("tail %q, want %q", out[len(out)-30:], wantEnd)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add([]byte(`{"metadata":{"webhook_token":"`+tok+`"},"a":"`+tok+`"}`), tok)
	f.Add([]byte(`{"a":"\u0074ok_SECRET_0123456789abcdef","b":[1,2,{"c":null}]}`), tok)
	f.Add([]byte(`{"n":123456789012}`), "34567890")
	f.Add([]byte(`{"webhook_token":"abc`), "")
	f.Add([]byte(`[`+tok+`]`), tok)
	f.Add([]byte(`{"metadata":{"webhook_token":1}}`), "abcdefghi")
	f.Add([]byte(`{"a":"aaaaaaaaaaaaaaa\"b"}`), `aaaaaaaaaaaaaaa\`)
	f.Fuzz(func(t *testing.T, body []byte, token string) {
		orig := append([]byte(nil), body...)
		out := Redact(body, token)
		// A token that shares bytes with the mask can be recreated by it.
		checkToken := len(token) >= secret.MinLen && !strings.ContainsAny(token, "\xe2\x80\xa2\ufffd")
		if !json.Valid(orig) {
			if checkToken && bytes.Contains(out, []byte(token)) {
				t.Fatalf("token %q survived in invalid body %q → %q", token, orig, out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Redact(%q, %q) = %q: not valid JSON", orig, token, out)
		}
		v := testutil.DecodeJSON(t, out)
		if checkToken {
			decodedStrings(v, func(s string) {
				if strings.Contains(s, token) {
					t.Fatalf("token %q survived in %q → %q", token, orig, out)
				}
			})
		}
		if m, ok := v.(map[string]any); ok {
			if md, ok := m["metadata"].(map[string]any); ok {
				if wt, ok := md["webhook_token"]; ok && wt != secret.Mask {
					t.Fatalf("metadata.webhook_token = %v after Redact(%q)", wt, orig)
				}
			}
		}
		// Without secrets in it, redacting again changes nothing.
		again := Redact(append([]byte(nil), out...), token)
		if checkToken && !bytes.Equal(again, out) {
			t.Fatalf("Redact not idempotent: %q → %q", out, again)
		}
	})
}

func BenchmarkRedact(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"2KB", 2 << 10}, {"1MB", 1 << 20}} {
		for _, inText := range []bool{false, true} {
			name := size.name + "/metadata-only"
			if inText {
				name = size.name + "/also-in-escaped-text"
			}
			b.Run(name, func(b *testing.B) {
				src := bigBody(size.n, inText)
				buf := make([]byte, len(src), len(src)+64)
				b.SetBytes(int64(len(src)))
				for b.Loop() {
					copy(buf, src)
					Redact(buf[:len(src)], tok)
				}
			})
		}
	}
}

// FuzzPrepare checks that the receiver's one-walk shortcut always agrees
// with InspectLimit followed by Redact.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte(`{"metadata":{"webhook_token":"`+tok+`"},"a":"`+tok+`"}`), tok)
	f.Add([]byte(`{"metadata":{"webhook_token":"x"},"metadata":{"webhook_token":"y"},"t":"\u0074ok_SECRET_0123456789abcdef"}`), tok)
	f.Add([]byte(`{"id":"r","metadata":{"webhook_token":null}}`), "abc")
	f.Add([]byte(`[1]`), tok)
	f.Add([]byte(`{"n":12345678901}`), "45678901")
	f.Fuzz(func(t *testing.T, body []byte, token string) {
		// The info describes the redacted body; HasToken the original.
		want := Redact(bytes.Clone(body), token)
		orig, wantErr := InspectLimit(bytes.Clone(body), 64)
		wantInfo, _ := InspectLimit(bytes.Clone(want), 64)
		wantInfo.HasToken = orig.HasToken
		if wantErr != nil {
			wantInfo = Info{}
		}
		info, got, err := Prepare(bytes.Clone(body), token, 64)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("error %v, want %v", err, wantErr)
		}
		if !reflect.DeepEqual(info, wantInfo) {
			t.Fatalf("info %+v, want %+v", info, wantInfo)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Prepare(%q, %q) = %q, Redact gives %q", body, token, got, want)
		}
	})
}

func TestPrepareShortcut(t *testing.T) {
	body := readTestdata(t, "response.json")
	info, out, err := Prepare(bytes.Clone(body), "a-different-token-123", 100)
	if err != nil || info.ID != "resp_01JABC" || !info.HasToken {
		t.Fatalf("Prepare: %+v %v", info, err)
	}
	if bytes.Contains(out, []byte("tok_SECRET")) || !bytes.Contains(out, []byte(`"webhook_token": "•••"`)) {
		t.Fatalf("not redacted: %s", out)
	}
	if _, out, err := Prepare([]byte(`[`+tok+`]`), tok, 0); err == nil || bytes.Contains(out, []byte(tok)) {
		t.Fatalf("invalid body: %v %s", err, out)
	}
}

// TestPrepareInfoFromRedactedBody: the token in any field the receiver
// derives from a delivery is masked there too; HasToken still says
// whether the sender put one in metadata.
func TestPrepareInfoFromRedactedBody(t *testing.T) {
	body := `{"id":"resp_` + tok + `","object":"response","status":"` + tok + `","model":"m\u0020` + tok +
		`","metadata":{"webhook_token":"` + tok + `","completion_webhook":"https://h/` + tok + `"},` +
		`"output":[{"type":"message","content":[{"type":"output_text","text":"` + strings.Repeat("ab ", 30) + `\u0074ok_SECRET_0123456789abcdef"}]}]}`
	info, out, err := Prepare([]byte(body), tok, 50)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(info) != fmt.Sprint(Info{ID: "resp_" + secret.Mask, Object: "response", Status: secret.Mask, WireStatus: secret.Mask, Model: "m " + secret.Mask,
		OutputText: strings.Repeat("ab ", 16) + "ab", WebhookURL: "https://h/" + secret.Mask, HasToken: true}) {
		t.Errorf("info %+v", info)
	}
	if bytes.Contains(out, []byte("SECRET")) {
		t.Errorf("body keeps the token: %s", out)
	}
	// The excerpt is cut from the redacted text, never from the token.
	info, _, _ = Prepare([]byte(body), tok, 100)
	if !strings.HasSuffix(info.OutputText, secret.Mask) {
		t.Errorf("OutputText %q", info.OutputText)
	}
}

// BenchmarkPrepare is the receiver's per-delivery work on a body with the
// token where Sail puts it and an answer with escapes.
func BenchmarkPrepare(b *testing.B) {
	for _, n := range []int{2 << 10, 200 << 10} {
		b.Run(fmt.Sprintf("%dKB", n>>10), func(b *testing.B) {
			src := bigBody(n, false)
			buf := make([]byte, len(src), len(src)+64)
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				copy(buf, src)
				if _, _, err := Prepare(buf[:len(src)], tok, 512); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
