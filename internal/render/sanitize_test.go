package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, é 日本 🙂", "plain text, é 日本 🙂"},
		{"osc52 \x1b]52;c;UFdORUQ=\x07 clear \x1b[2J", `osc52 \u001b]52;c;UFdORUQ=\u0007 clear \u001b[2J`},
		{"tab\tnewline\ncr\r", `tab\tnewline\ncr\r`},
		{"del\x7f c1 \u009b31m nel\u0085", `del\u007f c1 \u009b31m nel\u0085`},
		{"bidi \u202a\u202b\u202c\u202d\u202e \u2066\u2067\u2068\u2069 \u200e\u200f \u061c \ufeff", `bidi \u202a\u202b\u202c\u202d\u202e \u2066\u2067\u2068\u2069 \u200e\u200f \u061c \ufeff`},
		{"separators \u2028\u2029, tag \U000e0041", `separators \u2028\u2029, tag \udb40\udc41`},
		{"joiners stay: 👨\u200d👩 and \u200c", "joiners stay: 👨\u200d👩 and \u200c"},
		{"bad utf-8 \xff\xfe", `bad utf-8 \xff\xfe`},
	}
	for _, tt := range tests {
		if got := Sanitize(tt.in); got != tt.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzSanitize: the result never holds a rune Sanitize would escape, and
// sanitising JSON text on one line (as sail writes it) keeps it valid
// JSON with the same meaning.
func FuzzSanitize(f *testing.F) {
	f.Add("a\x1b[2Jb\u202ec")
	f.Add(`{"id":"x` + "\u202e\u0085" + `"}`)
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		for i := 0; i < len(out); {
			r, size := utf8.DecodeRuneInString(out[i:])
			if unsafeRune(r, size) {
				t.Fatalf("Sanitize(%q) = %q still holds %q", s, out, r)
			}
			i += size
		}
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(s)) == nil && utf8.ValidString(s) {
			s, out = compact.String(), Sanitize(compact.String())
			// Numbers stay text (UseNumber): a valid JSON number may not
			// fit a float64, and meaning is compared, not Go's reading of it.
			decode := func(text string) (v any, err error) {
				d := json.NewDecoder(strings.NewReader(text))
				d.UseNumber()
				err = d.Decode(&v)
				return v, err
			}
			a, errA := decode(s)
			b, errB := decode(out)
			if errA != nil || errB != nil {
				t.Fatalf("Sanitize(%q) = %q is not valid JSON", s, out)
			}
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			if string(x) != string(y) {
				t.Fatalf("Sanitize(%q) = %q means something else", s, out)
			}
		}
	})
}
