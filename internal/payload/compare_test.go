package payload

import (
	"github.com/sailresearch/sail/internal/secret"

	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/event"
)

func TestCompareEqual(t *testing.T) {
	webhook := readTestdata(t, "response.json")
	// Same document as GET would return it: other key order, compact,
	// no token in metadata (Sail's GET echoes it; a redacted copy shows •••).
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(webhook))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	v["metadata"].(map[string]any)["webhook_token"] = "something else"
	get, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	eq, diffs, err := Compare(webhook, get)
	if err != nil || !eq || len(diffs) != 0 {
		t.Fatalf("Compare = %v %v %v, want equal", eq, diffs, err)
	}
	eq, _, err = Compare(webhook, Redact(append([]byte(nil), webhook...), tok))
	if err != nil || !eq {
		t.Fatalf("webhook vs its redacted copy: %v %v", eq, err)
	}
}

func TestCompareDiffs(t *testing.T) {
	tests := []struct {
		name, a, b string
		want       []string
	}{
		{"text and status",
			`{"status":"completed","output":[{"content":[{"text":"4"}]}]}`,
			`{"output":[{"content":[{"text":"5"}]}],"status":"failed"}`,
			[]string{"output[0].content[0].text", "status"}},
		{"missing and extra keys", `{"a":1,"b":2}`, `{"b":2,"c":3}`, []string{"a", "c"}},
		{"array lengths", `{"o":[1,2,3]}`, `{"o":[1]}`, []string{"o[1]", "o[2]"}},
		{"type change", `{"a":{"b":1}}`, `{"a":[1]}`, []string{"a"}},
		{"numbers by text", `{"n":1.0}`, `{"n":1}`, []string{"n"}},
		{"odd keys quoted", `{"a b":1,"x":{"1":true}}`, `{"a b":2,"x":{"1":false}}`, []string{`["a b"]`, `x["1"]`}},
		{"root", `[1]`, `{"a":1}`, []string{"$"}},
		{"token missing on one side", `{"metadata":{"webhook_token":"a"}}`, `{"metadata":{}}`, []string{"metadata.webhook_token"}},
		{"nested webhook_token is compared", `{"x":{"webhook_token":"a"}}`, `{"x":{"webhook_token":"b"}}`, []string{"x.webhook_token"}},
		{"escapes equal", `{"s":"\u00e9\/"}`, `{"s":"é/"}`, nil},
		{"duplicate keys: last wins", `{"a":1,"a":2}`, `{"a":2}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eq, diffs, err := Compare([]byte(tt.a), []byte(tt.b))
			if err != nil {
				t.Fatal(err)
			}
			if eq != (len(tt.want) == 0) || !reflect.DeepEqual(diffs, tt.want) {
				t.Errorf("Compare = %v %q, want %q", eq, diffs, tt.want)
			}
		})
	}
}

func TestCompareCapAndErrors(t *testing.T) {
	var a, b strings.Builder
	a.WriteString("{")
	b.WriteString("{")
	for i := range 50 {
		if i > 0 {
			a.WriteString(",")
			b.WriteString(",")
		}
		fmt.Fprintf(&a, `"k%02d":%d`, i, i)
		fmt.Fprintf(&b, `"k%02d":%d`, i, i+1)
	}
	a.WriteString("}")
	b.WriteString("}")
	eq, diffs, err := Compare([]byte(a.String()), []byte(b.String()))
	if err != nil || eq || len(diffs) != MaxDiffs || diffs[0] != "k00" || diffs[MaxDiffs-1] != "k19" {
		t.Fatalf("Compare = %v %v %v", eq, diffs, err)
	}
	if _, _, err := Compare([]byte(`{`), []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "first") {
		t.Errorf("invalid first: %v", err)
	}
	if _, _, err := Compare([]byte(`{}`), []byte(`nope`)); err == nil || !strings.Contains(err.Error(), "second") {
		t.Errorf("invalid second: %v", err)
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

// redactMeta masks metadata.webhook_token only, as Compare does.
func redactMeta(b []byte) []byte { return Redact(append([]byte(nil), b...), "") }

func FuzzCompare(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1,2]}`), []byte(`{"b":[1,2],"a":1}`))
	f.Add([]byte(`{"metadata":{"webhook_token":"x"}}`), []byte(`{"metadata":{"webhook_token":"y"}}`))
	f.Add([]byte(`{"s":"\u00e9"}`), []byte(`{"s":"é"}`))
	f.Add([]byte(`[1,2]`), []byte(`[1,2,3]`))
	f.Add([]byte(`{"a":1,"a":2}`), []byte(`{"a":2}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		eq, diffs, err := Compare(a, b)
		if err != nil {
			if json.Valid(a) && json.Valid(b) {
				t.Fatalf("Compare(%q, %q): %v for valid JSON", a, b, err)
			}
			return
		}
		if eq != (len(diffs) == 0) || len(diffs) > MaxDiffs {
			t.Fatalf("eq %v with diffs %q", eq, diffs)
		}
		// Compare agrees with encoding/json's idea of the redacted documents.
		if want := reflect.DeepEqual(decode(t, redactMeta(a)), decode(t, redactMeta(b))); eq != want {
			t.Fatalf("Compare(%q, %q) = %v, encoding/json says %v", a, b, eq, want)
		}
		// Symmetric, and reflexive.
		eq2, diffs2, _ := Compare(b, a)
		if eq2 != eq || !reflect.DeepEqual(diffs, diffs2) {
			t.Fatalf("not symmetric: %q vs %q", diffs, diffs2)
		}
		if same, d, _ := Compare(a, a); !same {
			t.Fatalf("Compare(a, a) differs at %q", d)
		}
	})
}

func BenchmarkCompare(b *testing.B) {
	webhook := readTestdata(b, "response.json")
	get, err := json.Marshal(decode(b, webhook))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(webhook)))
	for b.Loop() {
		if eq, _, err := Compare(webhook, get); err != nil || !eq {
			b.Fatal(eq, err)
		}
	}
}

func TestDiffValues(t *testing.T) {
	webhook := []byte(`{"id":"r","status":"completed","output":[{"text":"a"}],"metadata":{"webhook_token":"` + tok + `"},"extra": { "k" : [1, 2] }}`)
	get := []byte(`{"id":"r","status":"in_progress","output":[{"text":"` + tok + `"}],"metadata":{"webhook_token":"` + tok + `","n":1}}`)
	c, err := Diff(webhook, get, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := []event.Difference{
		{Path: "extra", Webhook: `{"k":[1,2]}`},
		{Path: "metadata.n", Get: "1"},
		{Path: "output[0].text", Webhook: `"a"`, Get: `"` + secret.Mask + `"`},
		{Path: "status", Webhook: `"completed"`, Get: `"in_progress"`},
	}
	if c.Equal || !reflect.DeepEqual(c.Diffs, want) || len(c.Paths) != len(want) {
		t.Fatalf("Diff = %+v\nwant %+v", c, want)
	}
	if bytes.Contains(webhook, []byte(secret.Mask)) || bytes.Contains(get, []byte(secret.Mask)) {
		t.Error("Diff redacted its arguments in place")
	}
	long := []byte(`{"t":"` + strings.Repeat("x", 5000) + `"}`)
	c, _ = Diff(long, []byte(`{"t":"y"}`), "")
	if w := c.Diffs[0].Webhook; len(w) > 1024 || !strings.HasSuffix(w, "…") {
		t.Errorf("long value not cut: %d bytes", len(w))
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
