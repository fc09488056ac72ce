package ui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sailresearch/sail/internal/event"
)

func TestOutputTextShapes(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"responses", string(responseBody("resp_1", "completed", "four")), "four"},
		{"chat", `{"object":"chat.completion","choices":[{"message":{"role":"assistant","content":"chat says hi"}}]}`, "chat says hi"},
		{"messages", `{"type":"message","content":[{"type":"text","text":"claude-ish"},{"type":"tool_use"}]}`, "claude-ish"},
		{"failed", `{"object":"response","status":"failed","output":[],"error":{"message":"model overloaded"}}`, "error: model overloaded"},
		{"escape in text", `{"object":"response","output":[{"content":[{"type":"output_text","text":"a\u001b[2Jb"}]}]}`, `a\u001b[2Jb`},
		{"bidi override in text", `{"object":"response","output":[{"content":[{"type":"output_text","text":"a\u202eb\u2066c"}]}]}`, `a\u202eb\u2066c`},
		{"not json", `nope`, ""},
	}
	for _, c := range cases {
		if got := outputText([]byte(c.body)); got != c.want {
			t.Errorf("%s: outputText = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTokenize(t *testing.T) {
	line := `    "key \"q\"": [true, -1.5e3, null, "v"],`
	var got []string
	for _, sp := range tokenize(line) {
		if sp.cls != clsPlain {
			got = append(got, fmt.Sprintf("%d:%s", sp.cls, line[sp.start:sp.end]))
		}
	}
	want := []string{
		fmt.Sprintf("%d:%s", clsKey, `"key \"q\""`),
		fmt.Sprintf("%d::", clsPunct),
		fmt.Sprintf("%d:[", clsPunct),
		fmt.Sprintf("%d:true", clsLit),
		fmt.Sprintf("%d:,", clsPunct),
		fmt.Sprintf("%d:-1.5e3", clsNumber),
		fmt.Sprintf("%d:,", clsPunct),
		fmt.Sprintf("%d:null", clsLit),
		fmt.Sprintf("%d:,", clsPunct),
		fmt.Sprintf("%d:%s", clsString, `"v"`),
		fmt.Sprintf("%d:]", clsPunct),
		fmt.Sprintf("%d:,", clsPunct),
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tokens\n got %v\nwant %v", got, want)
	}
	// Spans cover the line exactly, so nothing is lost when rendering.
	var b strings.Builder
	for _, sp := range tokenize(line) {
		b.WriteString(line[sp.start:sp.end])
	}
	if b.String() != line {
		t.Errorf("spans rebuild %q, want %q", b.String(), line)
	}
}

func TestHighlightedPayloadIsColouredJSON(t *testing.T) {
	st := newStyles(true, false)
	segs := highlightLine(st, `  "status": "completed",`, true, nil, -1)
	var out strings.Builder
	for _, s := range segs {
		out.WriteString(s.paint.render(s.text))
	}
	if got := out.String(); !strings.Contains(got, "\x1b[") || ansi.Strip(got) != `  "status": "completed",` {
		t.Errorf("highlighted line = %q", got)
	}
}

func TestWrapSegsFitsWidth(t *testing.T) {
	text := strings.Repeat("ab漢字🙂c", 20)
	for _, w := range []int{1, 2, 3, 7, 10, 33} {
		rows, _ := wrapSegs([]seg{{text: text}}, w)
		var joined strings.Builder
		for i, r := range rows {
			// A grapheme wider than the row is shown alone rather than lost.
			if rw := ansi.StringWidth(r); rw > w && !(w < 2 && rw == 2) {
				t.Errorf("w=%d row %d is %d wide: %q", w, i, rw, r)
			}
			joined.WriteString(r)
		}
		if joined.String() != text {
			t.Errorf("w=%d: wrapping lost text", w)
		}
	}
}

func TestWrapSegsCurrentRow(t *testing.T) {
	line := strings.Repeat("x", 25) + "needle"
	ms := []match{{line: 0, start: 25, end: 31}}
	segs := highlightLine(newStyles(true, true), line, false, ms, 0)
	rows, cur := wrapSegs(segs, 10)
	if cur != 2 || !strings.Contains(strings.Join(rows, ""), ">>needle<<") {
		t.Errorf("current row %d (want 2), rows %q", cur, rows)
	}
}

func TestCleanNeutralisesEscapes(t *testing.T) {
	got := clean("ok\x1b]52;c;ZXZpbA==\x07\tend\r\nnext")
	if strings.ContainsAny(got, "\x1b\x07\r\t") {
		t.Errorf("clean left control characters: %q", got)
	}
	if !strings.Contains(got, "ok") || !strings.Contains(got, "end\nnext") {
		t.Errorf("clean lost text: %q", got)
	}
}

func TestHeaderValuesCannotInjectEscapes(t *testing.T) {
	d := deliveryEv(testID, 1, event.VerdictOK, 200, t0, "x")
	d.Headers["X-Evil"] = "\x1b[2J\x1b[31mred"
	d.Error = "bad\x1b[H"
	next, _ := NewModel(Options{NoColor: true}).Update(EventMsg{Event: d})
	next, _ = next.Update(press("shift+tab"))
	if v := next.View().Content; strings.Contains(v, "\x1b") {
		t.Errorf("payload escape sequences reached the screen: %q", v)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"resp_01J-a.b": "resp_01J-a.b",
		"../../etc":    ".._.._etc",
		"":             "delivery",
		"a b/c":        "a_b_c",
	} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * time.Second:             "7s",
		65 * time.Second:            "1m05s",
		2*time.Hour + 3*time.Minute: "2h03m",
		-time.Second:                "0s",
	} {
		if got := fmtElapsed(d); got != want {
			t.Errorf("fmtElapsed(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestNonJSONPayloadShownAsText(t *testing.T) {
	lines, isJSON := prettyPayload([]byte("plain\x1b[31m body"))
	if isJSON || len(lines) != 1 || strings.Contains(lines[0], "\x1b") {
		t.Errorf("prettyPayload(text) = %q, %v", lines, isJSON)
	}
}

// BenchmarkPayloadRender measures re-rendering a large payload with a
// search active, which happens on every keystroke of a search.
func BenchmarkPayloadRender(b *testing.B) {
	items := make([]map[string]any, 400)
	for i := range items {
		items[i] = map[string]any{"type": "output_text", "text": strings.Repeat("lorem ipsum completed ", 8), "n": i}
	}
	body, _ := json.Marshal(map[string]any{"object": "response", "status": "completed", "output": items})
	d := deliveryEv(testID, 1, event.VerdictOK, 200, t0, "x")
	d.Body = body
	m := NewModel(Options{})
	next, _ := m.Update(EventMsg{Event: d})
	m = next.(Model)
	m.tab = tabPayload
	m.search.query = "completed"
	m.findMatches()
	b.ResetTimer()
	for range b.N {
		m.c.shown = detailKey{}
		m.refreshDetail()
	}
}
