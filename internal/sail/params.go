package sail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sailspec"
)

// Message is one {role, content} input message. Content is a string or
// an array of content parts, passed through as given.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text returns the content when it is a plain string.
func (m Message) text() (string, bool) {
	var s string
	if json.Unmarshal(m.Content, &s) != nil {
		return "", false
	}
	return s, true
}

// DecodeMessages decodes a JSON array of {role, content} messages and
// checks its shape (roles are checked per endpoint at create time).
func DecodeMessages(raw []byte) ([]Message, error) {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("messages: want a JSON array of {\"role\", \"content\"} objects: %v", err)
	}
	if len(items) == 0 {
		return nil, errors.New("messages: the array is empty")
	}
	out := make([]Message, 0, len(items))
	for i, it := range items {
		var m Message
		for k, v := range it {
			switch k {
			case "role":
				if json.Unmarshal(v, &m.Role) != nil || m.Role == "" {
					return nil, fmt.Errorf("messages[%d].role: want a non-empty string", i)
				}
			case "content":
				m.Content = append(json.RawMessage(nil), bytes.TrimSpace(v)...)
			default:
				return nil, fmt.Errorf("messages[%d]: unknown key %q (want only role and content)", i, k)
			}
		}
		if m.Role == "" {
			return nil, fmt.Errorf("messages[%d]: no role", i)
		}
		if err := checkContent(m.Content); err != nil {
			return nil, fmt.Errorf("messages[%d].content: %v", i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func checkContent(c json.RawMessage) error {
	switch {
	case len(c) == 0:
		return errors.New("missing")
	case c[0] == '"':
		var s string
		if json.Unmarshal(c, &s) != nil || strings.TrimSpace(s) == "" {
			return errors.New("empty")
		}
	case c[0] == '[':
		var parts []map[string]json.RawMessage
		if json.Unmarshal(c, &parts) != nil {
			return errors.New("want an array of content part objects")
		}
		if len(parts) == 0 {
			return errors.New("empty")
		}
	default:
		return errors.New("want a string or an array of content parts")
	}
	return nil
}

// PromptMessages reports whether a prompt's text is a JSON array of
// {role, content} messages, and decodes it. Text that is not a JSON array
// of objects, or whose objects have no "role" at all, is an ordinary
// prompt (ok false), so JSON data can still be sent as text; an array in
// which some object has a role but that is not a valid message list is
// an error, since it was clearly meant as one.
func PromptMessages(prompt string) (msgs []Message, ok bool, err error) {
	t := strings.TrimSpace(prompt)
	if !strings.HasPrefix(t, "[") {
		return nil, false, nil
	}
	var probe []json.RawMessage
	if json.Unmarshal([]byte(t), &probe) != nil || len(probe) == 0 {
		return nil, false, nil
	}
	roles := false
	for _, p := range probe {
		var obj map[string]json.RawMessage
		if json.Unmarshal(p, &obj) != nil {
			return nil, false, nil
		}
		_, ok := obj["role"]
		roles = roles || ok
	}
	if !roles {
		return nil, false, nil // JSON data to ask about, not a conversation
	}
	msgs, err = DecodeMessages([]byte(t))
	if err != nil {
		return nil, true, exitcode.WithHint(exitcode.Usage, err,
			`input messages look like [{"role":"user","content":"…"}]`)
	}
	return msgs, true, nil
}

// JSONSchema asks for structured output that follows Schema.
type JSONSchema struct {
	// Name is the format's name (letters, digits, _ and -, at most 64):
	// required by responses and chat, not sent on messages.
	Name   string
	Schema json.RawMessage // a JSON object
	// Strict, when set, is sent as the format's "strict".
	Strict *bool
}

const maxSchemaName = 64

// ParseJSONSchema reads a --json-schema file or a batch line's
// "json_schema": either a bare JSON Schema, or OpenAI's wrapper
// {"name", "schema", "strict"?} (recognised by an object "schema" and no
// "type"). A missing name is taken from source's base name (the file
// name without extension), or "output".
func ParseJSONSchema(source string, data []byte) (*JSONSchema, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("JSON schema: want a JSON object: %v", err)
	}
	js := &JSONSchema{Schema: bytes.TrimSpace(data)}
	if inner, ok := top["schema"]; ok && top["type"] == nil && len(bytes.TrimSpace(inner)) > 0 && bytes.TrimSpace(inner)[0] == '{' {
		js.Schema = bytes.TrimSpace(inner)
		if n, ok := top["name"]; ok && json.Unmarshal(n, &js.Name) != nil {
			return nil, errors.New(`JSON schema: "name" must be a string`)
		}
		if s, ok := top["strict"]; ok {
			var b bool
			if json.Unmarshal(s, &b) != nil {
				return nil, errors.New(`JSON schema: "strict" must be true or false`)
			}
			js.Strict = &b
		}
	}
	if js.Name == "" {
		js.Name = schemaName(source)
	}
	if err := js.check(); err != nil {
		return nil, err
	}
	return js, nil
}

func schemaName(source string) string {
	base := filepath.Base(source)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_")
	if source == "" || s == "" || s == "." {
		return "output"
	}
	if len(s) > maxSchemaName {
		s = s[:maxSchemaName]
	}
	return s
}

func (js *JSONSchema) check() error {
	if len(js.Name) == 0 || len(js.Name) > maxSchemaName || strings.TrimLeft(js.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return fmt.Errorf("JSON schema name %q: use 1–%d letters, digits, _ or -", js.Name, maxSchemaName)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(js.Schema, &obj) != nil {
		return errors.New("JSON schema: the schema must be a JSON object")
	}
	return nil
}

// MetaUserID is where --user goes on /v1/messages: Anthropic's name for
// the end user, inside metadata, because the messages schema is closed.
const MetaUserID = "user_id"

// checkParams checks the generation parameters against the reference's
// ranges for the request's endpoint: every failure is a usage error, so
// nothing is sent.
func (r *CreateRequest) checkParams() error {
	usage := func(hint, format string, args ...any) error {
		return exitcode.WithHint(exitcode.Usage, fmt.Errorf(format, args...), hint)
	}
	path := r.Endpoint.Path()
	if t := r.Temperature; t != nil {
		hi := sailspec.TemperatureMax(path)
		if *t < 0 || *t > hi || *t != *t {
			return usage("Sail's reference allows 0–2 on responses and chat, 0–1 on messages",
				"temperature %v is outside 0–%v on the %s endpoint", *t, hi, r.Endpoint)
		}
	}
	if p := r.TopP; p != nil && (*p < 0 || *p > sailspec.TopPMax || *p != *p) {
		return usage("use a value from 0 to 1", "top_p %v is outside 0–1", *p)
	}
	if e := r.ReasoningEffort; e != "" {
		if allowed := sailspec.ReasoningEfforts(path); !slices.Contains(allowed, e) {
			return usage("use one of: "+strings.Join(allowed, ", "),
				"reasoning effort %q is not accepted on the %s endpoint", e, r.Endpoint)
		}
	}
	if len(r.User) > sailspec.MaxUserLen {
		return usage("shorten it, e.g. to a hash of the user id",
			"user is %d characters; Sail allows at most %d", len(r.User), sailspec.MaxUserLen)
	}
	if r.PromptCacheKey != "" && r.Endpoint == Messages {
		return usage("drop the prompt cache key, or use --endpoint responses or chat",
			"the messages endpoint has no prompt_cache_key (its request schema is closed)")
	}
	if r.JSONSchema != nil {
		if err := r.JSONSchema.check(); err != nil {
			return exitcode.WithHint(exitcode.Usage, err, "pass a JSON Schema object, e.g. {\"type\":\"object\",\"properties\":{…}}")
		}
	}
	if v, ok := r.Metadata[sailspec.MetaCompletionWindow]; ok && strings.TrimSpace(v) == "" && r.CompletionWindow == "" {
		return usage("pass a window, e.g. --completion-window flex", "metadata completion_window is empty")
	}
	for i, m := range r.Messages {
		if err := checkContent(m.Content); err != nil {
			return usage(`input messages look like [{"role":"user","content":"…"}]`, "messages[%d].content: %v", i, err)
		}
		roles := messageRoles(r.Endpoint)
		if !slices.Contains(roles, m.Role) {
			return usage("use one of: "+strings.Join(roles, ", "),
				"messages[%d]: role %q is not accepted on the %s endpoint", i, m.Role, r.Endpoint)
		}
		if r.Endpoint == Messages && m.Role == "system" {
			if s, ok := m.text(); !ok || strings.TrimSpace(s) == "" {
				return usage(`give the system message as a string`, "messages[%d]: a system message on the messages endpoint becomes \"system\" and must be a non-empty string", i)
			}
		}
	}
	if r.Endpoint == Messages && len(r.Messages) > 0 {
		n := 0
		for _, m := range r.Messages {
			if m.Role != "system" {
				n++
			}
		}
		if n == 0 {
			return usage("add a user message", "the messages endpoint needs at least one user or assistant message")
		}
	}
	return nil
}

// messageRoles are the roles the client accepts per endpoint. On
// messages, a system message is moved into "system", where Anthropic's
// format keeps it.
func messageRoles(ep Endpoint) []string {
	if ep == Messages {
		return []string{"system", "user", "assistant"}
	}
	return []string{"system", "developer", "user", "assistant"}
}

// CheckParams checks the generation parameters and input messages for
// the request's endpoint ("" means responses) without sending anything:
// front ends call it before opening a tunnel, so a bad value is a usage
// error at once. Create runs the same checks.
func (r CreateRequest) CheckParams() error {
	if r.Endpoint == "" {
		r.Endpoint = Responses
	}
	ep, err := ParseEndpoint(string(r.Endpoint))
	if err != nil {
		return err
	}
	r.Endpoint = ep
	return r.checkParams()
}
