package emulator

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
)

// Request rules from Sail's API reference (OpenAPI 2026-02-18) that go
// beyond decoding one field: the closed schema of /v1/messages, the
// completion window Sail reads from metadata, and sampling ranges.

// messagesKeys are the only top-level keys /v1/messages accepts: its
// request schema is closed.
var messagesKeys = []string{
	"model", "max_tokens", "messages", "system", "temperature", "top_p", "output_config",
	"tools", "tool_choice", "thinking", "stream", "metadata", "context_management",
}

// closedSchema rejects every top-level key of f outside allowed, naming all
// of them (sorted) so one answer says everything that is wrong.
func (f fields) closedSchema(path string, allowed []string) *apiError {
	var extra []string
	for k := range f {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	quoted := make([]string, len(extra))
	for i, k := range extra {
		quoted[i] = "'" + truncateRunes(k, 64) + "'"
	}
	noun := "argument"
	if len(extra) > 1 {
		noun = "arguments"
	}
	return invalidCode(truncateRunes(extra[0], 64), "unknown_parameter",
		"Unrecognized request %s supplied: %s. %s accepts only: %s.",
		noun, strings.Join(quoted, ", "), path, strings.Join(allowed, ", "))
}

// CompletionWindows are the metadata.completion_window values the emulator
// accepts: the reference's asap, priority, standard and flex, plus the
// values other versions of Sail's docs name (15m, 24h; balanced), so a
// client written against any of them works. flex needs background=true on
// /v1/responses; chat and messages have no background mode and take it as
// is.
var CompletionWindows = []string{"asap", "priority", "standard", "flex", "15m", "24h", "balanced"}

// checkWindow validates metadata.completion_window, which metadata() has
// already checked is a string.
func checkWindow(md map[string]string, ep endpoint, background bool) *apiError {
	w, ok := md["completion_window"]
	if !ok {
		return nil
	}
	if !slices.Contains(CompletionWindows, w) {
		return invalidCode("metadata.completion_window", "invalid_value",
			"Invalid value for 'metadata.completion_window': %q. Supported values are: %s.",
			truncateRunes(w, 64), strings.Join(CompletionWindows, ", "))
	}
	if w == "flex" && ep == epResponses && !background {
		return invalidCode("metadata.completion_window", "invalid_value",
			"metadata.completion_window 'flex' requires background=true.")
	}
	return nil
}

// sampling checks temperature (0..maxTemperature) and top_p (0..1), the
// ranges the reference gives: temperature up to 2 on responses and chat,
// up to 1 on messages.
func (f fields) sampling(maxTemperature float64) *apiError {
	if aerr := f.number("temperature", 0, maxTemperature); aerr != nil {
		return aerr
	}
	return f.number("top_p", 0, 1)
}

// number checks that the field name, when present and not null, is a
// number within [lo, hi].
func (f fields) number(name string, lo, hi float64) *apiError {
	raw := f[name]
	if isNull(raw) {
		return nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil || math.IsNaN(v) {
		return typeError(name, "a number", raw)
	}
	if v < lo {
		return invalidCode(name, "decimal_below_min_value",
			"Invalid '%s': decimal below minimum value. Expected a value >= %g, but got %g instead.", name, lo, v)
	}
	if v > hi {
		return invalidCode(name, "decimal_above_max_value",
			"Invalid '%s': decimal above maximum value. Expected a value <= %g, but got %g instead.", name, hi, v)
	}
	return nil
}
