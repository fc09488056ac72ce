// Package payload reads and redacts the JSON bodies that Sail sends to
// completion webhooks and answers on GET, and compares the two.
//
// Standard parts do the JSON: a jsontext decoder over the caller's buffer
// validates the body and hands back the fields sail reads (the paths
// listed in inspect.go) as byte spans, so a 32 MiB body is walked in place
// and its strings stay spans until asked for; jsontext unquotes;
// internal/jsondiff compares (Compare and Diff add what is Sail's: the
// token). Credentials outside bodies (headers, URLs) are internal/secret's.
//
// Hand-written, because no library does it (about 550 of the ~1,100
// lines):
//   - the walk (~170 lines): json v2's struct decoding, with span types
//     for the leaves, took 1.3–1.5× the time of this walk per Inspect
//     (measured side by side), and the receiver's CPU per delivery is a
//     target of its own;
//   - masking in place (apply): an encoder writes a second copy, and the
//     receiver's bound is one copy of a 30 MiB body;
//   - finding a secret in any escaped spelling (spelled, maskString,
//     mayOccur) and in bodies that are not JSON at all (redactInvalid).
//     Regexps built per secret were tried (2026-12-02): compiling one for
//     each new metadata.webhook_token made a forged delivery cost 6× the
//     CPU, Go's regexp reads ~20 MB/s so a 1 MB answer with one escaped
//     token character took 18× longer, and working around both took more
//     lines than this matcher;
//   - a bytes.Index anchored at a rare byte (index): plain bytes.Index
//     made Prepare of a 200 KB body 1.3–2.2× slower;
//   - decoding only the first bytes of a long string (unquote's limit),
//     since the receiver keeps an excerpt of a 30 MiB answer.
package payload

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/status"
)

// maxField caps identity fields (id, model, status, object, URL) so a
// hostile body with a megabyte-long "id" cannot balloon memory further
// down (dedupe keys, history index, events).
const maxField = 1024

// Info is what sail needs to know about a payload without keeping it
// decoded.
type Info struct {
	ID     string
	Object string // "response", "chat.completion", "message" (Anthropic) or what the body says
	// Status is normalised: pending → queued, running → in_progress. For
	// chat completions and Anthropic messages, which carry no status, it is
	// derived from finish_reason / stop_reason: "length"/"max_tokens" →
	// incomplete, any other reason → completed.
	Status string
	// WireStatus is the status as the body spells it (either of Sail's
	// dialects, any case); "" when the body has none.
	WireStatus string
	Model      string
	OutputText string // the assistant text, concatenated like the SDKs' output_text
	WebhookURL string // metadata.completion_webhook
	HasToken   bool   // metadata.webhook_token is present and not empty
	Usage      *event.Usage
}

// Inspect reads the interesting fields of a response payload. body must be
// a JSON object; anything else is an error describing what is wrong. It
// recognises OpenAI Responses objects (output[].content[] output_text),
// Chat Completions (choices[0].message.content) and Anthropic Messages
// (content[] text).
func Inspect(body []byte) (Info, error) {
	return InspectLimit(body, -1)
}

// InspectLimit is Inspect with OutputText cut to at most maxText bytes (at
// a rune boundary) when maxText ≥ 0, so that a receiver that only shows an
// excerpt never materialises a 30 MiB answer a second time.
func InspectLimit(body []byte, maxText int) (Info, error) {
	in, err := inspect(body)
	if err != nil {
		return Info{}, err
	}
	return in.info(maxText), nil
}

// NotObjectError reports a payload that is valid JSON but not an object.
type NotObjectError struct{ Kind string }

func (e *NotObjectError) Error() string {
	return "payload is a JSON " + e.Kind + ", want a JSON object"
}

var kinds = map[jsontext.Kind]string{'[': "array", '"': "string", 't': "boolean", 'f': "boolean", 'n': "null", '0': "number"}

type span struct{ s, e int }

// A walk with a jsontext decoder reads the fields sail needs, as byte
// spans of the caller's buffer: no string is copied until info asks for
// it, and everything else is skipped. The struct decoding of
// encoding/json/v2 did the same at three times the cost per delivery.
// The rules are encoding/json's: names match exactly once unquoted, the
// last of duplicate names wins (objects merge, arrays start over), and
// a value of an unexpected type leaves its field empty.

// paths lists every value sail reads; "[]" stands for each element of an
// array (of choices, only the first counts). The walk descends only into
// what leads to one of them.
var paths = [...]string{
	"id", "object", "type", "status", "model", "stop_reason", "output_text",
	"metadata.completion_webhook", "metadata.webhook_token",
	"output[].type", "output[].content[].type", "output[].content[].text",
	"choices[].finish_reason", "choices[].message.content",
	"choices[].message.content[].type", "choices[].message.content[].text",
	"content[].type", "content[].text",
	"usage.input_tokens", "usage.output_tokens", "usage.total_tokens", "usage.prompt_tokens", "usage.completion_tokens",
}

// A node is a place on the way to paths: an object's members, an array's
// elements, or a value kept in inspector.f.
type node struct {
	path    string
	members map[string]*node
	elem    *node
	field   int // place in inspector.f; -1 for none
}

var (
	tree      = &node{field: -1}
	pathIndex = map[string]int{} // a path of paths → its place in inspector.f
)

func init() {
	for i, p := range paths {
		pathIndex[p] = i
		n := tree
		for name := range strings.SplitSeq(p, ".") {
			el, isArray := strings.CutSuffix(name, "[]")
			if n.members == nil {
				n.members = map[string]*node{}
			}
			if n.members[el] == nil {
				n.members[el] = &node{path: strings.TrimPrefix(n.path+"."+el, "."), field: -1}
			}
			if n = n.members[el]; isArray {
				if n.elem == nil {
					n.elem = &node{path: n.path + "[]", field: -1}
				}
				n = n.elem
			}
		}
		n.field = i
	}
}

type part struct{ typ, text span }

type item struct {
	typ   span
	parts []part
}

type inspector struct {
	b          []byte
	f          [len(paths)]span // by index: the last value at each path outside arrays of parts
	tokenSpans []span           // every root metadata.webhook_token value
	hasToken   bool
	output     []item
	content    []part
	msgParts   []part
	choiceOK   bool // choices[0] is an object
	usageOK    bool
}

// inspect walks the body once, validating it on the way.
func inspect(body []byte) (*inspector, error) {
	r := open(body)
	defer r.close()
	if k := r.dec.PeekKind(); k != '{' {
		if err := r.skip(); err != nil {
			return nil, err
		}
		if err := r.end(); err != nil {
			return nil, err
		}
		return nil, &NotObjectError{Kind: kinds[k]}
	}
	in := &inspector{b: body}
	if err := in.walk(r, tree); err != nil {
		return nil, r.fail(err)
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return in, nil
}

// walk reads the value at n.
func (in *inspector) walk(r *reader, n *node) error {
	d := &r.dec
	if n.elem != nil {
		in.reset(n.path)
		if d.PeekKind() == '[' {
			return in.array(r, n)
		}
	} else if d.PeekKind() == '{' && n.members != nil {
		return in.object(r, n)
	}
	v, sp, err := r.value()
	if err == nil {
		in.leaf(n, v, sp)
	}
	return err
}

func (in *inspector) object(r *reader, n *node) error {
	in.usageOK = in.usageOK || n.path == "usage"
	return r.each('}', func(int) error {
		raw, err := r.dec.ReadValue()
		if err != nil {
			return err
		}
		name := raw[1 : len(raw)-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			s, _ := unquote(raw, -1)
			name = []byte(s)
		}
		if m := n.members[string(name)]; m != nil {
			return in.walk(r, m)
		}
		return r.skip()
	})
}

// array walks the objects of the array at n; other elements are skipped.
func (in *inspector) array(r *reader, n *node) error {
	return r.each(']', func(i int) error {
		if r.dec.PeekKind() != '{' || n.path == "choices" && i > 0 {
			return r.skip()
		}
		switch n.path {
		case "output":
			in.output = append(in.output, item{})
		case "choices":
			in.choiceOK = true
		default:
			*in.parts(n.path) = append(*in.parts(n.path), part{})
		}
		return in.object(r, n.elem)
	})
}

// reset forgets an earlier array of the same name.
func (in *inspector) reset(path string) {
	switch path {
	case "output":
		in.output = nil
	case "choices":
		in.choiceOK, in.msgParts = false, nil
		in.f[pathIndex["choices[].finish_reason"]], in.f[pathIndex["choices[].message.content"]] = span{}, span{}
	case "choices[].message.content":
		in.msgParts, in.f[pathIndex[path]] = nil, span{}
	default:
		*in.parts(path) = nil
	}
}

// parts is the list of text parts of the array at path.
func (in *inspector) parts(path string) *[]part {
	switch path {
	case "output[].content":
		return &in.output[len(in.output)-1].parts
	case "choices[].message.content":
		return &in.msgParts
	}
	return &in.content
}

// leaf records a value: any for the token and the counts, else a string.
func (in *inspector) leaf(n *node, v []byte, sp span) {
	if n.path == "metadata.webhook_token" {
		in.tokenSpans = append(in.tokenSpans, sp)
		in.hasToken = string(v) != "null" && string(v) != `""`
		return
	}
	if v[0] != '"' && !strings.HasPrefix(n.path, "usage.") {
		sp = span{}
	}
	switch n.path {
	case "output[].type":
		in.output[len(in.output)-1].typ = sp
	case "output[].content[].type", "choices[].message.content[].type", "content[].type":
		ps := *in.parts(n.path[:len(n.path)-len("[].type")])
		ps[len(ps)-1].typ = sp
	case "output[].content[].text", "choices[].message.content[].text", "content[].text":
		ps := *in.parts(n.path[:len(n.path)-len("[].text")])
		ps[len(ps)-1].text = sp
	default:
		if n.field >= 0 {
			in.f[n.field] = sp
		}
	}
}

func (in *inspector) get(path string) span { return in.f[pathIndex[path]] }

// texts returns the spans of the text parts of type want.
func texts(parts []part, want string, b []byte) []span {
	var out []span
	for _, p := range parts {
		if p.text.e != 0 && p.typ.e != 0 && is(b, p.typ, want) {
			out = append(out, p.text)
		}
	}
	return out
}

func parseCount(raw []byte) int64 {
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
		return int64(f)
	}
	return 0
}

// is reports whether the string at sp is want, without a copy when it
// has no escapes (types are compared for every part of every answer).
func is(b []byte, sp span, want string) bool {
	if sp.e == 0 || bytes.IndexByte(b[sp.s:sp.e], '\\') >= 0 {
		return field(b, sp) == want
	}
	return string(b[sp.s+1:sp.e-1]) == want
}

func field(b []byte, sp span) string {
	if sp.e == 0 {
		return ""
	}
	s, _ := unquote(b[sp.s:sp.e], maxField)
	return s
}

func (in *inspector) text(spans []span, limit int) string {
	if len(spans) == 1 { // the usual answer: one part, no copy to join
		s, _ := unquote(in.b[spans[0].s:spans[0].e], limit)
		return s
	}
	var sb strings.Builder
	for _, sp := range spans {
		rest := -1
		if limit >= 0 {
			if rest = limit - sb.Len(); rest <= 0 {
				break
			}
		}
		part, complete := unquote(in.b[sp.s:sp.e], rest)
		sb.WriteString(part)
		if !complete {
			break // never skip the rest of one part to show the start of the next
		}
	}
	return sb.String()
}

func (in *inspector) info(maxText int) Info {
	b := in.b
	info := Info{
		ID:         field(b, in.get("id")),
		Object:     field(b, in.get("object")),
		WireStatus: field(b, in.get("status")),
		Model:      field(b, in.get("model")),
		WebhookURL: field(b, in.get("metadata.completion_webhook")),
		HasToken:   in.hasToken,
	}
	info.Status = status.Normalize(info.WireStatus)
	if info.Object == "" && is(b, in.get("type"), "message") {
		info.Object = "message" // Anthropic Messages carry "type", not "object"
	}
	// Only output items of type "message" (or untyped) carry text, as in the SDKs.
	var output, choiceText []span
	for _, it := range in.output {
		if it.typ.e == 0 || is(b, it.typ, "message") {
			output = append(output, texts(it.parts, "output_text", b)...)
		}
	}
	if in.choiceOK {
		if t := in.get("choices[].message.content"); t.e != 0 {
			choiceText = []span{t}
		} else {
			choiceText = texts(in.msgParts, "text", b)
		}
	}
	contentText := texts(in.content, "text", b)
	var ts []span
	switch {
	case info.Object == "response":
		ts = output
	case info.Object == "chat.completion" || (info.Object == "" && choiceText != nil):
		ts = choiceText
	case info.Object == "message":
		ts = contentText
	default:
		for _, t := range [][]span{output, choiceText, contentText} {
			if len(t) > 0 {
				ts = t
				break
			}
		}
	}
	if t := in.get("output_text"); len(ts) == 0 && t.e != 0 {
		ts = []span{t}
	}
	info.OutputText = in.text(ts, maxText)

	if info.Status == "" {
		reason := field(b, in.get("choices[].finish_reason"))
		if info.Object == "message" || reason == "" {
			reason = field(b, in.get("stop_reason"))
		}
		switch reason {
		case "":
		case "length", "max_tokens":
			info.Status = "incomplete"
		default:
			info.Status = "completed"
		}
	}
	if in.usageOK {
		n := func(name string) int64 { sp := in.get("usage." + name); return parseCount(b[sp.s:sp.e]) }
		u := &event.Usage{InputTokens: n("input_tokens"), OutputTokens: n("output_tokens"), TotalTokens: n("total_tokens")}
		if u.InputTokens == 0 && u.OutputTokens == 0 {
			u.InputTokens, u.OutputTokens = n("prompt_tokens"), n("completion_tokens") // Chat Completions names
		}
		if in.get("usage.total_tokens").e == 0 {
			u.TotalTokens = u.InputTokens + u.OutputTokens // Anthropic sends no total
		}
		info.Usage = u
	}
	return info
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
