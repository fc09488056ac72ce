package payload

import (
	"bytes"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// MinTokenLen is the shortest token Redact searches for outside
// metadata.webhook_token: shorter strings would mask ordinary words.
const MinTokenLen = 8

// searchChunk bounds the memory used to search escaped strings.
const searchChunk = 64 << 10

// edit replaces body[s:e] with repl.
type edit struct {
	s, e int
	repl string
}

// Redact hides webhook secrets in a payload. The value of the top-level
// metadata.webhook_token becomes "•••" (whatever its type), and when token
// is at least MinTokenLen bytes, every other occurrence of token inside a
// string (key or value, escaped or not) or a number is masked too; a
// number that contains it becomes the string "•••". Valid JSON stays valid
// JSON. Invalid input is redacted best-effort: raw occurrences of token and
// the value of any "webhook_token": "…" pair.
//
// Redact works in place to keep one copy of a 30 MiB body: it may
// overwrite body and returns the redacted bytes, which share body's memory
// whenever the result fits in cap(body) (a little spare capacity lets a
// short token grow into the mask). Otherwise it makes exactly one copy.
// Pass a copy if the original is still needed.
func Redact(body []byte, token string) []byte {
	if len(token) < MinTokenLen {
		token = ""
	}
	// One walk validates and collects the edits; invalid input falls back.
	if start := skipWS(body, 0); start < len(body) {
		r := redactor{b: body, token: token, tok: []byte(token)}
		if end, err := r.value(start, 0, ctxRoot); err == nil && skipWS(body, end) == len(body) {
			return apply(body, r.edits)
		}
	}
	return apply(body, redactInvalid(body, token))
}

type ctx uint8

const (
	ctxOther ctx = iota
	ctxRoot
	ctxMetadata
)

type redactor struct {
	b     []byte
	token string
	tok   []byte // token, converted once
	edits []edit
	buf   []byte // scratch for searching escaped strings
}

func (r *redactor) value(i, depth int, c ctx) (int, error) {
	b := r.b
	switch b[i] {
	case '{':
		return eachMember(b, i, depth, func(ks, ke, vs int) (int, error) {
			r.str(ks, ke)
			switch {
			case c == ctxMetadata && keyEquals(b, ks, ke, "webhook_token"):
				end, err := skipValue(b, vs, depth+1)
				r.edits = append(r.edits, edit{vs, end, `"` + Mask + `"`})
				return end, err
			case c == ctxRoot && b[vs] == '{' && keyEquals(b, ks, ke, "metadata"):
				return r.value(vs, depth+1, ctxMetadata)
			}
			return r.value(vs, depth+1, ctxOther)
		})
	case '[':
		return eachElement(b, i, depth, func(_, vs int) (int, error) {
			return r.value(vs, depth+1, ctxOther)
		})
	case '"':
		end, _, err := scanString(b, i)
		if err == nil {
			r.str(i, end)
		}
		return end, err
	case 't', 'f', 'n':
		return skipValue(b, i, depth)
	default:
		end, err := scanNumber(b, i)
		if r.token != "" && err == nil && bytes.Contains(b[i:end], r.tok) {
			r.edits = append(r.edits, edit{i, end, `"` + Mask + `"`})
		}
		return end, err
	}
}

// str masks token inside the validated string literal b[s:e].
func (r *redactor) str(s, e int) {
	if r.token == "" {
		return
	}
	lit := r.b[s:e]
	content, off := lit[1:len(lit)-1], s+1
	if bytes.IndexByte(content, '\\') < 0 && utf8.Valid(content) {
		// The decoded value is the raw content: mask each occurrence where it
		// stands, which keeps the body's length (nearly) unchanged.
		for {
			k := bytes.Index(content, r.tok)
			if k < 0 {
				return
			}
			r.edits = append(r.edits, edit{off + k, off + k + len(r.tok), Mask})
			content, off = content[k+len(r.tok):], off+k+len(r.tok)
		}
	}
	if r.containsDecoded(lit) {
		r.maskEscaped(s, lit)
	}
}

// maskEscaped masks every occurrence of the token in the decoded value of
// an escaped literal starting at body offset s. It walks the literal one
// escape unit at a time, matching decoded bytes with KMP while remembering
// which raw unit each byte came from, and replaces the raw units that spell
// the token with the mask, in place: a 30 MiB answer is never decoded whole.
func (r *redactor) maskEscaped(s int, lit []byte) {
	content := lit[1 : len(lit)-1]
	tok := r.tok
	fail := kmpTable(tok)
	starts := make([]int, len(tok)) // raw unit start of the last len(tok) decoded bytes
	var unit [utf8.UTFMax]byte
	matched, n, lastEnd := 0, 0, 0
	for i := 0; i < len(content); {
		rs := i
		var d []byte
		if c := content[i]; c != '\\' && c < utf8.RuneSelf {
			d = content[i : i+1] // the common case, without a call
			i++
		} else {
			d, i = decodeChunk(unit[:0], content, i, 1)
		}
		for _, c := range d {
			for matched > 0 && tok[matched] != c {
				matched = fail[matched-1]
			}
			if tok[matched] == c {
				matched++
			}
			starts[n%len(tok)] = rs
			n++
			if matched == len(tok) {
				start := max(starts[(n-len(tok))%len(tok)], lastEnd)
				r.edits = append(r.edits, edit{s + 1 + start, s + 1 + i, Mask})
				lastEnd, matched = i, 0
			}
		}
	}
}

// kmpTable is the Knuth–Morris–Pratt failure function of pat.
func kmpTable(pat []byte) []int {
	fail := make([]int, len(pat))
	for i, k := 1, 0; i < len(pat); i++ {
		for k > 0 && pat[i] != pat[k] {
			k = fail[k-1]
		}
		if pat[i] == pat[k] {
			k++
		}
		fail[i] = k
	}
	return fail
}

// containsDecoded searches the decoded value of an escaped literal in
// fixed-size pieces, so a 30 MiB answer full of \n escapes is never
// decoded whole just to learn that the token is not in it.
func (r *redactor) containsDecoded(lit []byte) bool {
	s := lit[1 : len(lit)-1]
	keep := len(r.token) - 1
	if need := min(len(s), searchChunk) + len(r.token) + utf8.UTFMax; cap(r.buf) < need {
		r.buf = make([]byte, 0, need)
	}
	buf := r.buf[:0]
	for i := 0; i < len(s); {
		buf, i = decodeChunk(buf, s, i, min(len(buf)+searchChunk, cap(buf)-utf8.UTFMax))
		if bytes.Contains(buf, r.tok) {
			return true
		}
		if len(buf) > keep {
			buf = buf[:copy(buf, buf[len(buf)-keep:])]
		}
	}
	return false
}

// redactInvalid finds what to mask in a body that is not valid JSON (a
// rejected delivery, or a stored prefix of one).
func redactInvalid(b []byte, token string) []edit {
	var edits []edit
	const key = `"webhook_token"`
	for off := 0; ; {
		k := bytes.Index(b[off:], []byte(key))
		if k < 0 {
			break
		}
		i := skipWS(b, off+k+len(key))
		off = i
		if i >= len(b) || b[i] != ':' {
			continue
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			break
		}
		end := len(b)
		if b[i] == '"' {
			// Mask up to the closing quote, or to the end when the body was cut.
			for j := i + 1; j < len(b); j++ {
				if b[j] == '\\' {
					j++
					continue
				}
				if b[j] == '"' {
					end = j + 1
					break
				}
			}
			edits = append(edits, edit{i, end, `"` + Mask + `"`})
		} else {
			// Not a string: mask up to the next delimiter.
			j := i
			for j < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[j])) {
				j++
			}
			if j == i {
				continue
			}
			end = j
			edits = append(edits, edit{i, end, `"` + Mask + `"`})
		}
		off = end
	}
	if token != "" {
		for off := 0; ; {
			k := bytes.Index(b[off:], []byte(token))
			if k < 0 {
				break
			}
			edits = append(edits, edit{off + k, off + k + len(token), Mask})
			off += k + len(token)
		}
	}
	return mergeEdits(edits)
}

// mergeEdits sorts edits and merges overlapping ones into a single mask,
// so that no byte of a secret survives between two overlapping matches.
func mergeEdits(edits []edit) []edit {
	if len(edits) < 2 {
		return edits
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].s < edits[j].s })
	out := edits[:1]
	for _, e := range edits[1:] {
		last := &out[len(out)-1]
		if e.s < last.e {
			last.e = max(last.e, e.e) // one mask hides both
			continue
		}
		out = append(out, e)
	}
	return out
}

// apply performs sorted, non-overlapping edits on b, in place when the
// moves are all in one direction and fit in cap(b), else into one copy.
func apply(b []byte, edits []edit) []byte {
	if len(edits) == 0 {
		return b
	}
	shift, neverRight, neverLeft := 0, true, true
	for _, e := range edits {
		shift += len(e.repl) - (e.e - e.s)
		neverRight = neverRight && shift <= 0
		neverLeft = neverLeft && shift >= 0
	}
	newLen := len(b) + shift
	switch {
	case neverRight:
		// Every byte moves left (or stays): copy front to back.
		w := edits[0].s
		for j, e := range edits {
			next := len(b)
			if j+1 < len(edits) {
				next = edits[j+1].s
			}
			w += copy(b[w:], e.repl)
			w += copy(b[w:], b[e.e:next])
		}
		return b[:w]
	case neverLeft && newLen <= cap(b):
		// Every byte moves right (or stays): copy back to front.
		nb := b[:newLen]
		r, w := len(b), newLen
		for j := len(edits) - 1; j >= 0; j-- {
			e := edits[j]
			w -= r - e.e
			copy(nb[w:], b[e.e:r])
			w -= len(e.repl)
			copy(nb[w:], e.repl)
			r = e.s
		}
		return nb
	}
	out := make([]byte, 0, newLen)
	prev := 0
	for _, e := range edits {
		out = append(out, b[prev:e.s]...)
		out = append(out, e.repl...)
		prev = e.e
	}
	return append(out, b[prev:]...)
}

// RedactHeaders flattens h into one value per name (joined with ", ") and
// masks credentials: Authorization and Proxy-Authorization keep their
// scheme ("Bearer •••"); Cookie, Set-Cookie, X-Api-Key and any header
// whose name mentions a token, secret, password, session or API key become
// "•••". Names keep the spelling they have in h.
func RedactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, vals := range h {
		switch sensitivity(name) {
		case keepScheme:
			masked := make([]string, len(vals))
			for i, v := range vals {
				masked[i] = maskCredential(v)
			}
			out[name] = strings.Join(masked, ", ")
		case maskAll:
			out[name] = Mask
		default:
			out[name] = strings.Join(vals, ", ")
		}
	}
	return out
}

type headerClass uint8

const (
	public headerClass = iota
	keepScheme
	maskAll
)

func sensitivity(name string) headerClass {
	var buf [64]byte
	n := name
	if len(name) <= len(buf) {
		// Lower-case without allocating: this runs for every header of every delivery.
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		n = string(buf[:len(name)]) // does not escape: only compared below
	} else {
		n = strings.ToLower(name)
	}
	switch n {
	case "authorization", "proxy-authorization":
		return keepScheme
	case "cookie", "set-cookie", "x-api-key", "api-key":
		return maskAll
	}
	for _, w := range []string{"token", "secret", "password", "session", "api-key", "apikey", "api_key"} {
		if strings.Contains(n, w) {
			return maskAll
		}
	}
	return public
}

// maskCredential keeps an auth scheme such as "Bearer" and masks the rest.
func maskCredential(v string) string {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || strings.TrimSpace(rest) == "" || !isScheme(scheme) {
		return Mask
	}
	return scheme + " " + Mask
}

func isScheme(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
