// Package jsondiff compares two JSON documents and says where they
// differ.
//
// Both sides are decoded with encoding/json (numbers kept as their text)
// and the two trees walked side by side: a comparison runs once per
// check, not per byte of a hot path, so the generic decode costs less
// than the code a streaming walk needs.
package jsondiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxDiffs caps the differences Compare returns.
const MaxDiffs = 20

// maxCollect bounds the work Compare does on wildly different documents.
const maxCollect = 10000

// maxValue caps each side of a Diff.
const maxValue = 1024

// A Diff is one path where the documents differ. A and B give the value
// of each side there as compact JSON, at most 1 KiB each (longer values
// are cut and end in "…"); a side that lacks the path is "".
type Diff struct {
	Path string
	A, B string
}

// Compare reports where documents a and b differ: up to MaxDiffs paths,
// sorted, written like `output[0].content[0].text` (`$` for the whole
// document, `["a b"]` for names that are not identifiers). Object members
// compare whatever their order (the last of duplicate names wins, as in
// encoding/json), strings by their decoded value, numbers by their exact
// text. skip, when not nil, is asked about every path present on both
// sides (object names as string, array indices as int, the root as an
// empty path): where it says true, the two values count as equal. err is
// set when either side is not valid JSON.
func Compare(a, b []byte, skip func(path []any) bool) ([]Diff, error) {
	av, err := decode(a)
	if err != nil {
		return nil, fmt.Errorf("first document: %w", err)
	}
	bv, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("second document: %w", err)
	}
	w := walker{skip: skip}
	w.walk(av, bv, nil)
	slices.SortStableFunc(w.diffs, func(x, y diff) int { return strings.Compare(x.path, y.path) })
	var out []Diff
	for _, d := range w.diffs[:min(len(w.diffs), MaxDiffs)] {
		out = append(out, Diff{Path: d.path, A: display(d.a), B: display(d.b)})
	}
	return out, nil
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the top-level value")
	}
	return v, nil
}

// absent marks a side that lacks a path (JSON null decodes to nil).
type absent struct{}

type diff struct {
	path string
	a, b any
}

type walker struct {
	skip  func(path []any) bool
	diffs []diff
}

// walk records where a and b differ, in sorted order so that the
// maxCollect cut is deterministic.
func (w *walker) walk(a, b any, path []any) {
	if len(w.diffs) >= maxCollect {
		return
	}
	_, aAbsent := a.(absent)
	_, bAbsent := b.(absent)
	if w.skip != nil && !aAbsent && !bAbsent && w.skip(path) {
		return
	}
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			keys := slices.Sorted(maps.Keys(av))
			for k := range bv {
				if _, ok := av[k]; !ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				x, inA := av[k]
				y, inB := bv[k]
				w.walk(orAbsent(x, inA), orAbsent(y, inB), append(path, k))
			}
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			for i := range max(len(av), len(bv)) {
				var x, y any = absent{}, absent{}
				if i < len(av) {
					x = av[i]
				}
				if i < len(bv) {
					y = bv[i]
				}
				w.walk(x, y, append(path, i))
			}
			return
		}
	default:
		if a == b {
			return
		}
	}
	w.diffs = append(w.diffs, diff{pathString(path), a, b})
}

func orAbsent(v any, ok bool) any {
	if !ok {
		return absent{}
	}
	return v
}

// display shows a value as compact JSON, cut to maxValue bytes.
func display(v any) string {
	if _, ok := v.(absent); ok {
		return ""
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	s := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(s) > maxValue {
		n := maxValue - len("…")
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return string(s[:n]) + "…"
	}
	return string(s)
}

// pathString renders a path of object names (string) and indices (int).
func pathString(path []any) string {
	var sb []byte
	for _, p := range path {
		switch p := p.(type) {
		case int:
			sb = append(strconv.AppendInt(append(sb, '['), int64(p), 10), ']')
		case string:
			if !isIdent(p) {
				q, _ := jsontext.AppendQuote(nil, p)
				sb = append(append(append(sb, '['), q...), ']')
			} else if len(sb) > 0 {
				sb = append(append(sb, '.'), p...)
			} else {
				sb = append(sb, p...)
			}
		}
	}
	if len(sb) == 0 {
		return "$"
	}
	return string(sb)
}

func isIdent(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}
