package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/sailspec"
)

// Item is one prompt of a batch.
type Item struct {
	Line     int    `json:"-"` // 1-based line in the input
	CustomID string `json:"custom_id,omitempty"`
	// Input is the text prompt; Messages is set instead when the line's
	// "input" is an array of {role, content} messages.
	Input           string            `json:"input"`
	Messages        []sail.Message    `json:"-"`
	Model           string            `json:"model,omitempty"`
	Endpoint        string            `json:"endpoint,omitempty"`
	Instructions    string            `json:"instructions,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	MaxOutputTokens int64             `json:"max_output_tokens,omitempty"`

	// Generation parameters; nil or "" keeps the run's flags (defaults).
	Temperature      *float64         `json:"temperature,omitempty"`
	TopP             *float64         `json:"top_p,omitempty"`
	ReasoningEffort  string           `json:"reasoning_effort,omitempty"`
	JSONSchema       *sail.JSONSchema `json:"-"`
	PromptCacheKey   string           `json:"prompt_cache_key,omitempty"`
	User             string           `json:"user,omitempty"`
	CompletionWindow string           `json:"completion_window,omitempty"`
}

// line is an input line as written: "input" may be a string or an array
// of messages, "json_schema" a schema or OpenAI's {name, schema, strict}.
type line struct {
	CustomID         string            `json:"custom_id"`
	Input            json.RawMessage   `json:"input"`
	Model            string            `json:"model"`
	Endpoint         string            `json:"endpoint"`
	Instructions     string            `json:"instructions"`
	Metadata         map[string]string `json:"metadata"`
	MaxOutputTokens  int64             `json:"max_output_tokens"`
	Temperature      *float64          `json:"temperature"`
	TopP             *float64          `json:"top_p"`
	ReasoningEffort  string            `json:"reasoning_effort"`
	JSONSchema       json.RawMessage   `json:"json_schema"`
	PromptCacheKey   string            `json:"prompt_cache_key"`
	User             string            `json:"user"`
	CompletionWindow string            `json:"completion_window"`
}

// ApplyParams puts the item's input messages and generation parameters
// on req, over the run's defaults; the other fields are applied by the
// batch runner.
func (it Item) ApplyParams(req *sail.CreateRequest) {
	if len(it.Messages) > 0 {
		req.Input, req.Messages = "", it.Messages
	}
	if it.Temperature != nil {
		req.Temperature = it.Temperature
	}
	if it.TopP != nil {
		req.TopP = it.TopP
	}
	if it.ReasoningEffort != "" {
		req.ReasoningEffort = it.ReasoningEffort
	}
	if it.JSONSchema != nil {
		req.JSONSchema = it.JSONSchema
	}
	if it.PromptCacheKey != "" {
		req.PromptCacheKey = it.PromptCacheKey
	}
	if it.User != "" {
		req.User = it.User
	}
	if it.CompletionWindow != "" {
		req.CompletionWindow = it.CompletionWindow
	}
}

// Key identifies an item for --resume: its custom_id, or its line number.
func (it Item) Key() string {
	if it.CustomID != "" {
		return it.CustomID
	}
	return fmt.Sprintf("line:%d", it.Line)
}

// LineError is a malformed input line.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// maxLine bounds one JSONL line; prompts are text, not payloads.
const maxLine = 4 << 20

// ParseLine decodes one JSONL line into an item. Unknown fields are an
// error so that a typo (e.g. "promt") is not silently ignored.
//
// A line that is a JSON string is a prompt by itself, so a list of prompts
// needs no object around each.
func ParseLine(b []byte, n int) (Item, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return parseStringLine(b, n)
	}
	if len(b) > 0 && !strings.ContainsRune(`{[-0123456789tfn`, rune(b[0])) {
		return Item{}, &LineError{Line: n, Err: errors.New(`not JSON: write the prompt as a JSON string ("What is 2+2?") or an object ({"input": "What is 2+2?"})`)}
	}
	var l line
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return Item{}, &LineError{Line: n, Err: describeJSONError(err)}
	}
	if dec.More() {
		return Item{}, &LineError{Line: n, Err: errors.New("more than one JSON value on the line")}
	}
	it := Item{
		Line: n, CustomID: l.CustomID, Model: l.Model, Endpoint: l.Endpoint, Instructions: l.Instructions,
		Metadata: l.Metadata, MaxOutputTokens: l.MaxOutputTokens, Temperature: l.Temperature, TopP: l.TopP,
		ReasoningEffort: l.ReasoningEffort, PromptCacheKey: l.PromptCacheKey, User: l.User,
		CompletionWindow: l.CompletionWindow,
	}
	if err := it.setInput(l.Input); err != nil {
		return Item{}, &LineError{Line: n, Err: err}
	}
	if err := it.checkParams(l.JSONSchema); err != nil {
		return Item{}, &LineError{Line: n, Err: err}
	}
	if it.MaxOutputTokens < 0 {
		return Item{}, &LineError{Line: n, Err: errors.New(`"max_output_tokens" must not be negative`)}
	}
	switch it.Endpoint {
	case "", "responses", "chat", "messages":
	default:
		return Item{}, &LineError{Line: n, Err: fmt.Errorf(`"endpoint" %q: use responses, chat or messages`, it.Endpoint)}
	}
	for k := range it.Metadata {
		if k == "completion_webhook" || k == "webhook_token" {
			return Item{}, &LineError{Line: n, Err: fmt.Errorf(`"metadata.%s" is set by sail itself`, k)}
		}
	}
	return it, nil
}

// parseStringLine reads a line that is one JSON string: the prompt.
func parseStringLine(line []byte, n int) (Item, error) {
	var input string
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&input); err != nil {
		return Item{}, &LineError{Line: n, Err: describeJSONError(err)}
	}
	if dec.More() {
		return Item{}, &LineError{Line: n, Err: errors.New("more than one JSON value on the line")}
	}
	if strings.TrimSpace(input) == "" {
		return Item{}, &LineError{Line: n, Err: errors.New("the prompt is empty")}
	}
	return Item{Line: n, Input: input}, nil
}

// setInput takes "input" as a string prompt or an array of messages.
func (it *Item) setInput(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return errors.New(`"input" is missing or empty`)
	case raw[0] == '[':
		msgs, err := sail.DecodeMessages(raw)
		if err != nil {
			return fmt.Errorf(`"input": %v`, err)
		}
		it.Messages = msgs
		return nil
	}
	if err := json.Unmarshal(raw, &it.Input); err != nil {
		return errors.New(`"input" must be a string or an array of {"role", "content"} messages`)
	}
	if strings.TrimSpace(it.Input) == "" {
		return errors.New(`"input" is missing or empty`)
	}
	return nil
}

// checkParams catches what no endpoint accepts; the endpoint's own range
// (temperature 0–1 on messages, its effort names) is checked when the
// item is created, since the endpoint may come from the run's flags.
func (it *Item) checkParams(schema json.RawMessage) error {
	if t := it.Temperature; t != nil && (*t < 0 || *t > sailspec.TemperatureMaxOpenAI) {
		return fmt.Errorf(`"temperature" %v is outside 0–%v`, *t, sailspec.TemperatureMaxOpenAI)
	}
	if p := it.TopP; p != nil && (*p < 0 || *p > sailspec.TopPMax) {
		return fmt.Errorf(`"top_p" %v is outside 0–1`, *p)
	}
	if e := it.ReasoningEffort; e != "" && !slices.Contains(sailspec.ReasoningEfforts(sailspec.PathResponses), e) &&
		!slices.Contains(sailspec.ReasoningEfforts(sailspec.PathMessages), e) {
		return fmt.Errorf(`"reasoning_effort" %q: use none, minimal, low, medium, high, xhigh or max`, e)
	}
	if len(it.User) > sailspec.MaxUserLen {
		return fmt.Errorf(`"user" is %d characters, at most %d`, len(it.User), sailspec.MaxUserLen)
	}
	if s := bytes.TrimSpace(schema); len(s) > 0 && string(s) != "null" {
		js, err := sail.ParseJSONSchema("", s)
		if err != nil {
			return fmt.Errorf(`"json_schema": %v`, err)
		}
		it.JSONSchema = js
	}
	return nil
}

// describeJSONError says what is wrong with a line in the terms of the
// input format, not of Go's decoder.
func describeJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON near column %d: %s", max(se.Offset, 1), strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Errorf(`want a JSON object such as {"input": "…"} or a JSON string, got %s`, jsonKind(te.Value))
		}
		field, _, _ := strings.Cut(te.Field, ".")
		return fmt.Errorf("%q must be %s, got %s", field, userType(field), jsonKind(te.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not valid JSON: the line ends before the object does (it is cut short)")
	case errors.Is(err, io.EOF):
		return errors.New("empty line")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown field %s (fields: %s)", strings.TrimPrefix(err.Error(), "json: unknown field "), strings.Join(fieldNames(), ", "))
	}
	return err
}

// fieldNames lists the JSON fields of a line, read from its tags so the list
// stays true as fields are added.
func fieldNames() []string {
	var out []string
	t := reflect.TypeFor[line]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// userType names the JSON type the field wants.
func userType(field string) string {
	t := reflect.TypeFor[line]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != field {
			continue
		}
		ft := t.Field(i).Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.String:
			return "a string"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return "a whole number"
		case reflect.Float32, reflect.Float64:
			return "a number"
		case reflect.Bool:
			return "true or false"
		case reflect.Map:
			if ft.Elem().Kind() == reflect.String {
				return "an object of string values"
			}
			return "an object"
		case reflect.Slice, reflect.Array:
			return "an array"
		}
	}
	return "another type"
}

// jsonKind turns the decoder's name of a JSON value into words.
func jsonKind(v string) string {
	switch v {
	case "string", "number":
		return "a " + v
	case "array", "object":
		return "an " + v
	case "bool":
		return "true or false"
	case "number " + strings.TrimPrefix(v, "number "):
		return "the number " + strings.TrimPrefix(v, "number ")
	}
	return v
}

// Reader streams items from JSONL: the input is never loaded whole. Blank
// lines are skipped.
type Reader struct {
	sc   *bufio.Scanner
	line int
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	return &Reader{sc: sc}
}

// Next returns the next item, a *LineError for a malformed line (the
// caller decides to skip or stop), or io.EOF.
func (r *Reader) Next() (Item, error) {
	for r.sc.Scan() {
		r.line++
		b := bytes.TrimSpace(r.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		return ParseLine(b, r.line)
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Item{}, fmt.Errorf("line %d: longer than %d MiB", r.line+1, maxLine>>20)
		}
		return Item{}, fmt.Errorf("read input: %w", err)
	}
	return Item{}, io.EOF
}
