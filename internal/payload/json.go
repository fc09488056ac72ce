package payload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// A jsontext.Decoder reading a *bytes.Buffer parses the buffer in place,
// and ReadValue hands back sub-slices of it. The options make it
// accept exactly what encoding/json accepts (a fuzz test checks this):
// duplicate names (the last one wins) and invalid UTF-8 inside strings.

// SyntaxError reports invalid JSON and where it was found.
type SyntaxError struct {
	Offset int    // byte offset of the problem
	Msg    string // what was wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// reader is a pooled decoder over one body.
type reader struct {
	buf bytes.Buffer
	dec jsontext.Decoder
	b   []byte // the body
}

var readers = sync.Pool{New: func() any { return new(reader) }}

func open(b []byte) *reader {
	r := readers.Get().(*reader)
	r.buf = *bytes.NewBuffer(b)
	r.b = b
	r.dec.Reset(&r.buf, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	return r
}

// close returns r to the pool without keeping the body alive.
func (r *reader) close() {
	r.buf, r.b = bytes.Buffer{}, nil
	r.dec.Reset(&r.buf)
	readers.Put(r)
}

// value reads the next value (or object name) and returns its raw bytes
// and its span in the body.
func (r *reader) value() ([]byte, span, error) {
	v, err := r.dec.ReadValue()
	if err != nil {
		return nil, span{}, r.fail(err)
	}
	e := int(r.dec.InputOffset())
	return v, span{e - len(v), e}, nil
}

// token reads a delimiter or scalar token.
func (r *reader) token() error {
	_, err := r.dec.ReadToken()
	return r.fail(err)
}

func (r *reader) skip() error { return r.fail(r.dec.SkipValue()) }

// each reads the object or array starting at the next token up to its
// end delimiter, calling fn for every member (fn reads its name and
// value) or element, with its index.
func (r *reader) each(end jsontext.Kind, fn func(i int) error) error {
	if _, err := r.dec.ReadToken(); err != nil {
		return err
	}
	for i := 0; r.dec.PeekKind() != end; i++ {
		if err := fn(i); err != nil {
			return err
		}
	}
	_, err := r.dec.ReadToken()
	return err
}

// end checks that nothing but white space follows the top-level value.
func (r *reader) end() error {
	if r.dec.PeekKind() != 0 {
		return &SyntaxError{Offset: int(r.dec.InputOffset()), Msg: "unexpected data after the top-level value"}
	}
	if _, err := r.dec.ReadToken(); err != io.EOF {
		return r.fail(err)
	}
	return nil
}

// fail turns jsontext's errors into a SyntaxError. Its JSON pointer is
// dropped on purpose: it quotes object names, which a sender controls.
func (r *reader) fail(err error) error {
	if err == nil {
		return nil
	}
	var se *jsontext.SyntacticError
	switch {
	case errors.As(err, new(*SyntaxError)):
		return err // from value or skip, already turned
	case errors.As(err, &se) && !errors.Is(se.Err, io.ErrUnexpectedEOF):
		msg := "invalid JSON"
		if se.Err != nil {
			msg = se.Err.Error()
		}
		return &SyntaxError{Offset: int(se.ByteOffset), Msg: msg}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if len(bytes.TrimLeft(r.b, " \t\r\n")) == 0 {
			return &SyntaxError{Offset: len(r.b), Msg: "empty body"}
		}
		return &SyntaxError{Offset: len(r.b), Msg: "unexpected end of input"}
	}
	return &SyntaxError{Offset: int(r.dec.InputOffset()), Msg: err.Error()}
}

// unquote decodes a validated string literal the way encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD). limit ≥ 0 keeps at
// most limit bytes, cut at a rune boundary, and decodes only the part of
// the literal needed for them; complete is false when something was cut.
func unquote(lit []byte, limit int) (s string, complete bool) {
	content := lit[1 : len(lit)-1]
	if bytes.IndexByte(content, '\\') < 0 && utf8.Valid(content) {
		if limit >= 0 && len(content) > limit {
			return string(content[:runeCut(content, limit)]), false
		}
		return string(content), true
	}
	if limit >= 0 {
		// Decode a growing prefix of the literal, left open: AppendUnquote
		// stops before an escape or rune the cut split. Once it yields 6
		// bytes past limit, what the cut spoiled (at most a U+FFFD for a
		// split surrogate pair) lies beyond the part kept.
		var buf [1024]byte // the receiver's excerpt fits: one allocation, the string
		for p := limit + 16; p < len(content); p *= 4 {
			b, _ := jsontext.AppendUnquote(buf[:0], lit[:1+p])
			if len(b) >= limit+6 {
				return string(b[:runeCut(b, limit)]), false
			}
		}
	}
	b, _ := jsontext.AppendUnquote(make([]byte, 0, len(lit)), lit)
	if limit >= 0 && len(b) > limit {
		return string(b[:runeCut(b, limit)]), false
	}
	return string(b), true
}

// runeCut returns the largest rune boundary of b at or below n.
func runeCut(b []byte, n int) int {
	for n > 0 && n < len(b) && !utf8.RuneStart(b[n]) {
		n--
	}
	return n
}

// unescape decodes the escape that starts at c[i] == '\\': the rune it
// stands for (lone surrogates are U+FFFD, as encoding/json decodes them)
// and its length, or ok=false when it is not a valid escape.
func unescape(c []byte, i int) (r rune, n int, ok bool) {
	if k := strings.IndexByte(`"\/bfnrt`, c[min(i+1, len(c)-1)]); k >= 0 && i+1 < len(c) {
		return rune("\"\\/\b\f\n\r\t"[k]), 2, true // the fast path: \n in every answer
	}
	for _, n := range []int{12, 6} { // a surrogate pair, or one \uXXXX
		if i+n > len(c) || c[i+1] != 'u' || n == 12 && c[i+6] != '\\' {
			continue
		}
		var in, out [14]byte // on the stack: this runs for every escape of a body
		lit := append(append(append(in[:0], '"'), c[i:i+n]...), '"')
		if d, err := jsontext.AppendUnquote(out[:0], lit); n == 12 && utf8.RuneCount(d) == 1 && err == nil || n < 12 && len(d) > 0 {
			r, _ := utf8.DecodeRune(d)
			return r, n, true
		}
	}
	return 0, 0, false
}

// spelled reports whether string content c spells tok from offset i on
// (each character raw or escaped) and returns where that spelling ends.
// i must not be inside an escape. In JSON (inJSON) a backslash always
// starts an escape; in a body that is not JSON it may stand for itself.
func spelled(c []byte, i int, tok string, inJSON bool) (int, bool) {
	for j := 0; j < len(tok); {
		if i >= len(c) {
			return 0, false
		}
		if c[i] == '\\' {
			want, size := utf8.DecodeRuneInString(tok[j:])
			if r, n, ok := unescape(c, i); ok && r == want && want != utf8.RuneError {
				i, j = i+n, j+size
				continue
			}
			if inJSON {
				return 0, false // the backslash of \" is no backslash of tok
			}
		}
		if c[i] != tok[j] {
			return 0, false
		}
		i, j = i+1, j+1
	}
	return i, true
}
