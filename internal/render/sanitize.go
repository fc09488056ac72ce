package render

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Sanitize makes text that came from outside (a webhook body, a header, a
// history file, an argument) safe to write to a terminal on one line.
// Everything a terminal could act on, or that could make a line read
// differently from what it holds, is shown escaped instead of passed
// through: C0 controls including ESC, tab and newline (\n, \t, \r,
// \u001b…), DEL, C1 controls (U+0080–U+009F, which some terminals treat
// as ESC sequences), line and paragraph separators, and Unicode format
// characters such as the bidi overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), U+200E/F, U+061C and U+FEFF. Zero-width (non-)joiners
// stay: emoji and several scripts need them, and they reorder nothing.
// Invalid UTF-8 bytes are shown as \xNN.
//
// Escapes use JSON's spelling (runes above U+FFFF as surrogate pairs), so
// a JSON document stays valid JSON with the same meaning once sanitised.
// Text with nothing to escape is returned as is, without allocating.
func Sanitize(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafeRune(r, size):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError:
			b.WriteString(`\x` + hex2(s[i]))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			b.WriteString(`\u` + hex4(hi) + `\u` + hex4(lo))
		default:
			b.WriteString(`\u` + hex4(r))
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether r (decoded from size bytes) must be escaped.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r < 0x20 || r >= 0x7f && r <= 0x9f:
		return true
	case r == '\u200c' || r == '\u200d':
		return false
	}
	return r >= 0xa0 && (unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp))
}

func hex2(c byte) string {
	return string([]byte{"0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf]})
}

func hex4(r rune) string {
	s := strconv.FormatInt(int64(r), 16)
	return strings.Repeat("0", 4-len(s)) + s
}
