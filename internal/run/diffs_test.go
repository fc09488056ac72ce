package run

import (
	"reflect"
	"testing"

	"github.com/sailresearch/sail/internal/event"
)

func TestDifferences(t *testing.T) {
	webhook := []byte(`{"id":"r","output":[{"content":[{"text":"4"}]}],"a b":{"c":1},"only_here":null,"usage":{"n":1.0}}`)
	get := []byte(`{"id":"r","output":[{"content":[{"text":"<5>"}]}],"a b":{"c":2},"usage":{"n":1}}`)
	got := differences(webhook, get, []string{`output[0].content[0].text`, `["a b"].c`, `only_here`, `usage.n`, `output[3]`, `$`})
	want := []event.Difference{
		{Path: `output[0].content[0].text`, Webhook: `"4"`, Get: `"<5>"`},
		{Path: `["a b"].c`, Webhook: `1`, Get: `2`},
		{Path: `only_here`, Webhook: `null`, Get: ``},
		{Path: `usage.n`, Webhook: `1.0`, Get: `1`},
		{Path: `output[3]`},
		{Path: `$`, Webhook: `{"a b":{"c":1},"id":"r","only_here":null,"output":[{"content":[{"text":"4"}]}],"usage":{"n":1.0}}`,
			Get: `{"a b":{"c":2},"id":"r","output":[{"content":[{"text":"<5>"}]}],"usage":{"n":1}}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestDifferenceValuesAreBounded(t *testing.T) {
	long := make([]byte, 3*maxDiffValue)
	for i := range long {
		long[i] = 'x'
	}
	d := differences([]byte(`{"t":"`+string(long)+`"}`), []byte(`{"t":"y"}`), []string{"t"})
	if len(d) != 1 || len(d[0].Webhook) > maxDiffValue+len("…") || d[0].Get != `"y"` {
		t.Fatalf("got %d bytes / %q", len(d[0].Webhook), d[0].Get)
	}
}
