package emulator

import (
	"strings"
	"testing"
)

func TestReply(t *testing.T) {
	long := strings.Repeat("ab", 150) // 300 runes
	cases := []struct{ prompt, want string }{
		{"What is 2+2? Reply with just the number.", "4"},
		{"12 * 12", "144"},
		{"compute 10 - 25 please", "-15"},
		{"8/2", "4"},
		{"7 / 2", "3.5"},
		{"1/3", "0.333333"},
		{"2/3", "0.666667"},
		{"5/0", "undefined"},
		{"first 1+1 then 3*3", "2"},
		{"99999999999999999999 * 99999999999999999999", "9999999999999999999800000000000000000001"},
		{"Summarize this document.", "Echo: Summarize this document."},
		{"", "Echo: "},
		{"no numbers 12 here", "Echo: no numbers 12 here"},
		{long, "Echo: " + long[:200]},
		{strings.Repeat("é", 250), "Echo: " + strings.Repeat("é", 200)},
		{strings.Repeat("9", 41) + "+1", "Echo: " + strings.Repeat("9", 41) + "+1"},
	}
	for _, c := range cases {
		if got := Reply(c.prompt); got != c.want {
			t.Errorf("Reply(%.40q) = %.60q, want %.60q", c.prompt, got, c.want)
		}
	}
}

func TestTokens(t *testing.T) {
	cases := map[string]int64{"": 1, "4": 1, "abcd": 1, "abcde": 2, "abcdefgh": 2, "abcdefghi": 3, "éééé": 1, "ééééé": 2}
	for s, want := range cases {
		if got := Tokens(s); got != want {
			t.Errorf("Tokens(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestGenerateMaxTokens(t *testing.T) {
	g := generate("hello world, this is long", "in", 2)
	if !g.truncated || g.text != "Echo: he" || g.outputTokens != 2 {
		t.Errorf("truncated generation = %+v, want text %q, 2 tokens, truncated", g, "Echo: he")
	}
	g = generate("2+2", "2+2", 2)
	if g.truncated || g.text != "4" || g.outputTokens != 1 || g.inputTokens != 1 {
		t.Errorf("short generation = %+v, want untruncated 4 with 1/1 tokens", g)
	}
	h := generate("abcdefgh", "x", 0).halve() // "Echo: abcdefgh" = 14 runes
	if h.text != "Echo: a" || !h.truncated {
		t.Errorf("halve = %+v, want %q", h, "Echo: a")
	}
}
