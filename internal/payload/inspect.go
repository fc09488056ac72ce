// Package payload reads, redacts and compares the JSON bodies that Sail
// sends to completion webhooks and answers on GET. Bodies can be 32 MiB, so
// nothing here decodes a whole body into generic maps: jsontext's decoder
// walks byte spans of the caller's buffer and only the fields sail needs
// are decoded.
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

// The shapes sail reads, decoded by json (v2) straight from the decoder
// over the body: the str, list, object and count types record spans and
// skip values of an unexpected kind instead of failing, and a later
// duplicate member replaces an earlier one, as in encoding/json.
type shape struct {
	ID         str                 `json:"id"`
	Object     str                 `json:"object"`
	Type       str                 `json:"type"`
	Status     str                 `json:"status"`
	Model      str                 `json:"model"`
	StopReason str                 `json:"stop_reason"`
	OutputText str                 `json:"output_text"`
	Metadata   object[metadata]    `json:"metadata"`
	Output     list[outputItem]    `json:"output"`
	Choices    list[choice]        `json:"choices"`
	Content    list[part]          `json:"content"`
	Usage      object[usageFields] `json:"usage"`
}

type metadata struct {
	CompletionWebhook str    `json:"completion_webhook"`
	WebhookToken      tokens `json:"webhook_token"`
}

type outputItem struct {
	Type    str        `json:"type"`
	Content list[part] `json:"content"`
}

type choice struct {
	FinishReason str `json:"finish_reason"`
	Message      struct {
		Content content `json:"content"`
	} `json:"message"`
}

type part struct {
	Type str `json:"type"`
	Text str `json:"text"`
}

type usageFields struct {
	Input      count `json:"input_tokens"`
	Output     count `json:"output_tokens"`
	Total      count `json:"total_tokens"`
	Prompt     count `json:"prompt_tokens"`
	Completion count `json:"completion_tokens"`
}

// str is the span of a string value (quotes included); zero otherwise.
type str span

func (s *str) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*s = str{}
	if d.PeekKind() != '"' {
		return d.SkipValue()
	}
	v, err := d.ReadValue()
	e := int(d.InputOffset())
	*s = str{e - len(v), e}
	return err
}

// list is an array; any other kind is skipped and reads as empty.
type list[T any] []object[T]

func (l *list[T]) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*l = nil
	if d.PeekKind() != '[' {
		return d.SkipValue()
	}
	return json.UnmarshalDecode(d, (*[]object[T])(l))
}

// object is an object; any other kind is skipped and reads as absent.
type object[T any] struct {
	v  T
	ok bool
}

func (o *object[T]) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	if d.PeekKind() != '{' {
		*o = object[T]{}
		return d.SkipValue()
	}
	o.ok = true
	return json.UnmarshalDecode(d, &o.v)
}

// count is a token count: an integer, or a number that truncates to one;
// set even when the value is of another kind.
type count struct {
	n   int64
	set bool
}

func (c *count) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	v, err := d.ReadValue()
	*c = count{parseCount(v), true}
	return err
}

// content is a chat message's content: a string or an array of parts.
type content struct {
	text  str
	parts list[part]
}

func (c *content) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*c = content{}
	if d.PeekKind() == '"' {
		return c.text.UnmarshalJSONFrom(d)
	}
	return c.parts.UnmarshalJSONFrom(d)
}

// tokens collects the span of every metadata.webhook_token value, of any
// kind, duplicates included: all of them are masked.
type tokens struct {
	spans []span
	has   bool // the last one is neither null nor ""
}

func (t *tokens) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	v, err := d.ReadValue()
	e := int(d.InputOffset())
	t.spans = append(t.spans, span{e - len(v), e})
	t.has = string(v) != "null" && string(v) != `""`
	return err
}

type inspector struct {
	b []byte
	shape
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
	if err := json.UnmarshalDecode(&r.dec, &in.shape); err != nil {
		return nil, r.fail(err)
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return in, nil
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

func (in *inspector) field(sp str) string {
	if sp.e == 0 {
		return ""
	}
	s, _ := unquote(in.b[sp.s:sp.e], maxField)
	return s
}

func (in *inspector) text(spans []str, limit int) string {
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

// texts lists the text of the parts of type typ.
func (in *inspector) texts(parts list[part], typ string) []str {
	var out []str
	for _, p := range parts {
		if p.ok && p.v.Text.e != 0 && p.v.Type.e != 0 && in.field(p.v.Type) == typ {
			out = append(out, p.v.Text)
		}
	}
	return out
}

func (in *inspector) info(maxText int) Info {
	md := in.Metadata.v
	info := Info{
		ID:         in.field(in.ID),
		Object:     in.field(in.Object),
		Status:     status.Normalize(in.field(in.Status)),
		Model:      in.field(in.Model),
		WebhookURL: in.field(md.CompletionWebhook),
		HasToken:   md.WebhookToken.has,
	}
	if info.Object == "" && in.field(in.Type) == "message" {
		info.Object = "message" // Anthropic Messages carry "type", not "object"
	}
	// Responses: output[] items of type "message" (or untyped), like the SDKs.
	var output, choiceText []str
	for _, it := range in.Output {
		if it.ok && (it.v.Type.e == 0 || in.field(it.v.Type) == "message") {
			output = append(output, in.texts(it.v.Content, "output_text")...)
		}
	}
	var reason string
	if len(in.Choices) > 0 && in.Choices[0].ok {
		c := in.Choices[0].v
		reason = in.field(c.FinishReason)
		if choiceText = in.texts(c.Message.Content.parts, "text"); c.Message.Content.text.e != 0 {
			choiceText = []str{c.Message.Content.text}
		}
	}
	contentText := in.texts(in.Content, "text")
	var texts []str
	switch {
	case info.Object == "response":
		texts = output
	case info.Object == "chat.completion" || info.Object == "" && choiceText != nil:
		texts = choiceText
	case info.Object == "message":
		texts = contentText
	default:
		for _, t := range [][]str{output, choiceText, contentText} {
			if len(t) > 0 {
				texts = t
				break
			}
		}
	}
	if len(texts) == 0 && in.OutputText.e != 0 {
		texts = []str{in.OutputText}
	}
	info.OutputText = in.text(texts, maxText)

	if info.Status == "" {
		if info.Object == "message" || reason == "" {
			reason = in.field(in.StopReason)
		}
		switch reason {
		case "":
		case "length", "max_tokens":
			info.Status = "incomplete"
		default:
			info.Status = "completed"
		}
	}
	if in.Usage.ok {
		u := in.Usage.v
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

// NormalizeStatus is status.Normalize, the one normaliser every part of
// sail uses.
func NormalizeStatus(s string) string { return status.Normalize(s) }
