// Package payload reads, redacts and compares the JSON bodies that Sail
// sends to completion webhooks and answers on GET.
//
// Standard parts do the JSON: a jsontext decoder over the caller's buffer
// validates the body and hands back the fields sail reads as byte spans
// (inspect.go), so a 32 MiB body is walked in place and its strings stay
// spans until asked for; jsontext unquotes; Compare decodes both sides
// with encoding/json.
//
// Hand-written, because no library does it (about 400 of the ~1,310
// lines):
//   - masking in place (apply): an encoder writes a second copy, and the
//     receiver's bound is one copy of a 30 MiB body;
//   - finding a secret in any escaped spelling (spelled, maskString,
//     mayOccur) and in bodies that are not JSON at all (redactInvalid);
//   - a bytes.Index anchored at a rare byte (index): plain bytes.Index
//     made Prepare of a 200 KB body 1.3–2.2× slower;
//   - decoding only the first bytes of a long string (unquote's limit),
//     since the receiver keeps an excerpt of a 30 MiB answer;
//   - header and URL masking rules (redact.go's second half).
package payload

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/status"
)

// Mask replaces secrets (webhook tokens, API keys) wherever the project
// displays or stores a payload or header.
const Mask = "•••"

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

// node names the places in a payload that hold fields sail reads.
type node uint8

const (
	root        node = iota
	meta             // metadata
	outputItem       // output[i]
	outputPart       // output[i].content[j]
	choice           // choices[0]
	message          // choices[0].message
	messagePart      // choices[0].message.content[j]
	contentPart      // content[j] (Anthropic)
	usage
)

type part struct{ typ, text span }

type item struct {
	typ   span
	parts []part
}

type counts struct {
	input, output, total, prompt, completion int64
	totalSet                                 bool
}

type inspector struct {
	b                                                   []byte
	id, object, typ, status, model, stopReason, outText span
	webhook                                             span
	tokenSpans                                          []span // every root metadata.webhook_token value
	hasToken                                            bool
	output                                              []item
	content                                             []part
	choiceOK                                            bool
	finish, msgText                                     span
	msgParts                                            []part
	usage                                               *counts
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
	if err := in.walkObject(r, root); err != nil {
		return nil, r.fail(err)
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return in, nil
}

func (in *inspector) walkObject(r *reader, at node) error {
	d := &r.dec
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for d.PeekKind() != '}' {
		raw, err := d.ReadValue()
		if err != nil {
			return err
		}
		name := raw[1 : len(raw)-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			s, _ := unquote(raw, -1)
			name = []byte(s)
		}
		if err := in.member(r, at, string(name)); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
}

// member reads the value of the member called name of an object at at.
func (in *inspector) member(r *reader, at node, name string) error {
	switch at {
	case root:
		switch name {
		case "id":
			return in.str(r, &in.id)
		case "object":
			return in.str(r, &in.object)
		case "type":
			return in.str(r, &in.typ)
		case "status":
			return in.str(r, &in.status)
		case "model":
			return in.str(r, &in.model)
		case "stop_reason":
			return in.str(r, &in.stopReason)
		case "output_text":
			return in.str(r, &in.outText)
		case "metadata":
			return in.objectIf(r, meta)
		case "usage":
			if r.dec.PeekKind() == '{' && in.usage == nil {
				in.usage = &counts{}
			}
			return in.objectIf(r, usage)
		case "output":
			in.output = nil
			return in.array(r, outputItem)
		case "content":
			in.content = nil
			return in.array(r, contentPart)
		case "choices":
			in.choiceOK, in.finish, in.msgText, in.msgParts = false, span{}, span{}, nil
			return in.array(r, choice)
		}
	case meta:
		switch name {
		case "completion_webhook":
			return in.str(r, &in.webhook)
		case "webhook_token":
			v, sp, err := r.value()
			if err == nil {
				in.tokenSpans = append(in.tokenSpans, sp)
				in.hasToken = string(v) != "null" && string(v) != `""`
			}
			return err
		}
	case outputItem:
		it := &in.output[len(in.output)-1]
		switch name {
		case "type":
			return in.str(r, &it.typ)
		case "content":
			it.parts = nil
			return in.array(r, outputPart)
		}
	case outputPart, messagePart, contentPart:
		p := in.lastPart(at)
		switch name {
		case "type":
			return in.str(r, &p.typ)
		case "text":
			return in.str(r, &p.text)
		}
	case choice:
		switch name {
		case "finish_reason":
			return in.str(r, &in.finish)
		case "message":
			return in.objectIf(r, message)
		}
	case message:
		if name == "content" {
			in.msgText, in.msgParts = span{}, nil
			if r.dec.PeekKind() == '"' {
				return in.str(r, &in.msgText)
			}
			return in.array(r, messagePart)
		}
	case usage:
		u, dst := in.usage, (*int64)(nil)
		switch name {
		case "input_tokens":
			dst = &u.input
		case "output_tokens":
			dst = &u.output
		case "total_tokens":
			dst, u.totalSet = &u.total, true
		case "prompt_tokens":
			dst = &u.prompt
		case "completion_tokens":
			dst = &u.completion
		default:
			return r.skip()
		}
		v, _, err := r.value()
		*dst = parseCount(v)
		return err
	}
	return r.skip()
}

// str records the span of a string value, or clears it for another kind.
func (in *inspector) str(r *reader, dst *span) error {
	if r.dec.PeekKind() != '"' {
		*dst = span{}
		return r.skip()
	}
	_, sp, err := r.value()
	*dst = sp
	return err
}

func (in *inspector) objectIf(r *reader, at node) error {
	if r.dec.PeekKind() != '{' {
		return r.skip()
	}
	return in.walkObject(r, at)
}

// array walks the objects of an array, each one at elem; for choices only
// the first element counts, and only when it is an object.
func (in *inspector) array(r *reader, elem node) error {
	if r.dec.PeekKind() != '[' {
		return r.skip()
	}
	d := &r.dec
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for i := 0; d.PeekKind() != ']'; i++ {
		if d.PeekKind() != '{' || elem == choice && i > 0 {
			if err := r.skip(); err != nil {
				return err
			}
			continue
		}
		switch elem {
		case outputItem:
			in.output = append(in.output, item{})
		case outputPart:
			it := &in.output[len(in.output)-1]
			it.parts = append(it.parts, part{})
		case messagePart:
			in.msgParts = append(in.msgParts, part{})
		case contentPart:
			in.content = append(in.content, part{})
		case choice:
			in.choiceOK = true
		}
		if err := in.walkObject(r, elem); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
}

func (in *inspector) lastPart(at node) *part {
	ps := &in.content
	switch at {
	case outputPart:
		ps = &in.output[len(in.output)-1].parts
	case messagePart:
		ps = &in.msgParts
	}
	return &(*ps)[len(*ps)-1]
}

// texts returns the spans of the text parts of type want.
func texts(parts []part, want string, b []byte) []span {
	var out []span
	for _, p := range parts {
		if p.text.e != 0 && p.typ.e != 0 && field(b, p.typ) == want {
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

func field(b []byte, sp span) string {
	if sp.e == 0 {
		return ""
	}
	s, _ := unquote(b[sp.s:sp.e], maxField)
	return s
}

func (in *inspector) text(spans []span, limit int) string {
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
		ID:         field(b, in.id),
		Object:     field(b, in.object),
		WireStatus: field(b, in.status),
		Model:      field(b, in.model),
		WebhookURL: field(b, in.webhook),
		HasToken:   in.hasToken,
	}
	info.Status = status.Normalize(info.WireStatus)
	if info.Object == "" && field(b, in.typ) == "message" {
		info.Object = "message" // Anthropic Messages carry "type", not "object"
	}
	// Only output items of type "message" (or untyped) carry text, as in the SDKs.
	var output, choiceText []span
	for _, it := range in.output {
		if it.typ.e == 0 || field(b, it.typ) == "message" {
			output = append(output, texts(it.parts, "output_text", b)...)
		}
	}
	if in.choiceOK {
		if in.msgText.e != 0 {
			choiceText = []span{in.msgText}
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
	if len(ts) == 0 && in.outText.e != 0 {
		ts = []span{in.outText}
	}
	info.OutputText = in.text(ts, maxText)

	if info.Status == "" {
		reason := field(b, in.finish)
		if info.Object == "message" || reason == "" {
			reason = field(b, in.stopReason)
		}
		switch reason {
		case "":
		case "length", "max_tokens":
			info.Status = "incomplete"
		default:
			info.Status = "completed"
		}
	}
	if u := in.usage; u != nil {
		eu := &event.Usage{InputTokens: u.input, OutputTokens: u.output, TotalTokens: u.total}
		if eu.InputTokens == 0 && eu.OutputTokens == 0 {
			eu.InputTokens, eu.OutputTokens = u.prompt, u.completion // Chat Completions names
		}
		if !u.totalSet {
			eu.TotalTokens = eu.InputTokens + eu.OutputTokens // Anthropic sends no total
		}
		info.Usage = eu
	}
	return info
}
