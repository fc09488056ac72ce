// Package payload reads, redacts and compares the JSON bodies that Sail
// sends to completion webhooks and answers on GET. Bodies can be 32 MiB, so
// nothing here decodes a whole body into generic maps: a small scanner walks
// byte spans of the caller's buffer and decodes only the fields it needs.
package payload

import (
	"bytes"
	"strconv"
	"strings"

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

// inspect walks the body once, validating it on the way.
func inspect(body []byte) (*inspector, error) {
	start := skipWS(body, 0)
	if start == len(body) || body[start] != '{' {
		// Not an object: say whether it is valid JSON of another kind.
		if _, _, err := parseDocument(body); err != nil {
			return nil, err
		}
		return nil, &NotObjectError{Kind: kindOf(body[start])}
	}
	in := &inspector{b: body}
	end, err := in.topLevel(start)
	if err != nil {
		return nil, err
	}
	if j := skipWS(body, end); j != len(body) {
		return nil, synErr(j, "unexpected %s after the top-level value", describe(body[j]))
	}
	return in, nil
}

// Prepare is InspectLimit and Redact in one go, for the receiver's hot
// path: when the token cannot occur anywhere but in metadata (it is
// absent from the raw bytes and no \u escape could spell it), the walk
// that inspected the body also found what to mask, and the body is not
// walked a second time. The result is always identical to calling
// InspectLimit and then Redact; like Redact, it works in place. On an
// error the body is still redacted (best-effort, as Redact does for
// invalid JSON).
func Prepare(body []byte, token string, maxText int) (Info, []byte, error) {
	in, err := inspect(body)
	if err != nil {
		return Info{}, Redact(body, token), err
	}
	if len(token) < MinTokenLen || tokenOnlyRaw(token) && onlyInSpans(body, []byte(token), in.tokenSpans) && !asciiEscape(body) {
		edits := make([]edit, len(in.tokenSpans))
		for i, sp := range in.tokenSpans {
			edits[i] = edit{sp.s, sp.e, `"` + Mask + `"`}
		}
		info := in.info(maxText)
		return info, apply(body, edits), nil
	}
	info := in.info(maxText) // before Redact rewrites the spans it refers to
	return info, Redact(body, token), nil
}

// onlyInSpans reports whether every raw occurrence of tok lies inside one
// of the spans (the metadata.webhook_token values, masked anyway).
func onlyInSpans(body, tok []byte, spans []span) bool {
	skip := horspool(tok)
	for off := 0; ; {
		k := indexHorspool(body[off:], tok, &skip)
		if k < 0 {
			return true
		}
		s, e := off+k, off+k+len(tok)
		inside := false
		for _, sp := range spans {
			if s >= sp.s && e <= sp.e {
				inside = true
				break
			}
		}
		if !inside {
			return false
		}
		off = e
	}
}

// horspool builds the Boyer–Moore–Horspool shift table of pat. A token
// is long and random, so the search skips most of a 200 KB body instead
// of stopping at every byte that matches the token's first one, which is
// what bytes.Index does on text ("T" of "The…" against a token "T…").
func horspool(pat []byte) [256]int {
	var skip [256]int
	for i := range skip {
		skip[i] = len(pat)
	}
	for i := 0; i < len(pat)-1; i++ {
		skip[pat[i]] = len(pat) - 1 - i
	}
	return skip
}

// indexHorspool is bytes.Index(s, pat) for a non-empty pat, using skip
// from horspool(pat).
func indexHorspool(s, pat []byte, skip *[256]int) int {
	n := len(pat)
	last := pat[n-1]
	for i := 0; i+n <= len(s); {
		c := s[i+n-1]
		if c == last && string(s[i:i+n-1]) == string(pat[:n-1]) {
			return i
		}
		i += skip[c]
	}
	return -1
}

// asciiEscape reports whether body may hold a \u00XX escape of a
// printable ASCII character, the only way a JSON string can spell such a
// character other than raw. Escapes of other characters (\u00e9, \u2019,
// as Python's json.dumps writes them) do not count.
func asciiEscape(body []byte) bool {
	for off := 0; ; {
		k := bytes.Index(body[off:], []byte(`\u00`))
		if k < 0 {
			return false
		}
		i := off + k + 4
		if i+2 > len(body) {
			return true
		}
		if c := body[i]; c >= '2' && c <= '7' {
			return true // 0x20–0x7f
		}
		off = i
	}
}

// tokenOnlyRaw reports whether token consists of characters that a JSON
// string can only spell raw or as \uXXXX (letters, digits, '-', '_', '.',
// '~', '+', '='), so that a raw search plus the absence of \u proves
// that no decoded string contains it.
func tokenOnlyRaw(token string) bool {
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~+=", c) >= 0) {
			return false
		}
	}
	return true
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
	tokenSpans                                               []span // every root metadata.webhook_token value, for Prepare

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

// keyOf returns the raw key of a member for a switch (which converts
// without allocating), decoding it only when it holds escapes.
func keyOf(b []byte, ks, ke int) []byte {
	key := b[ks+1 : ke-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		return []byte(unquote(b[ks:ke], -1))
	}
	return key
}

// topLevel walks the members of the top-level object.
func (in *inspector) topLevel(start int) (int, error) {
	b := in.b
	cur := openCursor(b, start, 0, '}')
	for {
		ks, ke, vs, ok := cur.key()
		if !ok {
			break
		}
		cur.after(in.top(ks, ke, vs))
	}
	return cur.end()
}

func (in *inspector) top(ks, ke, vs int) (int, error) {
	b := in.b
	switch string(keyOf(b, ks, ke)) {
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
		cur := openCursor(b, vs, 1, '}')
		for {
			ks, ke, vs, ok := cur.key()
			if !ok {
				break
			}
			switch string(keyOf(b, ks, ke)) {
			case "completion_webhook":
				cur.after(in.str(&in.webhookURL, vs))
			case "webhook_token":
				end, err := skipValue(b, vs, 2)
				if err == nil {
					in.tokenSpans = append(in.tokenSpans, span{vs, end})
					v := b[vs:end]
					in.hasToken = !(string(v) == "null" || string(v) == `""`)
				}
				cur.after(end, err)
			default:
				cur.after(skipValue(b, vs, 2))
			}
		}
		return cur.end()
	case "output":
		in.output = nil
		if b[vs] != '[' {
			return skipValue(b, vs, 1)
		}
		cur := openCursor(b, vs, 1, ']')
		for {
			vs, ok := cur.elem()
			if !ok {
				break
			}
			cur.after(in.outputItem(vs))
		}
		return cur.end()
	case "choices":
		in.choiceText, in.finishReason = nil, span{}
		if b[vs] != '[' {
			return skipValue(b, vs, 1)
		}
		cur := openCursor(b, vs, 1, ']')
		for first := true; ; first = false {
			vs, ok := cur.elem()
			if !ok {
				break
			}
			if first && b[vs] == '{' {
				cur.after(in.choice(vs))
			} else {
				cur.after(skipValue(b, vs, 2))
			}
		}
		return cur.end()
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
		cur := openCursor(b, vs, 1, '}')
		for {
			ks, ke, vs, ok := cur.key()
			if !ok {
				break
			}
			var dst *int64
			switch string(keyOf(b, ks, ke)) {
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
			cur.after(end, err)
		}
		return cur.end()
	default:
		return skipValue(b, vs, 1)
	}
}

// choice reads choices[0] of a chat completion.
func (in *inspector) choice(vs int) (int, error) {
	b := in.b
	cur := openCursor(b, vs, 2, '}')
	for {
		ks, ke, vs, ok := cur.key()
		if !ok {
			break
		}
		switch string(keyOf(b, ks, ke)) {
		case "finish_reason":
			cur.after(in.str(&in.finishReason, vs))
		case "message":
			if b[vs] != '{' {
				cur.after(skipValue(b, vs, 3))
				continue
			}
			msg := openCursor(b, vs, 3, '}')
			for {
				ks, ke, vs, ok := msg.key()
				if !ok {
					break
				}
				switch {
				case !keyEquals(b, ks, ke, "content"):
					msg.after(skipValue(b, vs, 4))
				case b[vs] == '"':
					end, _, err := scanString(b, vs)
					in.choiceText = []span{{vs, end}}
					msg.after(end, err)
				default:
					in.choiceText = nil
					msg.after(in.parts(vs, 4, "text", &in.choiceText))
				}
			}
			cur.after(msg.end())
		default:
			cur.after(skipValue(b, vs, 3))
		}
	}
	return cur.end()
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
	cur := openCursor(b, vs, 2, '}')
	for {
		ks, ke, vs, ok := cur.key()
		if !ok {
			break
		}
		switch string(keyOf(b, ks, ke)) {
		case "type":
			cur.after(in.str(&typ, vs))
		case "content":
			texts = nil
			cur.after(in.parts(vs, 3, "output_text", &texts))
		default:
			cur.after(skipValue(b, vs, 3))
		}
	}
	end, err := cur.end()
	if typ.e == 0 || keyEquals(b, typ.s, typ.e, "message") {
		in.output = append(in.output, texts...)
	}
	return end, err
}

// parts reads an array of content parts and appends the text of those
// whose type is wantType.
func (in *inspector) parts(vs, depth int, wantType string, dst *[]span) (int, error) {
	b := in.b
	if b[vs] != '[' {
		return skipValue(b, vs, depth)
	}
	arr := openCursor(b, vs, depth, ']')
	for {
		vs, ok := arr.elem()
		if !ok {
			break
		}
		if b[vs] != '{' {
			arr.after(skipValue(b, vs, depth+1))
			continue
		}
		var typ, text span
		cur := openCursor(b, vs, depth+1, '}')
		for {
			ks, ke, vs, ok := cur.key()
			if !ok {
				break
			}
			switch string(keyOf(b, ks, ke)) {
			case "type":
				cur.after(in.str(&typ, vs))
			case "text":
				cur.after(in.str(&text, vs))
			default:
				cur.after(skipValue(b, vs, depth+2))
			}
		}
		end, err := cur.end()
		if err == nil && text.e != 0 && typ.e != 0 && keyEquals(b, typ.s, typ.e, wantType) {
			*dst = append(*dst, text)
		}
		arr.after(end, err)
	}
	return arr.end()
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

// NormalizeStatus is status.Normalize, the one normaliser every part of
// sail uses.
func NormalizeStatus(s string) string { return status.Normalize(s) }
