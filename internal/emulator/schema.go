package emulator

import (
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/sailresearch/sail/internal/sailspec"
)

// Request rules from Sail's API reference (OpenAPI 2026-02-18) that go
// beyond decoding one field: the closed schema of /v1/messages, the
// completion window Sail reads from metadata, and sampling ranges. The
// facts themselves come from sailspec, which the tests check against too.

// path is the request path of the create endpoint ep.
func (ep endpoint) path() string {
	switch ep {
	case epChat:
		return sailspec.PathChat
	case epMessages:
		return sailspec.PathMessages
	}
	return sailspec.PathResponses
}

// messagesKeys are the only top-level keys /v1/messages accepts: its
// request schema is closed.
var messagesKeys = sailspec.AllowedKeys(sailspec.PathMessages)

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
// client written against any of them works while a typo is still caught.
// flex needs background=true on /v1/responses; chat and messages have no
// background mode and take it as is.
var CompletionWindows = append(sailspec.CompletionWindows(), "15m", "24h", "balanced")

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

// sampling checks temperature and top_p against the reference's ranges
// for ep: temperature up to 2 on responses and chat, up to 1 on messages;
// top_p up to 1.
func (f fields) sampling(ep endpoint) *apiError {
	if aerr := f.number("temperature", 0, sailspec.TemperatureMax(ep.path())); aerr != nil {
		return aerr
	}
	return f.number("top_p", 0, sailspec.TopPMax)
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

// effort checks the reasoning effort, which each endpoint carries under its
// own key: reasoning.effort (responses), reasoning_effort (chat),
// output_config.effort (messages).
func (f fields) effort(ep endpoint) *apiError {
	outer, inner := "", ""
	switch ep {
	case epResponses:
		outer, inner = "reasoning", "effort"
	case epChat:
		outer = "reasoning_effort"
	case epMessages:
		outer, inner = "output_config", "effort"
	}
	raw := f[outer]
	param := outer
	if inner != "" {
		if isNull(raw) {
			return nil
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return typeError(outer, "an object", raw)
		}
		raw, param = obj[inner], outer+"."+inner
	}
	if isNull(raw) {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return typeError(param, "a string", raw)
	}
	allowed := sailspec.ReasoningEfforts(ep.path())
	if !slices.Contains(allowed, s) {
		return invalidCode(param, "invalid_value", "Invalid value for '%s': %q. Supported values are: %s.",
			param, truncateRunes(s, 64), strings.Join(allowed, ", "))
	}
	return nil
}

// user checks the end-user identifier's length (responses and chat).
func (f fields) user() *apiError {
	s, _, aerr := f.str("user")
	if aerr != nil {
		return aerr
	}
	if n := len([]rune(s)); n > sailspec.MaxUserLen {
		return invalidCode("user", "string_above_max_length",
			"Invalid 'user': string too long. Expected a string with maximum length %d, but got a string with length %d instead.", sailspec.MaxUserLen, n)
	}
	return nil
}

// generation checks the parameters every endpoint shares beyond its own:
// sampling, reasoning effort and, except on messages, user.
func (f fields) generation(ep endpoint) *apiError {
	if aerr := f.sampling(ep); aerr != nil {
		return aerr
	}
	if aerr := f.effort(ep); aerr != nil {
		return aerr
	}
	if ep == epMessages {
		return nil
	}
	return f.user()
}
