package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Item is one prompt of a batch.
type Item struct {
	Line            int               `json:"-"` // 1-based line in the input
	CustomID        string            `json:"custom_id,omitempty"`
	Input           string            `json:"input"`
	Model           string            `json:"model,omitempty"`
	Endpoint        string            `json:"endpoint,omitempty"`
	Instructions    string            `json:"instructions,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	MaxOutputTokens int64             `json:"max_output_tokens,omitempty"`
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
func ParseLine(line []byte, n int) (Item, error) {
	it := Item{Line: n}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&it); err != nil {
		return Item{}, &LineError{Line: n, Err: describeJSONError(err)}
	}
	if dec.More() {
		return Item{}, &LineError{Line: n, Err: errors.New("more than one JSON value on the line")}
	}
	it.Line = n
	if strings.TrimSpace(it.Input) == "" {
		return Item{}, &LineError{Line: n, Err: errors.New(`"input" is missing or empty`)}
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

func describeJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON (%v at byte %d)", se, se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %q: want %s, got %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not valid JSON (the object is cut short)")
	case errors.Is(err, io.EOF):
		return errors.New("empty line")
	}
	return err
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
