package sailspec

import (
	"fmt"
	"slices"
	"strings"
)

// CheckResponseObject reports every way body departs from the reference's
// response object (what GET /v1/responses/{id} returns and a webhook
// carries): the required fields present with the right types, a known
// status in either dialect, metadata string-only, and usage an object
// (never null) with its integer counts and both details objects.
func CheckResponseObject(body []byte) []error {
	obj, err := decodeObject(body)
	if err != nil {
		return []error{err}
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	for _, k := range ResponseRequiredKeys() {
		if _, ok := obj[k]; !ok {
			add("required field %q missing", k)
		}
	}
	if v, ok := obj["id"]; ok {
		if s, _ := v.(string); s == "" {
			add("id: want a non-empty string, got %s", kind(v))
		}
	}
	if v, ok := obj["object"]; ok && v != "response" {
		add("object = %v, want \"response\"", v)
	}
	if v, ok := obj["created_at"]; ok {
		if _, isInt := integer(v); !isInt {
			add("created_at: want an integer (Unix seconds), got %s", kind(v))
		}
	}
	if v, ok := obj["status"]; ok {
		s, _ := v.(string)
		if !KnownStatus(s) {
			add("status = %v: want one of %s (or %s)", v,
				strings.Join(StatusesReference(), ", "), strings.Join(StatusesOpenAI(), ", "))
		}
	}
	if v, ok := obj["model"]; ok {
		if s, _ := v.(string); s == "" {
			add("model: want a non-empty string, got %s", kind(v))
		}
	}
	if v, ok := obj["metadata"]; ok && v != nil {
		md, isObj := v.(map[string]any)
		if !isObj {
			add("metadata: want an object of strings, got %s", kind(v))
		}
		for _, k := range sortedKeys(md) {
			if _, isStr := md[k].(string); !isStr {
				add("metadata.%s: want a string, got %s", k, kind(md[k]))
			}
		}
	}
	if v, ok := obj["usage"]; ok {
		errs = append(errs, checkUsage(v)...)
	}
	if v, ok := obj["background"]; ok && v != nil {
		if _, isBool := v.(bool); !isBool {
			add("background: want a boolean, got %s", kind(v))
		}
	}
	if v, ok := obj["output"]; ok {
		if _, isArr := v.([]any); !isArr {
			add("output: want an array, got %s", kind(v))
		}
	}
	if v, ok := obj["error"]; ok && v != nil {
		if _, isObj := v.(map[string]any); !isObj {
			add("error: want null or an object, got %s", kind(v))
		}
	}
	return errs
}

func checkUsage(v any) []error {
	u, ok := v.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("usage: want an object (zeros before the response finishes), got %s", kind(v))}
	}
	var errs []error
	nonNegInt := func(key string, v any) {
		if n, ok := integer(v); !ok || n < 0 {
			errs = append(errs, fmt.Errorf("%s: want a non-negative integer, got %v", key, v))
		}
	}
	for _, k := range UsageKeys() {
		nonNegInt("usage."+k, u[k])
	}
	details := UsageDetails()
	for _, d := range sortedKeys(details) {
		obj, ok := u[d].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("usage.%s: want an object, got %s", d, kind(u[d])))
			continue
		}
		for _, k := range details[d] {
			nonNegInt("usage."+d+"."+k, obj[k])
		}
	}
	return errs
}

// KnownStatus reports whether s is a response status in either dialect
// (exact spelling, as the wire carries it).
func KnownStatus(s string) bool {
	return slices.Contains(StatusesReference(), s) || slices.Contains(StatusesOpenAI(), s)
}

// CheckErrorEnvelope reports every way an error answer's body departs
// from OpenAI's envelope {"error":{"message","type","param","code"}},
// which Sail uses on every endpoint: message a non-empty string, type a
// string, param and code strings or null.
func CheckErrorEnvelope(body []byte) []error {
	obj, err := decodeObject(body)
	if err != nil {
		return []error{err}
	}
	e, ok := obj["error"].(map[string]any)
	if !ok {
		return []error{fmt.Errorf("error: want an object, got %s", kind(obj["error"]))}
	}
	var errs []error
	for _, k := range ErrorKeys() {
		v, present := e[k]
		switch {
		case !present:
			errs = append(errs, fmt.Errorf("error.%s missing", k))
		case k == "message":
			if s, _ := v.(string); s == "" {
				errs = append(errs, fmt.Errorf("error.message: want a non-empty string, got %s", kind(v)))
			}
		case k == "type":
			if _, isStr := v.(string); !isStr {
				errs = append(errs, fmt.Errorf("error.type: want a string, got %s", kind(v)))
			}
		default:
			if _, isStr := v.(string); !isStr && v != nil {
				errs = append(errs, fmt.Errorf("error.%s: want a string or null, got %s", k, kind(v)))
			}
		}
	}
	return errs
}
