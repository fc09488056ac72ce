package payload

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDiffs caps the paths Compare returns.
const MaxDiffs = 20

// maxCollect bounds the work Compare does on wildly different documents.
const maxCollect = 10000

// Canonical returns body in a canonical form: object keys sorted (by
// bytes), no insignificant whitespace, strings re-escaped minimally (no
// HTML escaping, invalid UTF-8 as \ufffd), numbers exactly as written and
// duplicate keys resolved like encoding/json (the last one wins).
func Canonical(body []byte) ([]byte, error) {
	start, _, err := parseDocument(body)
	if err != nil {
		return nil, err
	}
	out, _, err := canon(make([]byte, 0, len(body)), body, start, 0)
	return out, err
}

type member struct {
	key string
	vs  int
}

// members collects an object's members, sorted by key, last duplicate
// winning.
func members(b []byte, i, depth int) ([]member, int, error) {
	var ms []member
	end, err := eachMember(b, i, depth, func(ks, ke, vs int) (int, error) {
		ms = append(ms, member{unquote(b[ks:ke], -1), vs})
		return skipValue(b, vs, depth+1)
	})
	if err != nil {
		return nil, end, err
	}
	sort.SliceStable(ms, func(x, y int) bool { return ms[x].key < ms[y].key })
	out := ms[:0]
	for j, m := range ms {
		if j+1 < len(ms) && ms[j+1].key == m.key {
			continue // a later duplicate wins
		}
		out = append(out, m)
	}
	return out, end, nil
}

func canon(dst, b []byte, i, depth int) ([]byte, int, error) {
	switch b[i] {
	case '{':
		ms, end, err := members(b, i, depth)
		if err != nil {
			return dst, end, err
		}
		dst = append(dst, '{')
		for j, m := range ms {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = AppendQuote(dst, m.key)
			dst = append(dst, ':')
			if dst, _, err = canon(dst, b, m.vs, depth+1); err != nil {
				return dst, end, err
			}
		}
		return append(dst, '}'), end, nil
	case '[':
		dst = append(dst, '[')
		end, err := eachElement(b, i, depth, func(idx, vs int) (int, error) {
			if idx > 0 {
				dst = append(dst, ',')
			}
			var end int
			var err error
			dst, end, err = canon(dst, b, vs, depth+1)
			return end, err
		})
		return append(dst, ']'), end, err
	case '"':
		end, _, err := scanString(b, i)
		if err != nil {
			return dst, end, err
		}
		return AppendQuote(dst, unquote(b[i:end], -1)), end, nil
	default:
		end, err := skipValue(b, i, depth)
		return append(dst, b[i:end]...), end, err
	}
}

// Compare reports whether two payloads are the same JSON document once
// canonicalised and with metadata.webhook_token redacted on both sides,
// which is how a webhook body is checked against GET /v1/responses/{id}.
// diffs lists up to MaxDiffs JSON paths where they differ, sorted, written
// like `output[0].content[0].text` (`$` for the whole document, `["a b"]`
// for keys that are not identifiers). Numbers compare by their exact text.
// err is set when either side is not valid JSON.
func Compare(a, b []byte) (equal bool, diffs []string, err error) {
	as, _, err := parseDocument(a)
	if err != nil {
		return false, nil, fmt.Errorf("first payload: %w", err)
	}
	bs, _, err := parseDocument(b)
	if err != nil {
		return false, nil, fmt.Errorf("second payload: %w", err)
	}
	c := comparer{a: a, b: b}
	if err := c.cmp(as, bs, 0, nil, ctxRoot); err != nil {
		return false, nil, err
	}
	sort.Strings(c.diffs)
	if len(c.diffs) > MaxDiffs {
		c.diffs = c.diffs[:MaxDiffs]
	}
	return len(c.diffs) == 0, c.diffs, nil
}

// pathNode is a lazily rendered JSON path: most nodes are never printed.
type pathNode struct {
	parent *pathNode
	key    string
	idx    int // ≥ 0 for array elements
}

func (p *pathNode) String() string {
	if p == nil {
		return "$"
	}
	var parts []*pathNode
	for n := p; n != nil; n = n.parent {
		parts = append(parts, n)
	}
	var sb strings.Builder
	for j := len(parts) - 1; j >= 0; j-- {
		n := parts[j]
		switch {
		case n.idx >= 0:
			sb.WriteString("[" + strconv.Itoa(n.idx) + "]")
		case isIdent(n.key):
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(n.key)
		default:
			sb.WriteString("[" + string(AppendQuote(nil, n.key)) + "]")
		}
	}
	return sb.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

type comparer struct {
	a, b  []byte
	diffs []string
}

func (c *comparer) diff(p *pathNode) {
	if len(c.diffs) < maxCollect {
		c.diffs = append(c.diffs, p.String())
	}
}

func kindByte(ch byte) byte {
	switch ch {
	case '{', '[', '"', 'n':
		return ch
	case 't', 'f':
		return 't'
	}
	return '0'
}

func (c *comparer) cmp(ai, bi, depth int, p *pathNode, cx ctx) error {
	if len(c.diffs) >= maxCollect {
		return nil
	}
	a, b := c.a, c.b
	if kindByte(a[ai]) != kindByte(b[bi]) {
		c.diff(p)
		return nil
	}
	switch a[ai] {
	case '{':
		am, _, err := members(a, ai, depth)
		if err != nil {
			return err
		}
		bm, _, err := members(b, bi, depth)
		if err != nil {
			return err
		}
		// Both lists are sorted by key: merge them.
		x, y := 0, 0
		for x < len(am) || y < len(bm) {
			switch {
			case y == len(bm) || x < len(am) && am[x].key < bm[y].key:
				c.diff(&pathNode{parent: p, key: am[x].key, idx: -1})
				x++
			case x == len(am) || bm[y].key < am[x].key:
				c.diff(&pathNode{parent: p, key: bm[y].key, idx: -1})
				y++
			default:
				key := am[x].key
				child := &pathNode{parent: p, key: key, idx: -1}
				switch {
				case cx == ctxMetadata && key == "webhook_token":
					// Redacted on both sides: equal whatever the values.
				case cx == ctxRoot && key == "metadata":
					if err := c.cmp(am[x].vs, bm[y].vs, depth+1, child, ctxMetadata); err != nil {
						return err
					}
				default:
					if err := c.cmp(am[x].vs, bm[y].vs, depth+1, child, ctxOther); err != nil {
						return err
					}
				}
				x++
				y++
			}
		}
	case '[':
		var ael, bel []int
		collect := func(buf []byte, i int, dst *[]int) error {
			_, err := eachElement(buf, i, depth, func(_, vs int) (int, error) {
				*dst = append(*dst, vs)
				return skipValue(buf, vs, depth+1)
			})
			return err
		}
		if err := collect(a, ai, &ael); err != nil {
			return err
		}
		if err := collect(b, bi, &bel); err != nil {
			return err
		}
		for k := 0; k < max(len(ael), len(bel)); k++ {
			child := &pathNode{parent: p, idx: k}
			if k >= len(ael) || k >= len(bel) {
				c.diff(child)
				continue
			}
			if err := c.cmp(ael[k], bel[k], depth+1, child, ctxOther); err != nil {
				return err
			}
		}
	case '"':
		ae, _, err := scanString(a, ai)
		if err != nil {
			return err
		}
		be, _, err := scanString(b, bi)
		if err != nil {
			return err
		}
		if string(a[ai:ae]) != string(b[bi:be]) && unquote(a[ai:ae], -1) != unquote(b[bi:be], -1) {
			c.diff(p)
		}
	default:
		ae, err := skipValue(a, ai, depth)
		if err != nil {
			return err
		}
		be, err := skipValue(b, bi, depth)
		if err != nil {
			return err
		}
		if string(a[ai:ae]) != string(b[bi:be]) {
			c.diff(p)
		}
	}
	return nil
}

// Excerpt returns the first non-blank line of text with runs of white
// space collapsed to one space, at most n runes long. When anything was
// left out (the rest of the line or further lines) it ends with "…",
// which counts towards n. It reads only as much of text as it needs.
func Excerpt(text string, n int) string {
	if n <= 0 {
		return ""
	}
	buf := make([]byte, 0, min(len(text), 4*n)+len("…"))
	count, started, space, cut := 0, false, false, false
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		switch {
		case r == '\n' && started:
			cut = strings.TrimSpace(text[i:]) != ""
			i = len(text)
		case unicode.IsSpace(r):
			space = space || started
		case count+1 > n || space && count+2 > n:
			cut = true
			i = len(text)
		default:
			if space {
				buf = append(buf, ' ')
				count++
				space = false
			}
			buf = utf8.AppendRune(buf, r)
			count++
			started = true
		}
	}
	if cut {
		// Make room for the ellipsis: drop the last rune, then a trailing space.
		if count >= n {
			_, size := utf8.DecodeLastRune(buf)
			buf = buf[:len(buf)-size]
		}
		for len(buf) > 0 && buf[len(buf)-1] == ' ' {
			buf = buf[:len(buf)-1]
		}
		buf = append(buf, "…"...)
	}
	return string(buf)
}
