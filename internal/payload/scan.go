package payload

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON scanner that works on byte offsets. The
// package uses it instead of encoding/json because webhook bodies can be
// 32 MiB: decoding one into map[string]any costs several times its size,
// while walking spans of the caller's buffer costs almost nothing. The
// scanner accepts exactly what encoding/json.Valid accepts (a fuzz test
// checks this), including its nesting limit.

// maxDepth matches encoding/json's nesting limit, which also keeps the
// recursive walkers below from exhausting the stack on hostile input.
const maxDepth = 10000

// SyntaxError reports invalid JSON and where it was found.
type SyntaxError struct {
	Offset int    // byte offset of the problem
	Msg    string // what was wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

func synErr(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// parseDocument checks that b holds exactly one JSON value (with optional
// surrounding whitespace) and returns the span of that value.
func parseDocument(b []byte) (start, end int, err error) {
	start = skipWS(b, 0)
	if start == len(b) {
		return 0, 0, synErr(start, "empty body")
	}
	end, err = skipValue(b, start, 0)
	if err != nil {
		return 0, 0, err
	}
	if j := skipWS(b, end); j != len(b) {
		return 0, 0, synErr(j, "unexpected %s after the top-level value", describe(b[j]))
	}
	return start, end, nil
}

func describe(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// skipValue validates the value starting at b[i] (no leading whitespace)
// and returns the offset just after it.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, synErr(i, "unexpected end of input")
	}
	switch c := b[i]; c {
	case '{':
		cur := openCursor(b, i, depth, '}')
		for {
			_, _, vs, ok := cur.key()
			if !ok {
				break
			}
			cur.after(skipValue(b, vs, depth+1))
		}
		return cur.end()
	case '[':
		cur := openCursor(b, i, depth, ']')
		for {
			vs, ok := cur.elem()
			if !ok {
				break
			}
			cur.after(skipValue(b, vs, depth+1))
		}
		return cur.end()
	case '"':
		end, _, err := scanString(b, i)
		return end, err
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return scanNumber(b, i)
		}
		return i, synErr(i, "unexpected %s looking for a value", describe(c))
	}
}

// cursor walks the members of an object or the elements of an array
// without closures: the hot walkers run for every delivery, and a closure
// per visited object or array was most of their allocations.
//
//	cur := openCursor(b, i, depth, '}')
//	for {
//		ks, ke, vs, ok := cur.key() // or vs, ok := cur.elem() for '['
//		if !ok {
//			break
//		}
//		cur.after(skipValue(b, vs, depth+1)) // consume the value
//	}
//	end, err := cur.end()
type cursor struct {
	b     []byte
	i     int  // next key or element; after the closing bracket once done
	close byte // '}' or ']'
	done  bool
	err   error
}

// openCursor starts at b[i], the opening bracket.
func openCursor(b []byte, i, depth int, close byte) cursor {
	c := cursor{b: b, close: close}
	if depth >= maxDepth {
		c.i, c.err = i, synErr(i, "nesting deeper than %d", maxDepth)
		return c
	}
	c.i = skipWS(b, i+1)
	if c.i < len(b) && b[c.i] == close {
		c.i++
		c.done = true
	}
	return c
}

func (c *cursor) fail(i int, err error) {
	c.i, c.err = i, err
}

// key parses the next member's key and colon: the key literal is
// b[ks:ke] (quotes included) and its value starts at vs.
func (c *cursor) key() (ks, ke, vs int, ok bool) {
	if c.done || c.err != nil {
		return 0, 0, 0, false
	}
	b, i := c.b, c.i
	if i >= len(b) {
		c.fail(i, synErr(i, "unexpected end of input in object"))
		return 0, 0, 0, false
	}
	if b[i] != '"' {
		c.fail(i, synErr(i, "unexpected %s looking for an object key", describe(b[i])))
		return 0, 0, 0, false
	}
	ke, _, err := scanString(b, i)
	if err != nil {
		c.fail(ke, err)
		return 0, 0, 0, false
	}
	j := skipWS(b, ke)
	if j >= len(b) || b[j] != ':' {
		c.fail(j, synErr(j, "missing ':' after object key"))
		return 0, 0, 0, false
	}
	vs = skipWS(b, j+1)
	if vs >= len(b) {
		c.fail(vs, synErr(vs, "unexpected end of input in object"))
		return 0, 0, 0, false
	}
	return i, ke, vs, true
}

// elem returns where the next array element starts.
func (c *cursor) elem() (vs int, ok bool) {
	if c.done || c.err != nil {
		return 0, false
	}
	if c.i >= len(c.b) {
		c.fail(c.i, synErr(c.i, "unexpected end of input in array"))
		return 0, false
	}
	return c.i, true
}

// after records the end (or failure) of the value just consumed and
// moves past the following ',' or closing bracket.
func (c *cursor) after(ve int, err error) {
	if err != nil {
		c.fail(ve, err)
		return
	}
	b := c.b
	i := skipWS(b, ve)
	switch {
	case i >= len(b):
		c.fail(i, synErr(i, "unexpected end of input"))
	case b[i] == ',':
		c.i = skipWS(b, i+1)
	case b[i] == c.close:
		c.i, c.done = i+1, true
	default:
		c.fail(i, synErr(i, "unexpected %s after a value", describe(b[i])))
	}
}

// end returns the offset after the closing bracket, or the error.
func (c *cursor) end() (int, error) { return c.i, c.err }

func literal(b []byte, i int, word string) (int, error) {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return i, synErr(i, "invalid literal, want %s", word)
	}
	return i + len(word), nil
}

// eachMember walks the object at b[i]=='{'. For every member it calls fn
// with the key literal's span [ks,ke) (quotes included) and the offset of
// the value; fn must consume the value and return the offset after it.
// (Hot paths use cursor directly; this is for the rest.)
func eachMember(b []byte, i, depth int, fn func(ks, ke, vs int) (int, error)) (int, error) {
	cur := openCursor(b, i, depth, '}')
	for {
		ks, ke, vs, ok := cur.key()
		if !ok {
			break
		}
		cur.after(fn(ks, ke, vs))
	}
	return cur.end()
}

// eachElement walks the array at b[i]=='[' like eachMember.
func eachElement(b []byte, i, depth int, fn func(idx, vs int) (int, error)) (int, error) {
	cur := openCursor(b, i, depth, ']')
	for idx := 0; ; idx++ {
		vs, ok := cur.elem()
		if !ok {
			break
		}
		cur.after(fn(idx, vs))
	}
	return cur.end()
}

// strFlags describe a scanned string literal.
type strFlags uint8

const (
	strEscaped  strFlags = 1 << iota // contains a backslash escape
	strNonASCII                      // contains bytes ≥ 0x80
)

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// scanString validates the string literal at b[i]=='"' and returns the
// offset after its closing quote. Answers are long strings, so it jumps
// between quotes and backslashes with bytes.IndexByte instead of
// inspecting every byte in a switch.
func scanString(b []byte, i int) (int, strFlags, error) {
	var fl strFlags
	j := i + 1
	q := -1 // offset of the first '"' at or after j
	for {
		if q < j {
			k := bytes.IndexByte(b[j:], '"')
			if k < 0 {
				return len(b), fl, synErr(len(b), "unexpected end of input in string")
			}
			q = j + k
		}
		end := q
		if k := bytes.IndexByte(b[j:q], '\\'); k >= 0 {
			end = j + k
		}
		if x, high := plainRun(b[j:end]); x >= 0 {
			return j + x, fl, synErr(j+x, "control character %s in string", describe(b[j+x]))
		} else if high {
			fl |= strNonASCII
		}
		if end == q {
			return q + 1, fl, nil
		}
		fl |= strEscaped
		j = end
		if j+1 >= len(b) {
			return j, fl, synErr(j, "unexpected end of input in string escape")
		}
		switch b[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j += 2
		case 'u':
			if j+6 > len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
				return j, fl, synErr(j, "invalid \\u escape in string")
			}
			j += 6
		default:
			return j, fl, synErr(j, "invalid escape %s in string", describe(b[j+1]))
		}
	}
}

// plainRun checks the bytes between escapes of a string: it returns the
// index of the first control character (or -1) and whether any byte is
// ≥ 0x80. Eight bytes at a time, because this loop is most of the time
// spent on a large answer.
func plainRun(p []byte) (ctl int, high bool) {
	const highs, ctls = 0x8080808080808080, 0x2020202020202020
	var acc uint64
	k := 0
	for ; k+8 <= len(p); k += 8 {
		x := binary.LittleEndian.Uint64(p[k:])
		acc |= x
		// Classic "has a byte less than n" test; exact once high bytes are excluded.
		if (x-ctls)&^x&highs != 0 {
			break
		}
	}
	for ; k < len(p); k++ {
		if p[k] < 0x20 {
			return k, false
		}
		acc |= uint64(p[k])
	}
	return -1, acc&highs != 0
}

func scanNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return i, synErr(i, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i, synErr(i, "invalid number: digits must follow '.'")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, synErr(i, "invalid number: digits must follow the exponent")
		}
	}
	return i, nil
}

// plainString reports whether a literal's content equals its decoded
// value byte for byte (no escapes, valid UTF-8), so it can be used raw.
func plainString(lit []byte, fl strFlags) bool {
	if fl&strEscaped != 0 {
		return false
	}
	return fl&strNonASCII == 0 || utf8.Valid(lit[1:len(lit)-1])
}

// unquote decodes a validated string literal (quotes included) the way
// encoding/json does: invalid UTF-8 and lone surrogates become U+FFFD.
// limit ≥ 0 stops decoding once limit bytes were produced; the result is
// then cut at a rune boundary at or below limit.
func unquote(lit []byte, limit int) string {
	s, _ := unquoteLimit(lit, limit)
	return s
}

// unquoteLimit is unquote that also reports whether the whole literal was
// decoded (false when limit cut it short).
func unquoteLimit(lit []byte, limit int) (string, bool) {
	s := lit[1 : len(lit)-1]
	head := s
	if limit >= 0 && len(head) > limit {
		head = head[:limit] // only the part that will be returned matters
	}
	fast := true
	for _, c := range head {
		if c == '\\' || c >= 0x80 {
			fast = false
			break
		}
	}
	if fast {
		return string(head), len(head) == len(s)
	}
	n, max := len(s), int(^uint(0)>>1)
	if limit >= 0 {
		max = limit
		if limit+utf8.UTFMax < n {
			n = limit + utf8.UTFMax
		}
	}
	out, i := decodeChunk(make([]byte, 0, n), s, 0, max)
	complete := i == len(s)
	if limit >= 0 && len(out) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out, complete = out[:cut], false
	}
	return string(out), complete
}

// decodeChunk decodes the validated literal content s (quotes excluded)
// from raw offset i, appending to dst until len(dst) ≥ max or s is
// consumed, and returns dst and the raw offset reached. It lets callers
// search a huge escaped string in fixed-size pieces.
func decodeChunk(dst, s []byte, i, max int) ([]byte, int) {
	for i < len(s) && len(dst) < max {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if r2 := utf16.DecodeRune(r, hex4(s[i+2:])); r2 != utf8.RuneError {
							dst = utf8.AppendRune(dst, r2)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			// Copy a run of plain ASCII at once.
			k := i + 1
			for k < len(s) && k-i < max-len(dst) && s[k] < utf8.RuneSelf && s[k] != '\\' {
				k++
			}
			dst = append(dst, s[i:k]...)
			i = k
		default:
			r, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r) // RuneError for invalid bytes, like encoding/json
			i += size
		}
	}
	return dst, i
}

func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

const hexDigits = "0123456789abcdef"

// AppendQuote appends s as a JSON string literal. Unlike encoding/json it
// does not escape <, > and &, so canonical forms stay readable; invalid
// UTF-8 becomes \ufffd so that the output is always valid JSON.
func AppendQuote(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// keyEquals reports whether the key literal b[ks:ke] decodes to want,
// without allocating for the common unescaped case.
func keyEquals(b []byte, ks, ke int, want string) bool {
	lit := b[ks:ke]
	if len(lit)-2 == len(want) && string(lit[1:len(lit)-1]) == want {
		return true
	}
	for _, c := range lit {
		if c == '\\' {
			return unquote(lit, -1) == want
		}
	}
	return false
}
