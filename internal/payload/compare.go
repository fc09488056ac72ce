package payload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

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

// absent marks a side that lacks a path (JSON null decodes to nil).
type absent struct{}

type diff struct {
	path string
	a, b any
}

// compare decodes both sides with encoding/json (numbers kept as their
// text) and walks the two trees: a comparison runs once per GET check, so
// the generic decode costs less than the code a streaming walk needs.
func compare(a, b []byte) (Comparison, error) {
	av, err := decodeAny(a)
	if err != nil {
		return Comparison{}, fmt.Errorf("first payload: %w", err)
	}
	bv, err := decodeAny(b)
	if err != nil {
		return Comparison{}, fmt.Errorf("second payload: %w", err)
	}
	var ds []diff
	walk(&ds, av, bv, nil)
	slices.SortStableFunc(ds, func(x, y diff) int { return strings.Compare(x.path, y.path) })
	ds = ds[:min(len(ds), MaxDiffs)]
	out := Comparison{Equal: len(ds) == 0}
	for _, d := range ds {
		out.Paths = append(out.Paths, d.path)
		out.Diffs = append(out.Diffs, event.Difference{Path: d.path, Webhook: display(d.a), Get: display(d.b)})
	}
	return out, nil
}

func decodeAny(b []byte) (any, error) {
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

// display shows a value as compact JSON, cut to maxDiffValue bytes.
func display(v any) string {
	if _, ok := v.(absent); ok {
		return ""
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	s := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(s) > maxDiffValue {
		return string(s[:runeCut(s, maxDiffValue-len("…"))]) + "…"
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

// walk records where a and b differ, in sorted order so that the
// maxCollect cut is deterministic. metadata.webhook_token is redacted on
// both sides: present on both, it is equal whatever its value.
func walk(ds *[]diff, a, b any, path []any) {
	if len(*ds) >= maxCollect {
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
			meta := len(path) == 1 && path[0] == "metadata"
			for _, k := range keys {
				x, inA := av[k]
				y, inB := bv[k]
				if inA && inB && meta && k == "webhook_token" {
					continue
				}
				walk(ds, orAbsent(x, inA), orAbsent(y, inB), append(path, k))
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
				walk(ds, x, y, append(path, i))
			}
			return
		}
	default:
		if a == b {
			return
		}
	}
	*ds = append(*ds, diff{pathString(path), a, b})
}

func orAbsent(v any, ok bool) any {
	if !ok {
		return absent{}
	}
	return v
}

// Excerpt returns the first non-blank line of text with runs of white
// space collapsed to one space, at most n runes long. When anything was
// left out (the rest of the line or further lines) it ends with "…",
// which counts towards n. The receiver passes text already cut by
// InspectLimit, so splitting the line costs little.
func Excerpt(text string, n int) string {
	if n <= 0 {
		return ""
	}
	line, rest := "", text
	for rest != "" && strings.TrimSpace(line) == "" {
		line, rest, _ = strings.Cut(rest, "\n")
	}
	// Collapse whitespace as strings.Fields would, but stop one rune past
	// n: an answer can be megabytes long and only its start is shown.
	r := make([]rune, 0, n+2)
	space := false
	for _, c := range line {
		if unicode.IsSpace(c) {
			space = len(r) > 0
			continue
		}
		if space {
			r, space = append(r, ' '), false
		}
		if r = append(r, c); len(r) > n {
			break
		}
	}
	if len(r) <= n && strings.TrimSpace(rest) == "" {
		return string(r)
	}
	return strings.TrimRight(string(r[:min(len(r), n-1)]), " ") + "…"
}
