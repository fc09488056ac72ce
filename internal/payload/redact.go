package payload

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sailresearch/sail/internal/secret"
)

// maxNeedle bounds the secrets searched for: metadata.webhook_token
// values longer than this are masked where they stand but not searched
// for elsewhere, and so are more than maxNeedles distinct values.
const (
	maxNeedle  = 1024
	maxNeedles = 4
)

const ws = " \t\r\n"

const quotedMask = `"` + secret.Mask + `"`

// edit replaces body[s:e] with repl.
type edit struct {
	s, e int
	repl string
}

// Redact hides webhook secrets in a payload. The value of the top-level
// metadata.webhook_token becomes "•••" (whatever its type); token and
// that value (when they are at least secret.MinLen bytes) are masked
// wherever else they occur inside a string, key or value, spelled raw or
// with escapes; a number that contains one becomes the string "•••".
// Valid JSON stays valid JSON. Invalid input is redacted best-effort: the
// value of any "webhook_token" key (in any spelling) and every spelling
// of token.
//
// Redact works in place to keep one copy of a 30 MiB body: it may
// overwrite body and returns the redacted bytes, which share body's memory
// whenever the result fits in cap(body). Otherwise it makes exactly one
// copy. Pass a copy if the original is still needed.
func Redact(body []byte, token string) []byte {
	in, err := inspect(body)
	var noe *NotObjectError
	switch {
	case err == nil:
		edits, _ := plan(body, token, in.tokenSpans)
		return apply(body, edits)
	case errors.As(err, &noe):
		edits, _ := plan(body, token, nil)
		return apply(body, edits)
	}
	return apply(body, redactInvalid(body, token))
}

// Prepare is InspectLimit and Redact in one go, for the receiver: the Info
// describes the redacted body (a secret in "id" or in the answer is masked
// there too), except HasToken, which tells whether the sender put a token
// in metadata. When no secret occurs outside metadata.webhook_token (the
// usual case, checked with a search of the raw bytes), the one walk that
// inspected the body also found what to mask. Like Redact, it works in
// place. On an error the body is still redacted (best-effort, as Redact
// does for invalid JSON).
func Prepare(body []byte, token string, maxText int) (Info, []byte, error) {
	in, err := inspect(body)
	if err != nil {
		return Info{}, Redact(body, token), err
	}
	edits, elsewhere := plan(body, token, in.tokenSpans)
	if !elsewhere {
		info := in.info(maxText) // before apply rewrites what the spans refer to
		return info, apply(body, edits), nil
	}
	body = apply(body, edits)
	again, err := inspect(body)
	if err != nil {
		return Info{}, body, err // cannot happen: masking keeps JSON valid
	}
	info := again.info(maxText)
	info.HasToken = in.hasToken
	return info, body, nil
}

// plan returns the edits that redact a valid body whose root
// metadata.webhook_token values are at spans, and whether a secret
// occurs anywhere else.
func plan(body []byte, token string, spans []span) ([]edit, bool) {
	edits := make([]edit, 0, len(spans))
	for _, sp := range spans {
		edits = append(edits, edit{sp.s, sp.e, quotedMask})
	}
	ns := needles(body, token, spans)
	if !mayOccur(body, ns, spans) {
		return edits, false
	}
	r := open(body)
	defer r.close()
	for {
		switch r.dec.PeekKind() {
		case 0:
			return mergeEdits(edits), true
		case '{', '[', '}', ']':
			if r.token() != nil {
				return mergeEdits(edits), true
			}
			continue
		}
		v, sp, err := r.value()
		switch {
		case err != nil:
			return mergeEdits(edits), true
		case v[0] == '"':
			edits = maskString(edits, v[1:len(v)-1], sp.s+1, ns, true)
		case v[0] != 't' && v[0] != 'f' && v[0] != 'n':
			for _, n := range ns {
				if bytes.Contains(v, []byte(n)) {
					edits = append(edits, edit{sp.s, sp.e, quotedMask})
					break
				}
			}
		}
	}
}

// needles lists the secrets to search for: token and the string values
// of metadata.webhook_token, when long enough to search for safely.
func needles(body []byte, token string, spans []span) []string {
	var ns []string
	add := func(s string) {
		if len(s) >= secret.MinLen && len(s) <= maxNeedle && len(ns) < maxNeedles &&
			utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError) && !slices.Contains(ns, s) {
			ns = append(ns, s)
		}
	}
	add(token)
	for _, sp := range spans {
		if body[sp.s] == '"' && sp.e-sp.s <= 6*maxNeedle+2 {
			s, _ := unquote(body[sp.s:sp.e], -1)
			add(s)
		}
	}
	return ns
}

// mayOccur reports whether a needle may occur in the body outside the
// spans: raw, or spelled with an escape of one of its characters.
func mayOccur(body []byte, ns []string, spans []span) bool {
	if len(ns) == 0 {
		return false
	}
	for _, n := range ns {
		for off := 0; ; {
			k := index(body[off:], n)
			if k < 0 {
				break
			}
			s, e := off+k, off+k+len(n)
			if !slices.ContainsFunc(spans, func(sp span) bool { return s >= sp.s && e <= sp.e }) {
				return true
			}
			off = e
		}
	}
	all := strings.Join(ns, "")
	// Needles rarely hold a character with a two-byte escape (\n, \"…):
	// then only \u escapes can spell one, and one search for "\u" skips
	// the \n of a long answer, which were a fifth of Prepare at 200 KB.
	esc := []byte(`\u`)
	if strings.ContainsAny(all, "\"\\/\b\f\n\r\t") {
		esc = esc[:1]
	}
	for i := 0; ; {
		k := bytes.Index(body[i:], esc)
		if k < 0 {
			return false
		}
		i += k
		r, n, ok := unescape(body, i)
		if !ok {
			return true
		}
		if strings.ContainsRune(all, r) {
			return true
		}
		i += n
	}
}

// index is bytes.Index(s, n), anchored at n's first upper-case letter or
// digit if it has one: bytes.Index skips ahead to the first byte of n and
// gives up skipping after a few false starts, which a lower-case letter
// makes at every JSON key ("tok…" against "status", "metadata"…).
func index(s []byte, n string) int {
	p := strings.IndexFunc(n, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' })
	if p < 0 || len(s) < len(n) {
		return bytes.Index(s, []byte(n))
	}
	for off := p; off <= len(s); {
		k := bytes.Index(s[off:], []byte(n[p:]))
		if k < 0 {
			return -1
		}
		if st := off + k - p; string(s[st:st+p]) == n[:p] {
			return st
		}
		off += k + 1
	}
	return -1
}

// maskString adds the edits that mask each needle in the string content
// c found at body offset off. Without escapes the decoded value is the
// raw content and a byte search finds every occurrence; with escapes each
// possible start is tried, and the escapes that spell a needle are
// replaced along with its raw characters, keeping the literal valid.
func maskString(edits []edit, c []byte, off int, ns []string, inJSON bool) []edit {
	escaped := bytes.IndexByte(c, '\\') >= 0
	for _, n := range ns {
		for i := 0; i < len(c); {
			stop := len(c)
			if escaped {
				if k := bytes.IndexByte(c[i:], '\\'); k >= 0 {
					stop = i + k
				}
			}
			for i < stop { // a run without escapes: a match starts with n[0]
				k := bytes.IndexByte(c[i:stop], n[0])
				if k < 0 {
					i = stop
					break
				}
				i += k
				if end, ok := spelled(c, i, n, inJSON); ok {
					edits = append(edits, edit{off + i, off + end, secret.Mask})
					i = end
				} else {
					i++
				}
			}
			if i != stop || stop == len(c) {
				continue // past the escape already, or done
			}
			if end, ok := spelled(c, i, n, inJSON); ok {
				edits = append(edits, edit{off + i, off + end, secret.Mask})
				i = end
			} else {
				_, l, _ := unescape(c, i)
				i += max(l, 1)
			}
		}
	}
	return edits
}

// redactInvalid finds what to mask in a body that is not valid JSON (a
// rejected delivery, or a stored prefix of one): the value after any
// "webhook_token" key, in whatever spelling, and every spelling of token.
func redactInvalid(b []byte, token string) []edit {
	var edits []edit
	for off := 0; ; {
		k := bytes.IndexByte(b[off:], '"')
		if k < 0 {
			break
		}
		q := off + k
		off = q + 1
		ke, ok := spelled(b, q+1, "webhook_token", false)
		if !ok || ke >= len(b) || b[ke] != '"' {
			continue
		}
		i := len(b) - len(bytes.TrimLeft(b[ke+1:], ws))
		if i >= len(b) || b[i] != ':' {
			continue
		}
		i = len(b) - len(bytes.TrimLeft(b[i+1:], ws))
		if i >= len(b) {
			break
		}
		end := len(b)
		if b[i] == '"' {
			// secret.Mask up to the closing quote, or to the end when the body was cut.
			for j := i + 1; j < len(b); j++ {
				if b[j] == '\\' {
					j++
				} else if b[j] == '"' {
					end = j + 1
					break
				}
			}
		} else if end = i + bytes.IndexAny(b[i:], ",}] \t\r\n"); end < i {
			end = len(b)
		}
		if end > i {
			edits = append(edits, edit{i, end, quotedMask})
			off = end
		}
	}
	if len(token) >= secret.MinLen {
		edits = maskString(edits, b, 0, []string{token}, false) // the whole body, as if one string
		// And raw: in a body that is not JSON, "\\" need not be an escape.
		for off := 0; ; {
			k := bytes.Index(b[off:], []byte(token))
			if k < 0 {
				break
			}
			edits = append(edits, edit{off + k, off + k + len(token), secret.Mask})
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
	slices.SortStableFunc(edits, func(x, y edit) int { return x.s - y.s })
	out := edits[:1]
	for _, e := range edits[1:] {
		if last := &out[len(out)-1]; e.s < last.e {
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
