package run

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sailresearch/sail/internal/event"
)

// maxDiffValue bounds each side of a Difference: the Diff view shows where
// the two payloads part, not a second copy of a long answer.
const maxDiffValue = 2048

// differences gives, for each path payload.Compare reported, the value on
// each side as compact JSON ("" where the path is absent). Both payloads
// must already be redacted.
func differences(webhook, get []byte, paths []string) []event.Difference {
	wv, werr := decode(webhook)
	gv, gerr := decode(get)
	if werr != nil || gerr != nil {
		return nil
	}
	out := make([]event.Difference, 0, len(paths))
	for _, p := range paths {
		segs, ok := parsePath(p)
		if !ok {
			out = append(out, event.Difference{Path: p})
			continue
		}
		out = append(out, event.Difference{Path: p, Webhook: valueAt(wv, segs), Get: valueAt(gv, segs)})
	}
	return out
}

func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers keep their text, as Compare compares them
	var v any
	err := dec.Decode(&v)
	return v, err
}

// segment is one step of a path: an object key or an array index.
type segment struct {
	key   string
	index int // ≥ 0 for an array index
}

// parsePath reads Compare's path syntax: `$`, `a.b`, `a[0]`, `a["x y"]`.
func parsePath(p string) ([]segment, bool) {
	if p == "$" {
		return nil, true
	}
	var segs []segment
	for i := 0; i < len(p); {
		switch c := p[i]; {
		case c == '.':
			i++
		case c == '[' && i+1 < len(p) && p[i+1] == '"':
			// A quoted key: find its closing quote, skipping escapes.
			j := i + 2
			for j < len(p) && p[j] != '"' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			if j+1 >= len(p) || p[j+1] != ']' {
				return nil, false
			}
			var key string
			if json.Unmarshal([]byte(p[i+1:j+1]), &key) != nil {
				return nil, false
			}
			segs = append(segs, segment{key: key, index: -1})
			i = j + 2
		case c == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(p[i+1 : i+j])
			if err != nil || n < 0 {
				return nil, false
			}
			segs = append(segs, segment{index: n})
			i += j + 1
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			segs = append(segs, segment{key: p[i:j], index: -1})
			i = j
		}
	}
	return segs, true
}

func valueAt(v any, segs []segment) string {
	for _, s := range segs {
		switch t := v.(type) {
		case map[string]any:
			if s.index >= 0 {
				return ""
			}
			var ok bool
			if v, ok = t[s.key]; !ok {
				return ""
			}
		case []any:
			if s.index < 0 || s.index >= len(t) {
				return ""
			}
			v = t[s.index]
		default:
			return ""
		}
	}
	return compact(v)
}

func quoteJSON(s string) string { return compact(s) }

// compact writes v as one line of JSON, <, > and & as they are.
func compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return ""
	}
	return shorten(strings.TrimSuffix(b.String(), "\n"))
}

func shorten(s string) string {
	if len(s) <= maxDiffValue {
		return s
	}
	cut := maxDiffValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
