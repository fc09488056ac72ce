package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/sailresearch/sail/internal/sailspec"
)

// apiError is one error answer, rendered in OpenAI's envelope
// {"error":{"message","type","param","code"}} on every endpoint,
// /v1/messages included, as Sail's reference answers.
type apiError struct {
	status  int
	typ     string // OpenAI error type
	message string
	param   string // "" renders as null
	code    string // "" renders as null
	// noRetry adds "x-should-retry: false": the official SDKs otherwise retry
	// a 5xx, and a retried create starts another job and another webhook
	// while the emulated failure would only repeat.
	noRetry bool
}

func (e *apiError) Error() string { return e.message }

func invalid(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: param, message: fmt.Sprintf(format, args...)}
}

func invalidCode(param, code, format string, args ...any) *apiError {
	e := invalid(param, format, args...)
	e.code = code
	return e
}

func notFound(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", code: code, message: fmt.Sprintf(format, args...)}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// envelope renders e the way api.openai.com (and Sail) does.
func (e *apiError) envelope() []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": e.message,
		"type":    e.typ,
		"param":   nullable(e.param),
		"code":    nullable(e.code),
	}})
	return b
}

// fields is a decoded JSON request body, kept raw so each field can be
// checked with an error naming it, as the real APIs do.
type fields map[string]json.RawMessage

func decodeBody(body []byte) (fields, *apiError) {
	var f fields
	if err := json.Unmarshal(body, &f); err != nil || f == nil {
		return nil, invalid("", "We could not parse the JSON body of your request. The body must be a JSON object; check it and send it again.")
	}
	return f, nil
}

// jsonKind names the JSON type of raw for error messages.
func jsonKind(raw json.RawMessage) string {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			return "a string"
		case '{':
			return "an object"
		case '[':
			return "an array"
		case 't', 'f':
			return "a boolean"
		case 'n':
			return "null"
		}
		return "a number"
	}
	return "nothing"
}

func isNull(raw json.RawMessage) bool { return raw == nil || jsonKind(raw) == "null" }

func typeError(param, want string, raw json.RawMessage) *apiError {
	return invalidCode(param, "invalid_type", "Invalid type for '%s': expected %s, but got %s instead.", param, want, jsonKind(raw))
}

// str returns the string field name; ok is false when absent or null.
func (f fields) str(name string) (s string, ok bool, aerr *apiError) {
	raw := f[name]
	if isNull(raw) {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, typeError(name, "a string", raw)
	}
	return s, true, nil
}

// boolean returns the boolean field name, false when absent or null.
func (f fields) boolean(name string) (bool, *apiError) {
	raw := f[name]
	if isNull(raw) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, typeError(name, "a boolean", raw)
	}
	return b, nil
}

// positiveInt returns the integer field name (0 when absent or null) and
// rejects values below 1.
func (f fields) positiveInt(name string) (int64, *apiError) {
	raw := f[name]
	if isNull(raw) {
		return 0, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, typeError(name, "an integer", raw)
	}
	if n < 1 {
		return 0, invalidCode(name, "integer_below_min_value", "Invalid '%s': integer below minimum value. Expected a value >= 1, but got %d instead.", name, n)
	}
	return n, nil
}

// Metadata limits: OpenAI's, as the project decided (Sail publishes none).
const (
	maxMetadataKeys   = sailspec.MetadataMaxKeys
	maxMetadataKeyLen = sailspec.MetadataMaxKeyLen
	maxMetadataValLen = sailspec.MetadataMaxValueLen
)

// metadata validates the metadata field: an object of at most 16 string
// values, keys ≤64 and values ≤512 characters. Absent or null gives nil.
func (f fields) metadata() (map[string]string, *apiError) {
	raw := f["metadata"]
	if isNull(raw) {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, typeError("metadata", "an object", raw)
	}
	if len(obj) > maxMetadataKeys {
		return nil, invalidCode("metadata", "object_above_max_properties", "Invalid 'metadata': too many properties. Expected an object with at most %d properties, but got an object with %d properties instead (the emulator applies OpenAI's metadata limits; Sail publishes none).", maxMetadataKeys, len(obj))
	}
	md := make(map[string]string, len(obj))
	for k, v := range obj {
		if len([]rune(k)) > maxMetadataKeyLen {
			return nil, invalidCode("metadata", "string_above_max_length", "Invalid 'metadata': key %q is too long. Expected a key with at most %d characters (the emulator applies OpenAI's metadata limits; Sail publishes none).", truncateRunes(k, 20)+"…", maxMetadataKeyLen)
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, typeError("metadata."+k, "a string", v)
		}
		if len([]rune(s)) > maxMetadataValLen {
			return nil, invalidCode("metadata."+k, "string_above_max_length", "Invalid 'metadata.%s': string too long. Expected a string with maximum length %d, but got a string with length %d instead (the emulator applies OpenAI's metadata limits; Sail publishes none).", k, maxMetadataValLen, len([]rune(s)))
		}
		md[k] = s
	}
	return md, nil
}

// textOf extracts the text of a message content: a string, or an array of
// parts whose "text" fields are joined with newlines (input_text, text and
// output_text parts alike; other parts carry no text for the fake model).
func textOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text *string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	out := ""
	for _, p := range parts {
		if p.Text == nil {
			continue
		}
		if out != "" {
			out += "\n"
		}
		out += *p.Text
	}
	return out
}

// message is one chat-style input message.
type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// conversation decodes a non-empty message array field and returns the
// prompt (the text of the last user message) and all text, for billing.
func (f fields) conversation(name string) (prompt, all string, aerr *apiError) {
	raw := f[name]
	if isNull(raw) {
		return "", "", invalidCode(name, "missing_required_parameter", "Missing required parameter: '%s'.", name)
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return "", "", typeError(name, "an array", raw)
	}
	if len(msgs) == 0 {
		return "", "", invalidCode(name, "empty_array", "Invalid '%s': empty array. Expected an array with minimum length 1, but got an empty array instead.", name)
	}
	for i, m := range msgs {
		var msg message
		if err := json.Unmarshal(m, &msg); err != nil {
			return "", "", typeError(fmt.Sprintf("%s[%d]", name, i), "an object", m)
		}
		if msg.Role == "" {
			return "", "", invalidCode(fmt.Sprintf("%s[%d].role", name, i), "missing_required_parameter", "Missing required parameter: '%s[%d].role'.", name, i)
		}
		text := textOf(msg.Content)
		if all != "" {
			all += "\n"
		}
		all += text
		if msg.Role == "user" {
			prompt = text
		}
	}
	return prompt, all, nil
}
