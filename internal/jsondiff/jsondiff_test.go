package jsondiff

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/testutil"
)

// paths runs Compare and returns the paths that differ.
func paths(t *testing.T, a, b string, skip func([]any) bool) []string {
	t.Helper()
	ds, err := Compare([]byte(a), []byte(b), skip)
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, d := range ds {
		ps = append(ps, d.Path)
	}
	return ps
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
		{"escapes equal", `{"s":"\u00e9\/"}`, `{"s":"é/"}`, nil},
		{"duplicate keys: last wins", `{"a":1,"a":2}`, `{"a":2}`, nil},
		{"key order and white space", `{"a":1, "b":[1, 2]}`, ` {"b":[1,2],"a":1}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := paths(t, tt.a, tt.b, nil); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare = %q, want %q", got, tt.want)
			}
		})
	}
}

// metadataToken skips metadata.webhook_token, as internal/payload does.
func metadataToken(path []any) bool {
	return len(path) == 2 && path[0] == "metadata" && path[1] == "webhook_token"
}

func TestCompareSkip(t *testing.T) {
	tests := []struct {
		name, a, b string
		want       []string
	}{
		{"skipped on both sides", `{"metadata":{"webhook_token":"a"}}`, `{"metadata":{"webhook_token":{"b":1}}}`, nil},
		{"missing on one side", `{"metadata":{"webhook_token":"a"}}`, `{"metadata":{}}`, []string{"metadata.webhook_token"}},
		{"other paths compared", `{"x":{"webhook_token":"a"}}`, `{"x":{"webhook_token":"b"}}`, []string{"x.webhook_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := paths(t, tt.a, tt.b, metadataToken); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare = %q, want %q", got, tt.want)
			}
		})
	}
	var asked [][]any
	Compare([]byte(`{"a":[1]}`), []byte(`{"a":[1,2],"b":0}`), func(p []any) bool {
		asked = append(asked, append([]any(nil), p...))
		return false
	})
	if want := [][]any{{}, {"a"}, {"a", 0}}; fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("skip asked about %v, want %v (paths on both sides only)", asked, want)
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
	diffs := paths(t, a.String(), b.String(), nil)
	if len(diffs) != MaxDiffs || diffs[0] != "k00" || diffs[MaxDiffs-1] != "k19" {
		t.Fatalf("Compare = %v", diffs)
	}
	if _, err := Compare([]byte(`{`), []byte(`{}`), nil); err == nil || !strings.Contains(err.Error(), "first") {
		t.Errorf("invalid first: %v", err)
	}
	if _, err := Compare([]byte(`{}`), []byte(`nope`), nil); err == nil || !strings.Contains(err.Error(), "second") {
		t.Errorf("invalid second: %v", err)
	}
	if _, err := Compare([]byte(`{} {}`), []byte(`{}`), nil); err == nil {
		t.Error("data after the top-level value: no error")
	}
}

func TestCompareValues(t *testing.T) {
	ds, err := Compare([]byte(`{"a":"x","extra": { "k" : [1, 2] },"h":"<&>"}`), []byte(`{"a":"y","n":1,"h":"<>"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Diff{
		{Path: "a", A: `"x"`, B: `"y"`},
		{Path: "extra", A: `{"k":[1,2]}`},
		{Path: "h", A: `"<&>"`, B: `"<>"`},
		{Path: "n", B: "1"},
	}
	if !reflect.DeepEqual(ds, want) {
		t.Fatalf("Compare = %+v\nwant %+v", ds, want)
	}
	long := []byte(`{"t":"` + strings.Repeat("é", 3000) + `"}`)
	ds, _ = Compare(long, []byte(`{"t":"y"}`), nil)
	if a := ds[0].A; len(a) > 1024 || !strings.HasSuffix(a, "…") || !strings.HasPrefix(a, `"é`) || strings.ContainsRune(a, '\uFFFD') {
		t.Errorf("long value not cut at a rune: %d bytes, ends %q", len(a), a[len(a)-8:])
	}
}

// withoutToken drops metadata.webhook_token from both decoded documents
// when both have it: what metadataToken tells Compare to skip.
func withoutToken(a, b any) {
	ma, _ := a.(map[string]any)
	mb, _ := b.(map[string]any)
	x, _ := ma["metadata"].(map[string]any)
	y, _ := mb["metadata"].(map[string]any)
	_, inX := x["webhook_token"]
	_, inY := y["webhook_token"]
	if inX && inY {
		delete(x, "webhook_token")
		delete(y, "webhook_token")
	}
}

func FuzzCompare(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1,2]}`), []byte(`{"b":[1,2],"a":1}`))
	f.Add([]byte(`{"metadata":{"webhook_token":"x"}}`), []byte(`{"metadata":{"webhook_token":"y"}}`))
	f.Add([]byte(`{"s":"\u00e9"}`), []byte(`{"s":"é"}`))
	f.Add([]byte(`[1,2]`), []byte(`[1,2,3]`))
	f.Add([]byte(`{"a":1,"a":2}`), []byte(`{"a":2}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		diffs, err := Compare(a, b, metadataToken)
		if err != nil {
			if json.Valid(a) && json.Valid(b) {
				t.Fatalf("Compare(%q, %q): %v for valid JSON", a, b, err)
			}
			return
		}
		if len(diffs) > MaxDiffs {
			t.Fatalf("%d diffs", len(diffs))
		}
		// Compare agrees with encoding/json's idea of the documents.
		av, bv := testutil.DecodeJSON(t, a), testutil.DecodeJSON(t, b)
		withoutToken(av, bv)
		if eq, want := len(diffs) == 0, reflect.DeepEqual(av, bv); eq != want {
			t.Fatalf("Compare(%q, %q) equal = %v, encoding/json says %v", a, b, eq, want)
		}
		// Symmetric, and reflexive.
		diffs2, _ := Compare(b, a, metadataToken)
		for i := range diffs2 {
			diffs2[i].A, diffs2[i].B = diffs2[i].B, diffs2[i].A
		}
		if !reflect.DeepEqual(diffs, diffs2) {
			t.Fatalf("not symmetric: %q vs %q", diffs, diffs2)
		}
		if d, _ := Compare(a, a, nil); len(d) != 0 {
			t.Fatalf("Compare(a, a) differs at %q", d)
		}
	})
}

// BenchmarkCompare compares a response payload (internal/payload's test
// document) with its compact re-encoding.
func BenchmarkCompare(b *testing.B) {
	doc, err := os.ReadFile("../payload/testdata/response.json")
	if err != nil {
		b.Fatal(err)
	}
	other, err := json.Marshal(testutil.DecodeJSON(b, doc))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if ds, err := Compare(doc, other, metadataToken); err != nil || len(ds) != 0 {
			b.Fatal(ds, err)
		}
	}
}
