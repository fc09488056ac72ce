package emulator

import (
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"
)

// echoPrefix starts every reply that is not an arithmetic answer.
const echoPrefix = "Echo: "

// echoLimit is how many characters (runes) of the prompt an echo repeats.
const echoLimit = 200

// maxOperandDigits keeps the arithmetic cheap: a longer number is not
// treated as arithmetic, so a huge prompt cannot make the fake model slow.
const maxOperandDigits = 40

// arithmetic finds the first "a op b" with non-negative integer operands.
var arithmetic = regexp.MustCompile(`(\d+)\s*([-+*/])\s*(\d+)`)

// Reply is the deterministic fake model: it answers the first simple
// arithmetic expression "a op b" (integers, + - * /) found in prompt with its
// result, and otherwise echoes the prompt. HelpText states the same rule.
func Reply(prompt string) string {
	if ans, ok := evaluate(prompt); ok {
		return ans
	}
	return echoPrefix + truncateRunes(prompt, echoLimit)
}

// evaluate computes the first arithmetic expression in s.
func evaluate(s string) (string, bool) {
	m := arithmetic.FindStringSubmatch(s)
	if m == nil || len(m[1]) > maxOperandDigits || len(m[3]) > maxOperandDigits {
		return "", false
	}
	a, _ := new(big.Int).SetString(m[1], 10)
	b, _ := new(big.Int).SetString(m[3], 10)
	switch m[2] {
	case "+":
		return new(big.Int).Add(a, b).String(), true
	case "-":
		return new(big.Int).Sub(a, b).String(), true
	case "*":
		return new(big.Int).Mul(a, b).String(), true
	}
	if b.Sign() == 0 {
		return "undefined", true
	}
	q := new(big.Rat).SetFrac(a, b)
	if q.IsInt() {
		return q.Num().String(), true
	}
	// Six decimals rounded half away from zero, trailing zeros trimmed:
	// 7/2 → 3.5, 1/3 → 0.333333, 2/3 → 0.666667.
	out := strings.TrimRight(q.FloatString(6), "0")
	return strings.TrimSuffix(out, "."), true
}

// Tokens estimates a token count the way the emulator bills: one token per
// four characters (runes), rounded up, at least 1.
func Tokens(s string) int64 {
	n := int64(utf8.RuneCountInString(s))
	if n <= 4 {
		return 1
	}
	return (n + 3) / 4
}

// truncateRunes returns the first n runes of s.
func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// generation is the outcome of running the fake model against a request.
type generation struct {
	text         string
	inputTokens  int64
	outputTokens int64
	truncated    bool // max output tokens cut the reply
}

// generate runs the fake model: prompt decides the reply, inputText (all
// input including instructions) decides the input token count, and
// maxTokens (0 = none) caps the output, marking the result truncated when
// it cuts.
func generate(prompt, inputText string, maxTokens int64) generation {
	g := generation{text: Reply(prompt), inputTokens: Tokens(inputText)}
	g.outputTokens = Tokens(g.text)
	if maxTokens > 0 && g.outputTokens > maxTokens {
		g.text = truncateRunes(g.text, int(maxTokens)*4)
		g.outputTokens = maxTokens
		g.truncated = true
	}
	return g
}

// halve cuts the reply in half for a forced "incomplete" outcome, so an
// incomplete response still carries partial output, as a real one would.
func (g generation) halve() generation {
	n := utf8.RuneCountInString(g.text)
	g.text = truncateRunes(g.text, (n+1)/2)
	g.outputTokens = Tokens(g.text)
	g.truncated = true
	return g
}
