// Package payload reads, redacts and compares the JSON bodies that Sail
// sends to completion webhooks and answers on GET. Bodies can be 32 MiB, so
// nothing here decodes a whole body into generic maps: jsontext's decoder
// walks byte spans of the caller's buffer and only the fields sail needs
// are decoded.
package payload

import (
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

type inspector struct {
	r *reader
	b []byte

	id, object, typ, status, model, stopReason, finishReason span
	outputTextField, webhookURL                              span
	hasToken                                                 bool
	tokenSpans                                               []span // every root metadata.webhook_token value

	output      []span // output[].content[] output_text texts
	choiceText  []span
	contentText []span // Anthropic content[] text
	usage       *usageFields
}

type usageFields struct {
	input, output, total, prompt, completion int64
	hasTotal                                 bool
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
	in := &inspector{r: r, b: body}
	if err := in.members(in.top); err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	in.r = nil
	return in, nil
}

// object reads the object that comes next, calling fn with each member's
// name; fn must consume the value. Anything else is skipped.
func (in *inspector) members(fn func(name []byte) error) error {
	if in.r.dec.PeekKind() != '{' {
		return in.r.skip()
	}
	if err := in.r.token(); err != nil {
		return err
	}
	for {
		if more, err := in.r.more('}'); !more || err != nil {
			return err
		}
		k, _, err := in.r.value()
		if err != nil {
			return err
		}
		if err := fn(name(k)); err != nil {
			return err
		}
	}
}

// array reads the array that comes next, calling fn for each element
// (fn must consume it). Anything else is skipped.
func (in *inspector) array(fn func(i int) error) error {
	if in.r.dec.PeekKind() != '[' {
		return in.r.skip()
	}
	if err := in.r.token(); err != nil {
		return err
	}
	for i := 0; ; i++ {
		if more, err := in.r.more(']'); !more || err != nil {
			return err
		}
		if err := fn(i); err != nil {
			return err
		}
	}
}

// str records the span of a string value and skips anything else.
func (in *inspector) str(dst *span) error {
	*dst = span{}
	if in.r.dec.PeekKind() != '"' {
		return in.r.skip()
	}
	_, sp, err := in.r.value()
	*dst = sp
	return err
}

func (in *inspector) top(key []byte) error {
	switch string(key) {
	case "id":
		return in.str(&in.id)
	case "object":
		return in.str(&in.object)
	case "type":
		return in.str(&in.typ)
	case "status":
		return in.str(&in.status)
	case "model":
		return in.str(&in.model)
	case "stop_reason":
		return in.str(&in.stopReason)
	case "output_text":
		return in.str(&in.outputTextField)
	case "metadata":
		in.webhookURL, in.hasToken = span{}, false
		return in.members(func(key []byte) error {
			switch string(key) {
			case "completion_webhook":
				return in.str(&in.webhookURL)
			case "webhook_token":
				v, sp, err := in.r.value()
				if err == nil {
					in.tokenSpans = append(in.tokenSpans, sp)
					in.hasToken = string(v) != "null" && string(v) != `""`
				}
				return err
			}
			return in.r.skip()
		})
	case "output":
		in.output = nil
		return in.array(func(int) error { return in.outputItem() })
	case "choices":
		in.choiceText, in.finishReason = nil, span{}
		return in.array(func(i int) error {
			if i > 0 {
				return in.r.skip()
			}
			return in.choice()
		})
	case "content":
		in.contentText = nil
		return in.parts("text", &in.contentText)
	case "usage":
		in.usage = nil
		if in.r.dec.PeekKind() != '{' {
			return in.r.skip()
		}
		u := &usageFields{}
		in.usage = u
		return in.members(func(key []byte) error {
			var dst *int64
			switch string(key) {
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
			v, _, err := in.r.value()
			if dst != nil && err == nil {
				*dst = parseCount(v)
			}
			return err
		})
	}
	return in.r.skip()
}

// choice reads choices[0] of a chat completion.
func (in *inspector) choice() error {
	return in.members(func(key []byte) error {
		switch string(key) {
		case "finish_reason":
			return in.str(&in.finishReason)
		case "message":
			return in.members(func(key []byte) error {
				switch {
				case string(key) != "content":
					return in.r.skip()
				case in.r.dec.PeekKind() == '"':
					_, sp, err := in.r.value()
					in.choiceText = []span{sp}
					return err
				}
				in.choiceText = nil
				return in.parts("text", &in.choiceText)
			})
		}
		return in.r.skip()
	})
}

// outputItem reads one element of a Responses object's output[]: only
// items of type "message" (or untyped) contribute text, like the SDKs.
func (in *inspector) outputItem() error {
	var typ span
	var texts []span
	isObject := in.r.dec.PeekKind() == '{'
	err := in.members(func(key []byte) error {
		switch string(key) {
		case "type":
			return in.str(&typ)
		case "content":
			texts = nil
			return in.parts("output_text", &texts)
		}
		return in.r.skip()
	})
	if isObject && (typ.e == 0 || in.field(typ) == "message") {
		in.output = append(in.output, texts...)
	}
	return err
}

// parts reads an array of content parts and appends the text of those
// whose type is wantType.
func (in *inspector) parts(wantType string, dst *[]span) error {
	return in.array(func(int) error {
		var typ, text span
		err := in.members(func(key []byte) error {
			switch string(key) {
			case "type":
				return in.str(&typ)
			case "text":
				return in.str(&text)
			}
			return in.r.skip()
		})
		if err == nil && text.e != 0 && typ.e != 0 && in.field(typ) == wantType {
			*dst = append(*dst, text)
		}
		return err
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
	s, _ := unquote(in.b[sp.s:sp.e], maxField)
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
	info := Info{
		ID:         in.field(in.id),
		Object:     in.field(in.object),
		Status:     status.Normalize(in.field(in.status)),
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

// NormalizeStatus is status.Normalize, the one normaliser every part of
// sail uses.
func NormalizeStatus(s string) string { return status.Normalize(s) }
