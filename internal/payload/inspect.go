// Package payload reads, redacts and compares the JSON bodies that Sail
// sends to completion webhooks and answers on GET.
//
// Standard parts do the JSON: encoding/json/v2 decodes the fields sail
// reads into a declared struct (inspect.go), straight from a jsontext
// decoder over the caller's buffer, so a 32 MiB body is walked in place
// and its strings stay byte spans until asked for; jsontext validates,
// unquotes and compacts; Compare decodes both sides with encoding/json.
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
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
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

// The fields sail reads are declared as structs and decoded by
// encoding/json/v2 from the pooled jsontext decoder, which reads the
// caller's buffer in place. Every leaf is a span type below, so no string
// is copied until info asks for it, and every node skips a value of
// another kind instead of failing: a sender's odd types leave a field
// empty, as before.
type doc struct {
	ID         str `json:"id"`
	Object     str `json:"object"`
	Type       str `json:"type"`
	Status     str `json:"status"`
	Model      str `json:"model"`
	StopReason str `json:"stop_reason"`
	OutputText str `json:"output_text"`
	Metadata   obj[struct {
		CompletionWebhook str    `json:"completion_webhook"`
		WebhookToken      tokens `json:"webhook_token"`
	}] `json:"metadata"`
	Output list[obj[struct {
		Type    str             `json:"type"`
		Content list[obj[part]] `json:"content"`
	}]] `json:"output"`
	Choices list[obj[struct {
		FinishReason str `json:"finish_reason"`
		Message      obj[struct {
			Content content `json:"content"`
		}] `json:"message"`
	}]] `json:"choices"`
	Content list[obj[part]] `json:"content"`
	Usage   obj[struct {
		Input      count `json:"input_tokens"`
		Output     count `json:"output_tokens"`
		Total      count `json:"total_tokens"`
		Prompt     count `json:"prompt_tokens"`
		Completion count `json:"completion_tokens"`
	}] `json:"usage"`
}

type part struct {
	Type str `json:"type"`
	Text str `json:"text"`
}

// str is the span of a string value; e == 0 when absent or not a string.
type str span

func (s *str) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*s = str{}
	if d.PeekKind() != '"' {
		return d.SkipValue()
	}
	v, err := d.ReadValue()
	if err == nil {
		*s = str{int(d.InputOffset()) - len(v), int(d.InputOffset())}
	}
	return err
}

// obj decodes T from an object (merging duplicates, as v2 does) and
// skips anything else.
type obj[T any] struct {
	v  T
	ok bool
}

func (o *obj[T]) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	if d.PeekKind() != '{' {
		return d.SkipValue()
	}
	o.ok = true
	return json.UnmarshalDecode(d, &o.v)
}

// list decodes an array, the last one of duplicates winning, and skips
// anything else.
type list[T any] []T

func (l *list[T]) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*l = nil
	if d.PeekKind() != '[' {
		return d.SkipValue()
	}
	return json.UnmarshalDecode(d, (*[]T)(l))
}

// content is a chat message's content: a string or an array of parts.
type content struct {
	text  str
	parts list[obj[part]]
}

func (c *content) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*c = content{}
	if d.PeekKind() == '"' {
		return c.text.UnmarshalJSONFrom(d)
	}
	return c.parts.UnmarshalJSONFrom(d)
}

// tokens keeps the span of every metadata.webhook_token value, whatever
// its type, so that Redact masks each of duplicates.
type tokens struct {
	spans []span
	has   bool // the last one is neither null nor ""
}

func (t *tokens) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	v, err := d.ReadValue()
	if err == nil {
		t.spans = append(t.spans, span{int(d.InputOffset()) - len(v), int(d.InputOffset())})
		t.has = string(v) != "null" && string(v) != `""`
	}
	return err
}

// count is a token count; a float is truncated, anything else is 0.
type count struct {
	n   int64
	set bool
}

func (c *count) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	v, err := d.ReadValue()
	*c = count{parseCount(v), true}
	return err
}

type inspector struct {
	doc
	b          []byte
	tokenSpans []span // every root metadata.webhook_token value
	hasToken   bool
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
	if err := json.UnmarshalDecode(&r.dec, &in.doc); err != nil {
		return nil, r.fail(err)
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	in.tokenSpans, in.hasToken = in.Metadata.v.WebhookToken.spans, in.Metadata.v.WebhookToken.has
	return in, nil
}

// texts returns the spans of the text parts of type want.
func texts(parts list[obj[part]], want string, b []byte) []span {
	var out []span
	for _, p := range parts {
		if p.ok && p.v.Text.e != 0 && p.v.Type.e != 0 && field(b, p.v.Type) == want {
			out = append(out, span(p.v.Text))
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

func field(b []byte, sp str) string {
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
		ID:         field(b, in.ID),
		Object:     field(b, in.Object),
		WireStatus: field(b, in.Status),
		Model:      field(b, in.Model),
		WebhookURL: field(b, in.Metadata.v.CompletionWebhook),
		HasToken:   in.hasToken,
	}
	info.Status = status.Normalize(info.WireStatus)
	if info.Object == "" && field(b, in.Type) == "message" {
		info.Object = "message" // Anthropic Messages carry "type", not "object"
	}
	// Only output items of type "message" (or untyped) carry text, as in the SDKs.
	var output, choiceText []span
	for _, it := range in.Output {
		if it.ok && (it.v.Type.e == 0 || field(b, it.v.Type) == "message") {
			output = append(output, texts(it.v.Content, "output_text", b)...)
		}
	}
	var finishReason str
	if len(in.Choices) > 0 && in.Choices[0].ok {
		c := in.Choices[0].v
		finishReason = c.FinishReason
		if m := c.Message.v.Content; m.text.e != 0 {
			choiceText = []span{span(m.text)}
		} else {
			choiceText = texts(m.parts, "text", b)
		}
	}
	contentText := texts(in.Content, "text", b)
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
	if len(ts) == 0 && in.OutputText.e != 0 {
		ts = []span{span(in.OutputText)}
	}
	info.OutputText = in.text(ts, maxText)

	if info.Status == "" {
		reason := field(b, finishReason)
		if info.Object == "message" || reason == "" {
			reason = field(b, in.StopReason)
		}
		switch reason {
		case "":
		case "length", "max_tokens":
			info.Status = "incomplete"
		default:
			info.Status = "completed"
		}
	}
	if u := in.Usage.v; in.Usage.ok {
		eu := &event.Usage{InputTokens: u.Input.n, OutputTokens: u.Output.n, TotalTokens: u.Total.n}
		if eu.InputTokens == 0 && eu.OutputTokens == 0 {
			eu.InputTokens, eu.OutputTokens = u.Prompt.n, u.Completion.n // Chat Completions names
		}
		if !u.Total.set {
			eu.TotalTokens = eu.InputTokens + eu.OutputTokens // Anthropic sends no total
		}
		info.Usage = eu
	}
	return info
}
