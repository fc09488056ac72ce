package payload

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/secret"
	"github.com/sailresearch/sail/internal/testutil"
)

func TestCompareEqual(t *testing.T) {
	webhook := readTestdata(t, "response.json")
	// Same document as GET would return it: other key order, compact,
	// no token in metadata (Sail's GET echoes it; a redacted copy shows •••).
	v := testutil.DecodeJSON(t, webhook).(map[string]any)
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

// The comparison itself is internal/jsondiff's (tested there); these
// cases pin what payload adds: metadata.webhook_token only.
func TestCompareToken(t *testing.T) {
	tests := []struct {
		name, a, b string
		want       []string
	}{
		{"token on both sides", `{"metadata":{"webhook_token":"a"}}`, `{"metadata":{"webhook_token":["b"]}}`, nil},
		{"token missing on one side", `{"metadata":{"webhook_token":"a"}}`, `{"metadata":{}}`, []string{"metadata.webhook_token"}},
		{"nested webhook_token is compared", `{"x":{"webhook_token":"a"}}`, `{"x":{"webhook_token":"b"}}`, []string{"x.webhook_token"}},
		{"other differences", `{"a":1,"metadata":{"webhook_token":"a"}}`, `{"a":2,"metadata":{"webhook_token":"b"}}`, []string{"a"}},
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
	if eq, _, err := Compare([]byte(`{}`), []byte(`nope`)); eq || err == nil || !strings.Contains(err.Error(), "second") {
		t.Errorf("invalid second: %v %v", eq, err)
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
