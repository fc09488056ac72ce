package payload

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sailresearch/sail/internal/event"
)

// MaxDiffs caps the paths Compare returns.
const MaxDiffs = 20

// maxCollect bounds the work Compare does on wildly different documents.
const maxCollect = 10000

// maxDiffValue caps each side of a Difference.
const maxDiffValue = 1024

// Compare reports whether two payloads are the same JSON document once
// canonicalised and with metadata.webhook_token redacted on both sides,
// which is how a webhook body is checked against GET /v1/responses/{id}.
// diffs lists up to MaxDiffs JSON paths where they differ, sorted, written
// like `output[0].content[0].text` (`$` for the whole document, `["a b"]`
// for keys that are not identifiers). Object members compare whatever
// their order (the last of duplicate names wins, as in encoding/json),
// strings by their decoded value, numbers by their exact text. err is set
// when either side is not valid JSON.
func Compare(a, b []byte) (equal bool, diffs []string, err error) {
	c, err := compare(a, b)
	return c.Equal, c.Paths, err
}

// Comparison is what Diff found.
type Comparison struct {
	Equal bool
	Paths []string // as Compare returns them
	// Diffs gives, per path, both sides as compact JSON (at most 1 KiB
	// each, longer values cut and ending in "…"; an absent side is "").
	Diffs []event.Difference
}

// Diff compares a webhook body with GET's answer like Compare, on copies
// of both redacted with token, so that the values it returns are safe to
// show and a secret masked on one side only does not count as a change.
func Diff(webhook, get []byte, token string) (Comparison, error) {
	return compare(Redact(bytes.Clone(webhook), token), Redact(bytes.Clone(get), token))
}

type diff struct {
	path string
	a, b []byte // the raw values; nil where absent
}

func compare(a, b []byte) (Comparison, error) {
	av, err := document(a)
	if err != nil {
		return Comparison{}, fmt.Errorf("first payload: %w", err)
	}
	bv, err := document(b)
	if err != nil {
		return Comparison{}, fmt.Errorf("second payload: %w", err)
	}
	var c comparer
	if err := c.cmp(av, bv, nil, ctxRoot); err != nil {
		return Comparison{}, err
	}
	slices.SortStableFunc(c.diffs, func(x, y diff) int { return strings.Compare(x.path, y.path) })
	c.diffs = c.diffs[:min(len(c.diffs), MaxDiffs)]
	out := Comparison{Equal: len(c.diffs) == 0}
	for _, d := range c.diffs {
		out.Paths = append(out.Paths, d.path)
		out.Diffs = append(out.Diffs, event.Difference{Path: d.path, Webhook: display(d.a), Get: display(d.b)})
	}
	return out, nil
}

// document validates b and returns its value without surrounding space.
func document(b []byte) ([]byte, error) {
	r := open(b)
	defer r.close()
	v, _, err := r.value()
	if err != nil {
		return nil, err
	}
	return v, r.end()
}

// display shows a raw value compactly, cut to maxDiffValue bytes.
func display(v []byte) string {
	if v == nil {
		return ""
	}
	if len(v) <= 64*maxDiffValue {
		c := jsontext.Value(bytes.Clone(v))
		if c.Compact() == nil {
			v = c
		}
	}
	if len(v) > maxDiffValue {
		return string(v[:runeCut(v, maxDiffValue-len("…"))]) + "…"
	}
	return string(v)
}

type ctx uint8

const (
	ctxOther ctx = iota
	ctxRoot
	ctxMetadata
)

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
		switch n := parts[j]; {
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
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

type comparer struct{ diffs []diff }

func (c *comparer) diff(p *pathNode, a, b []byte) {
	if len(c.diffs) < maxCollect {
		c.diffs = append(c.diffs, diff{p.String(), a, b})
	}
}

type member struct {
	key string
	v   []byte
}

// children lists the members of the object v (sorted by name, the last
// duplicate winning) or the elements of the array v (key "").
func children(v []byte) ([]member, error) {
	r := open(v)
	defer r.close()
	closing := jsontext.Kind(']')
	if v[0] == '{' {
		closing = '}'
	}
	if err := r.token(); err != nil {
		return nil, err
	}
	var ms []member
	for {
		more, err := r.more(closing)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		var m member
		if closing == '}' {
			k, _, err := r.value()
			if err != nil {
				return nil, err
			}
			m.key = string(name(k))
		}
		if m.v, _, err = r.value(); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if closing == '}' {
		slices.SortStableFunc(ms, func(x, y member) int { return strings.Compare(x.key, y.key) })
		out := ms[:0]
		for j, m := range ms {
			if j+1 < len(ms) && ms[j+1].key == m.key {
				continue // a later duplicate wins
			}
			out = append(out, m)
		}
		ms = out
	}
	return ms, nil
}

func kindOf(c byte) byte {
	switch c {
	case '{', '[', '"', 'n':
		return c
	case 't', 'f':
		return 't'
	}
	return '0'
}

func (c *comparer) cmp(a, b []byte, p *pathNode, cx ctx) error {
	if len(c.diffs) >= maxCollect {
		return nil
	}
	if kindOf(a[0]) != kindOf(b[0]) {
		c.diff(p, a, b)
		return nil
	}
	switch a[0] {
	case '{', '[':
		am, err := children(a)
		if err != nil {
			return err
		}
		bm, err := children(b)
		if err != nil {
			return err
		}
		if a[0] == '[' {
			for k := range max(len(am), len(bm)) {
				child := &pathNode{parent: p, idx: k}
				switch {
				case k >= len(am):
					c.diff(child, nil, bm[k].v)
				case k >= len(bm):
					c.diff(child, am[k].v, nil)
				default:
					if err := c.cmp(am[k].v, bm[k].v, child, ctxOther); err != nil {
						return err
					}
				}
			}
			return nil
		}
		// Both lists are sorted by name: merge them.
		for x, y := 0, 0; x < len(am) || y < len(bm); {
			switch {
			case y == len(bm) || x < len(am) && am[x].key < bm[y].key:
				c.diff(&pathNode{parent: p, key: am[x].key, idx: -1}, am[x].v, nil)
				x++
			case x == len(am) || bm[y].key < am[x].key:
				c.diff(&pathNode{parent: p, key: bm[y].key, idx: -1}, nil, bm[y].v)
				y++
			default:
				key, sub := am[x].key, ctxOther
				switch {
				case cx == ctxMetadata && key == "webhook_token":
					x, y = x+1, y+1
					continue // redacted on both sides: equal whatever the values
				case cx == ctxRoot && key == "metadata":
					sub = ctxMetadata
				}
				if err := c.cmp(am[x].v, bm[y].v, &pathNode{parent: p, key: key, idx: -1}, sub); err != nil {
					return err
				}
				x, y = x+1, y+1
			}
		}
	case '"':
		if !bytes.Equal(a, b) {
			as, _ := unquote(a, -1)
			bs, _ := unquote(b, -1)
			if as != bs {
				c.diff(p, a, b)
			}
		}
	default:
		if !bytes.Equal(a, b) {
			c.diff(p, a, b)
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
