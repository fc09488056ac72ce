package sailspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// CheckCreateRequest reports every way a create request to path (one of
// CreatePaths) departs from the reference: headers (auth, content type,
// the idempotency header's name and length) and body (JSON object, only
// listed top-level keys, required keys present, metadata string-only with
// Sail's keys well-formed, values within range). nil means it conforms.
//
// It does not require an idempotency key: the reference makes it
// optional. A caller that always sends one checks IdempotencyHeader.
func CheckCreateRequest(path string, h http.Header, body []byte) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	allowed, ok := allowedKeys[path]
	if !ok {
		return []error{fmt.Errorf("%s is not a create endpoint of the reference", path)}
	}
	errs = append(errs, checkHeaders(path, h)...)

	obj, err := decodeObject(body)
	if err != nil {
		add("body: %v", err)
		return errs
	}
	for _, k := range sortedKeys(obj) {
		if slices.Contains(allowed, k) {
			continue
		}
		switch {
		case k == MetaCompletionWindow:
			add("body: top-level %q: Sail reads it from metadata.%s", k, k)
		case path == PathChat && k == "max_tokens":
			add("body: %q is rejected on %s: the token cap is max_completion_tokens", k, path)
		default:
			add("body: top-level key %q is not in the reference's %s request schema", k, path)
		}
	}
	for _, k := range requiredKeys[path] {
		if _, ok := obj[k]; !ok {
			add("body: required key %q missing", k)
		}
	}
	if md, ok := obj["metadata"]; ok {
		errs = append(errs, checkMetadata(md)...)
	}
	errs = append(errs, checkValues(path, obj)...)
	return errs
}

func checkHeaders(path string, h http.Header) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if err := CheckAuth(h); err != nil {
		errs = append(errs, err)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		add("header Content-Type = %q, want application/json", ct)
	}
	want := IdempotencyHeader(path)
	for _, name := range []string{HeaderIdempotencyKey, HeaderAnthropicIdempotencyKey} {
		vals := h.Values(name)
		if len(vals) == 0 {
			continue
		}
		if name != want {
			add("header %s is not read on %s: Sail names it %s there", name, path, want)
			continue
		}
		if len(vals) > 1 {
			add("header %s sent %d times", name, len(vals))
		}
		if err := CheckIdempotencyKey(vals[0]); err != nil {
			add("header %s: %v", name, err)
		}
	}
	return errs
}

// CheckAuth reports a request without "Authorization: Bearer <key>", the
// only scheme the reference names, on any endpoint.
func CheckAuth(h http.Header) error {
	auth := h.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") || strings.TrimSpace(strings.TrimPrefix(auth, "Bearer ")) == "" {
		return fmt.Errorf("header Authorization: want \"Bearer <key>\"")
	}
	return nil
}

// CheckIdempotencyKey reports a key Sail would refuse: empty, longer than
// MaxIdempotencyKey, or not printable ASCII.
func CheckIdempotencyKey(k string) error {
	if k == "" {
		return fmt.Errorf("empty key")
	}
	if len(k) > MaxIdempotencyKey {
		return fmt.Errorf("key is %d characters, at most %d allowed", len(k), MaxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return fmt.Errorf("key is not printable ASCII")
		}
	}
	return nil
}

// checkMetadata: an object of string values, within the limits, and
// Sail's own keys well-formed.
func checkMetadata(v any) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	md, ok := v.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("metadata: want an object of strings, got %s", kind(v))}
	}
	if len(md) > MetadataMaxKeys {
		add("metadata: %d keys, at most %d", len(md), MetadataMaxKeys)
	}
	for _, k := range sortedKeys(md) {
		s, ok := md[k].(string)
		if !ok {
			add("metadata.%s: want a string, got %s", k, kind(md[k]))
			continue
		}
		if len(k) > MetadataMaxKeyLen {
			add("metadata key %.20q…: %d characters, at most %d", k, len(k), MetadataMaxKeyLen)
		}
		if len(s) > MetadataMaxValueLen {
			add("metadata.%s: value of %d characters, at most %d", k, len(s), MetadataMaxValueLen)
		}
		switch k {
		case MetaCompletionWindow:
			if strings.TrimSpace(s) == "" {
				add("metadata.%s: empty", k)
			}
		case MetaCompletionWebhook:
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add("metadata.%s: %q is not an absolute http(s) URL", k, s)
			}
		}
	}
	if _, ok := md[MetaWebhookToken]; ok {
		if _, ok := md[MetaCompletionWebhook]; !ok {
			add("metadata.%s without metadata.%s", MetaWebhookToken, MetaCompletionWebhook)
		}
	}
	return errs
}

// checkValues checks the types and ranges of the parameters the reference
// describes for path.
func checkValues(path string, obj map[string]any) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if v, ok := obj["model"]; ok {
		if s, ok := v.(string); !ok || strings.TrimSpace(s) == "" {
			add("model: want a non-empty string, got %s", kind(v))
		}
	}
	numberIn := func(key string, v any, lo, hi float64) {
		n, ok := number(v)
		if !ok {
			add("%s: want a number, got %s", key, kind(v))
			return
		}
		if n < lo || n > hi {
			add("%s = %v: outside %v–%v", key, n, lo, hi)
		}
	}
	if v, ok := obj["temperature"]; ok {
		numberIn("temperature", v, 0, TemperatureMax(path))
	}
	if v, ok := obj["top_p"]; ok {
		numberIn("top_p", v, 0, TopPMax)
	}
	if k := TokenCapKey(path); obj[k] != nil {
		if n, ok := integer(obj[k]); !ok || n < 1 {
			add("%s: want a positive integer, got %v", k, obj[k])
		}
	}
	if v, ok := obj["stream"]; ok {
		if _, ok := v.(bool); !ok {
			add("stream: want a boolean, got %s", kind(v))
		}
	}
	for _, k := range []string{"prompt_cache_key", "instructions"} {
		if v, ok := obj[k]; ok {
			if _, ok := v.(string); !ok {
				add("%s: want a string, got %s", k, kind(v))
			}
		}
	}
	if v, ok := obj["user"]; ok {
		s, ok := v.(string)
		switch {
		case !ok:
			add("user: want a string, got %s", kind(v))
		case len(s) > MaxUserLen:
			add("user: %d characters, at most %d", len(s), MaxUserLen)
		}
	}
	effort := func(key string, v any) {
		s, ok := v.(string)
		if !ok || !slices.Contains(ReasoningEfforts(path), s) {
			add("%s = %v: want one of %s", key, v, strings.Join(ReasoningEfforts(path), ", "))
		}
	}

	switch path {
	case PathResponses:
		if v, ok := obj["background"]; ok {
			b, isBool := v.(bool)
			if !isBool {
				add("background: want a boolean, got %s", kind(v))
			}
			if b && obj["stream"] == true {
				add("stream: allowed only on foreground requests, not with background")
			}
		}
		if v, ok := obj["input"]; ok {
			errs = append(errs, checkMessages("input", path, v, true)...)
		}
		if v, ok := obj["reasoning"]; ok {
			r, isObj := v.(map[string]any)
			if !isObj {
				add("reasoning: want an object, got %s", kind(v))
			} else if e, ok := r["effort"]; ok {
				effort("reasoning.effort", e)
			}
		}
		if v, ok := obj["text"]; ok {
			t, isObj := v.(map[string]any)
			if !isObj {
				add("text: want an object, got %s", kind(v))
			} else if f, ok := t["format"]; ok {
				errs = append(errs, checkFormat("text.format", f, false, "text", "json_schema")...)
			}
		}
	case PathChat:
		if v, ok := obj["messages"]; ok {
			errs = append(errs, checkMessages("messages", path, v, false)...)
		}
		if v, ok := obj["reasoning_effort"]; ok {
			effort("reasoning_effort", v)
		}
		if v, ok := obj["response_format"]; ok {
			errs = append(errs, checkFormat("response_format", v, true, "text", "json_object", "json_schema")...)
		}
	case PathMessages:
		if v, ok := obj["messages"]; ok {
			errs = append(errs, checkMessages("messages", path, v, false)...)
		}
		if v, ok := obj["system"]; ok {
			if _, isStr := v.(string); !isStr {
				if _, isArr := v.([]any); !isArr {
					add("system: want a string or an array of text blocks, got %s", kind(v))
				}
			}
		}
		if v, ok := obj["output_config"]; ok {
			oc, isObj := v.(map[string]any)
			if !isObj {
				add("output_config: want an object, got %s", kind(v))
				break
			}
			for _, k := range sortedKeys(oc) {
				switch k {
				case "effort":
					effort("output_config.effort", oc[k])
				case "format":
					f, isObj := oc[k].(map[string]any)
					switch {
					case !isObj:
						add("output_config.format: want an object, got %s", kind(oc[k]))
					case f["type"] != "json_schema":
						add("output_config.format.type = %v: want json_schema", f["type"])
					default:
						if _, ok := f["schema"].(map[string]any); !ok {
							add("output_config.format.schema: want an object")
						}
					}
				default:
					add("output_config.%s: not in the reference", k)
				}
			}
		}
	}
	return errs
}

// checkMessages checks an array of {role, content} messages (or, where
// allowString, a plain string prompt).
func checkMessages(key, path string, v any, allowString bool) []error {
	if s, ok := v.(string); ok {
		if !allowString {
			return []error{fmt.Errorf("%s: want an array of messages, got a string", key)}
		}
		if s == "" {
			return []error{fmt.Errorf("%s: empty", key)}
		}
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		return []error{fmt.Errorf("%s: want an array of messages, got %s", key, kind(v))}
	}
	if len(arr) == 0 {
		return []error{fmt.Errorf("%s: no messages", key)}
	}
	var errs []error
	roles := MessageRoles(path)
	for i, m := range arr {
		obj, ok := m.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s[%d]: want an object, got %s", key, i, kind(m)))
			continue
		}
		role, _ := obj["role"].(string)
		if !slices.Contains(roles, role) {
			errs = append(errs, fmt.Errorf("%s[%d].role = %v: want one of %s", key, i, obj["role"], strings.Join(roles, ", ")))
		}
		switch c := obj["content"].(type) {
		case string:
		case []any:
			if len(c) == 0 {
				errs = append(errs, fmt.Errorf("%s[%d].content: empty", key, i))
			}
		default:
			errs = append(errs, fmt.Errorf("%s[%d].content: want a string or an array of parts, got %s", key, i, kind(obj["content"])))
		}
	}
	return errs
}

// checkFormat checks a structured output format: text.format (flat:
// {type, name, schema, strict}) or chat's response_format (nested:
// {type, json_schema: {name, schema, strict}}).
func checkFormat(key string, v any, nested bool, types ...string) []error {
	f, ok := v.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("%s: want an object, got %s", key, kind(v))}
	}
	typ, _ := f["type"].(string)
	if !slices.Contains(types, typ) {
		return []error{fmt.Errorf("%s.type = %v: want one of %s", key, f["type"], strings.Join(types, ", "))}
	}
	if typ != "json_schema" {
		return nil
	}
	js, where := f, key
	if nested {
		js, ok = f["json_schema"].(map[string]any)
		where = key + ".json_schema"
		if !ok {
			return []error{fmt.Errorf("%s: want an object", where)}
		}
	}
	var errs []error
	if name, _ := js["name"].(string); name == "" {
		errs = append(errs, fmt.Errorf("%s.name: required", where))
	}
	if _, ok := js["schema"].(map[string]any); !ok {
		errs = append(errs, fmt.Errorf("%s.schema: want an object", where))
	}
	return errs
}

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON object, got %s", kind(v))
	}
	return obj, nil
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
