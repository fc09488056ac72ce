// Package payload reads, redacts and compares the JSON bodies that Sail
// sends to completion webhooks and answers on GET. Bodies can be 32 MiB, so
// nothing here decodes a whole body into generic maps: a small scanner walks
// byte spans of the caller's buffer and decodes only the fields it needs.
package payload

import (
	"strconv"
	"strings"

	"github.com/sailresearch/sail/internal/event"
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
	Status     string
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
	start, _, err := parseDocument(body)
	if err != nil {
		return Info{}, err
	}
	if body[start] != '{' {
		return Info{}, &NotObjectError{Kind: kindOf(body[start])}
	}
	in := inspector{b: body}
	if _, err := eachMember(body, start, 0, in.top); err != nil {
		return Info{}, err // unreachable: parseDocument validated the body
	}
	return in.info(maxText), nil
}

// NotObjectError reports a payload that is valid JSON but not an object.
type NotObjectError struct{ Kind string }

func (e *NotObjectError) Error() string {
	return "payload is a JSON " + e.Kind + ", want a JSON object"
}

func kindOf(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

type span struct{ s, e int }

type inspector struct {
	b []byte

	id, object, typ, status, model, stopReason, finishReason span
	outputTextField                                          span
	webhookURL                                               span
	hasToken                                                 bool

	output      []span // output[].content[] output_text texts
	choiceText  []span
	contentText []span // Anthropic content[] text
	usage       *usageFields
}

type usageFields struct {
	input, output, total, prompt, completion int64
	hasTotal                                 bool
}

// str records the span of a string value and skips anything else.
func (in *inspector) str(dst *span, vs int) (int, error) {
	if in.b[vs] == '"' {
		end, _, err := scanString(in.b, vs)
		*dst = span{vs, end}
		return end, err
	}
	*dst = span{}
	return skipValue(in.b, vs, 1)
}

func (in *inspector) top(ks, ke, vs int) (int, error) {
	b := in.b
	switch keyName(b, ks, ke) {
	case "id":
		return in.str(&in.id, vs)
	case "object":
		return in.str(&in.object, vs)
	case "type":
		return in.str(&in.typ, vs)
	case "status":
		return in.str(&in.status, vs)
	case "model":
		return in.str(&in.model, vs)
	case "stop_reason":
		return in.str(&in.stopReason, vs)
	case "output_text":
		return in.str(&in.outputTextField, vs)
	case "metadata":
		in.webhookURL, in.hasToken = span{}, false
		if b[vs] != '{' {
			return skipValue(b, vs, 1)
		}
		return eachMember(b, vs, 1, func(ks, ke, vs int) (int, error) {
			switch {
			case keyEquals(b, ks, ke, "completion_webhook"):
				return in.str(&in.webhookURL, vs)
			case keyEquals(b, ks, ke, "webhook_token"):
				end, err := skipValue(b, vs, 2)
				v := b[vs:end]
				in.hasToken = !(string(v) == "null" || string(v) == `""`)
				return end, err
			}
			return skipValue(b, vs, 2)
		})
	case "output":
		in.output = nil
		return in.array(vs, 1, func(vs int) (int, error) { return in.outputItem(vs) })
	case "choices":
		in.choiceText, in.finishReason = nil, span{}
		return eachOrSkip(b, vs, 1, func(idx, vs int) (int, error) {
			if idx != 0 || b[vs] != '{' {
				return skipValue(b, vs, 2)
			}
			return eachMember(b, vs, 2, func(ks, ke, vs int) (int, error) {
				switch {
				case keyEquals(b, ks, ke, "finish_reason"):
					return in.str(&in.finishReason, vs)
				case keyEquals(b, ks, ke, "message") && b[vs] == '{':
					return eachMember(b, vs, 3, func(ks, ke, vs int) (int, error) {
						if !keyEquals(b, ks, ke, "content") {
							return skipValue(b, vs, 4)
						}
						in.choiceText = nil
						if b[vs] == '"' {
							end, _, err := scanString(b, vs)
							in.choiceText = []span{{vs, end}}
							return end, err
						}
						return in.parts(vs, 4, "text", &in.choiceText)
					})
				}
				return skipValue(b, vs, 3)
			})
		})
	case "content":
		in.contentText = nil
		return in.parts(vs, 1, "text", &in.contentText)
	case "usage":
		in.usage = nil
		if b[vs] != '{' {
			return skipValue(b, vs, 1)
		}
		u := &usageFields{}
		in.usage = u
		return eachMember(b, vs, 1, func(ks, ke, vs int) (int, error) {
			var dst *int64
			switch keyName(b, ks, ke) {
			case "input_tokens":
				dst = &u.input
			case "output_tokens":
				dst = &u.output
			case "total_tokens":
				dst = &u.total
				u.hasTotal = true
			case "prompt_tokens":
				dst = &u.prompt
			case "completion_tokens":
				dst = &u.completion
			}
			end, err := skipValue(b, vs, 2)
			if dst != nil && err == nil {
				*dst = parseCount(b[vs:end])
			}
			return end, err
		})
	default:
		return skipValue(b, vs, 1)
	}
}

// keyName returns a short key decoded, or "" for long keys, which never
// match a field this package looks for (and are not worth allocating).
func keyName(b []byte, ks, ke int) string {
	if ke-ks > 40 {
		return ""
	}
	return unquote(b[ks:ke], -1)
}

func eachOrSkip(b []byte, vs, depth int, fn func(idx, vs int) (int, error)) (int, error) {
	if b[vs] != '[' {
		return skipValue(b, vs, depth)
	}
	return eachElement(b, vs, depth, fn)
}

func (in *inspector) array(vs, depth int, fn func(vs int) (int, error)) (int, error) {
	return eachOrSkip(in.b, vs, depth, func(_, vs int) (int, error) { return fn(vs) })
}

// outputItem reads one element of a Responses object's output[]: only
// items of type "message" (or untyped) contribute text, like the SDKs.
func (in *inspector) outputItem(vs int) (int, error) {
	b := in.b
	if b[vs] != '{' {
		return skipValue(b, vs, 2)
	}
	var typ span
	var texts []span
	end, err := eachMember(b, vs, 2, func(ks, ke, vs int) (int, error) {
		switch {
		case keyEquals(b, ks, ke, "type"):
			return in.str(&typ, vs)
		case keyEquals(b, ks, ke, "content"):
			texts = nil
			return in.parts(vs, 3, "output_text", &texts)
		}
		return skipValue(b, vs, 3)
	})
	if typ.e == 0 || unquote(b[typ.s:typ.e], -1) == "message" {
		in.output = append(in.output, texts...)
	}
	return end, err
}

// parts reads an array of content parts and appends the text of those
// whose type is wantType.
func (in *inspector) parts(vs, depth int, wantType string, dst *[]span) (int, error) {
	b := in.b
	return eachOrSkip(b, vs, depth, func(_, vs int) (int, error) {
		if b[vs] != '{' {
			return skipValue(b, vs, depth+1)
		}
		var typ, text span
		end, err := eachMember(b, vs, depth+1, func(ks, ke, vs int) (int, error) {
			switch {
			case keyEquals(b, ks, ke, "type"):
				return in.str(&typ, vs)
			case keyEquals(b, ks, ke, "text"):
				return in.str(&text, vs)
			}
			return skipValue(b, vs, depth+2)
		})
		if err == nil && text.e != 0 && typ.e != 0 && unquote(b[typ.s:typ.e], -1) == wantType {
			*dst = append(*dst, text)
		}
		return end, err
	})
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

func (in *inspector) field(sp span) string {
	if sp.e == 0 {
		return ""
	}
	return unquote(in.b[sp.s:sp.e], maxField)
}

func (in *inspector) text(spans []span, limit int) string {
	if len(spans) == 1 {
		return unquote(in.b[spans[0].s:spans[0].e], limit)
	}
	var sb strings.Builder
	for _, sp := range spans {
		rest := -1
		if limit >= 0 {
			rest = limit - sb.Len()
			if rest <= 0 {
				break
			}
		}
		part, complete := unquoteLimit(in.b[sp.s:sp.e], rest)
		sb.WriteString(part)
		if !complete {
			break // never skip the rest of one part to show the start of the next
		}
	}
	return sb.String()
}

func (in *inspector) info(maxText int) Info {
	info := Info{
		ID:         in.field(in.id),
		Object:     in.field(in.object),
		Status:     NormalizeStatus(in.field(in.status)),
		Model:      in.field(in.model),
		WebhookURL: in.field(in.webhookURL),
		HasToken:   in.hasToken,
	}
	if info.Object == "" && in.field(in.typ) == "message" {
		info.Object = "message" // Anthropic Messages carry "type", not "object"
	}
	var texts []span
	switch {
	case info.Object == "response":
		texts = in.output
	case info.Object == "chat.completion" || (info.Object == "" && in.choiceText != nil):
		texts = in.choiceText
	case info.Object == "message":
		texts = in.contentText
	default:
		for _, t := range [][]span{in.output, in.choiceText, in.contentText} {
			if len(t) > 0 {
				texts = t
				break
			}
		}
	}
	if len(texts) == 0 && in.outputTextField.e != 0 {
		texts = []span{in.outputTextField}
	}
	info.OutputText = in.text(texts, maxText)

	if info.Status == "" {
		reason := in.field(in.finishReason)
		if info.Object == "message" || reason == "" {
			reason = in.field(in.stopReason)
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
		if !u.hasTotal {
			eu.TotalTokens = eu.InputTokens + eu.OutputTokens // Anthropic sends no total
		}
		info.Usage = eu
	}
	return info
}

// NormalizeStatus maps the status names in Sail's OpenAPI file onto the
// OpenAI names the SDKs type: pending → queued, running → in_progress.
// Other values, known or not, are returned unchanged.
func NormalizeStatus(s string) string {
	switch s {
	case "pending":
		return "queued"
	case "running":
		return "in_progress"
	}
	return s
}
