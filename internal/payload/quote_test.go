package payload

import (
	"encoding/json"
	"testing"
)

// FuzzAppendQuote checks AppendQuote against encoding/json: the literal
// always parses and decodes to what encoding/json would make of s (the
// store writes its record headers with it).
func FuzzAppendQuote(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00\x1f\"\\", "é\xff\xfe", "\u2028<>&", "\b\f\t\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(AppendQuote(nil, s), &got); err != nil {
			t.Fatalf("AppendQuote(%q) does not parse: %v", s, err)
		}
		std, _ := json.Marshal(s)
		json.Unmarshal(std, &want)
		if got != want {
			t.Fatalf("AppendQuote(%q) decodes to %q, encoding/json gives %q", s, got, want)
		}
	})
}
