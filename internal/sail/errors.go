package sail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sailresearch/sail/internal/exitcode"
)

// APIError is an HTTP error answer from the Sail API. Sail's message is
// kept verbatim (minus any secret the client sent, which is redacted).
type APIError struct {
	StatusCode int
	Message    string        // Sail's error message, or the start of a non-JSON body
	Type       string        // error.type, e.g. invalid_request_error
	Code       string        // error.code, e.g. idempotency_error
	Param      string        // error.param
	RetryAfter time.Duration // from Retry-After / Retry-After-Ms; 0 when absent
	RequestID  string        // x-request-id / request-id header, for support
	Method     string        // of the failed call, e.g. POST
	Path       string        // of the failed call, e.g. /v1/responses
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Sail API: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	var tags []string
	if e.Type != "" {
		tags = append(tags, "type "+e.Type)
	}
	if e.Code != "" {
		tags = append(tags, "code "+e.Code)
	}
	if e.Param != "" {
		tags = append(tags, "param "+e.Param)
	}
	if e.RequestID != "" {
		tags = append(tags, "request id "+e.RequestID)
	}
	if len(tags) > 0 {
		b.WriteString(" (" + strings.Join(tags, ", ") + ")")
	}
	return b.String()
}

// ExitCode maps 401 and 403 to exitcode.Config (the key is missing, wrong or
// not allowed) and every other status to exitcode.Error.
func (e *APIError) ExitCode() int {
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		return exitcode.Config
	}
	return exitcode.Error
}

// ExitHint says what to do next; exitcode.Hint finds it.
func (e *APIError) ExitHint() string {
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return "check SAIL_API_KEY: it is missing, mistyped or revoked (or run with --emulator)"
	case e.StatusCode == http.StatusForbidden:
		return "check SAIL_API_KEY: this key is not allowed to do that (or run with --emulator)"
	case e.StatusCode == http.StatusNotFound && strings.HasPrefix(e.Path, "/v1/responses/"):
		return "check the response id; only ids from the responses endpoint can be fetched"
	case e.StatusCode == http.StatusTooManyRequests && e.RetryAfter > 0:
		return fmt.Sprintf("rate limited: try again in %s", e.RetryAfter.Round(time.Second))
	case e.StatusCode == http.StatusTooManyRequests:
		return "rate limited: try again in a moment"
	case e.StatusCode >= 500:
		return "Sail had a problem answering; try again in a moment"
	}
	return ""
}

// Transient reports whether retrying the same call later may succeed
// (429, 408 and 5xx).
func (e *APIError) Transient() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout || e.StatusCode >= 500
}

// NetworkError is a failure to talk to the API at all: connection refused,
// DNS, TLS, a connection dropped mid-answer.
type NetworkError struct {
	Method, Path string
	BaseURL      string
	Err          error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("%s %s: cannot reach the Sail API at %s: %v", e.Method, e.Path, e.BaseURL, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// ExitCode is exitcode.Error: a per-attempt timeout inside is not the
// user's --timeout.
func (e *NetworkError) ExitCode() int { return exitcode.Error }

// ExitHint says what to do next.
func (e *NetworkError) ExitHint() string {
	return "check your network connection, or point SAIL_API_URL at the right server (or run with --emulator)"
}

// MalformedError is a 2xx answer whose body is not the JSON object expected.
type MalformedError struct {
	Method, Path string
	Err          error
	Body         string // the start of the body, for diagnosis
}

func (e *MalformedError) Error() string {
	msg := fmt.Sprintf("%s %s: the Sail API answered with malformed JSON: %v", e.Method, e.Path, e.Err)
	if e.Body != "" {
		msg += fmt.Sprintf(" (body starts %q)", e.Body)
	}
	return msg
}

func (e *MalformedError) Unwrap() error { return e.Err }

// ExitCode is exitcode.Error.
func (e *MalformedError) ExitCode() int { return exitcode.Error }

// ExitHint says what to do next.
func (e *MalformedError) ExitHint() string {
	return "check that SAIL_API_URL points at a Sail-compatible API"
}

// ErrCancelUnsupported is matched (errors.Is) by the error Cancel returns
// when the API answers 404 or 405 to POST /v1/responses/{id}/cancel.
var ErrCancelUnsupported = errors.New("this Sail API does not support cancelling responses")

type cancelError struct {
	id  string
	api *APIError
}

func (e *cancelError) Error() string {
	if e.api.StatusCode == http.StatusNotFound {
		return fmt.Sprintf("cannot cancel response %s: either this Sail API does not support cancel or the response does not exist: %v", e.id, e.api)
	}
	return fmt.Sprintf("cannot cancel response %s: %v: %v", e.id, ErrCancelUnsupported, e.api)
}

func (e *cancelError) Unwrap() []error { return []error{ErrCancelUnsupported, e.api} }

func (e *cancelError) ExitCode() int { return exitcode.Error }

func (e *cancelError) ExitHint() string {
	return "the response keeps running; wait for it with `sail responses wait " + e.id + "`"
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// newAPIError builds an APIError from an error answer. body is the raw
// body; redact removes secrets from server-provided text.
func newAPIError(method, path string, res *http.Response, body []byte, now time.Time, redact func(string) string) *APIError {
	e := &APIError{
		StatusCode: res.StatusCode,
		Method:     method,
		Path:       path,
		RetryAfter: parseRetryAfter(res.Header, now),
		RequestID:  firstHeader(res.Header, "X-Request-Id", "Request-Id"),
	}
	parseErrorBody(e, body)
	e.Message = redact(e.Message)
	e.Param = redact(e.Param)
	return e
}

// parseErrorBody fills Message/Type/Code/Param from the OpenAI envelope
// {"error":{...}}, Anthropic's {"type":"error","error":{...}}, a bare
// {"error":"text"}, {"message":...} or {"detail":...}; anything else
// becomes the (shortened) body text.
func parseErrorBody(e *APIError, body []byte) {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	trimmed := bytes.TrimSpace(body)
	if json.Unmarshal(trimmed, &env) == nil {
		var inner struct {
			Message json.RawMessage `json:"message"`
			Type    json.RawMessage `json:"type"`
			Code    json.RawMessage `json:"code"`
			Param   json.RawMessage `json:"param"`
		}
		if len(env.Error) > 0 && env.Error[0] == '{' && json.Unmarshal(env.Error, &inner) == nil {
			e.Message = scalar(inner.Message)
			e.Type = scalar(inner.Type)
			e.Code = scalar(inner.Code)
			e.Param = scalar(inner.Param)
		} else if s := scalar(env.Error); s != "" {
			e.Message = s
		}
		if e.Message == "" {
			e.Message = scalar(env.Message)
		}
		if e.Message == "" {
			e.Message = scalar(env.Detail)
		}
		if e.Message != "" {
			return
		}
	}
	e.Message = shorten(string(trimmed), 200)
}

// scalar renders a JSON string, number or bool as text; null, objects and
// arrays give "" except for short arrays/objects (FastAPI details), which
// are kept compact.
func scalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	switch raw[0] {
	case '{', '[':
		return shorten(string(raw), 200)
	}
	return string(raw)
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// parseRetryAfter reads Retry-After-Ms (milliseconds, as OpenAI sends) or
// Retry-After (seconds or an HTTP date). Missing, malformed or past values
// give 0.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e9 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// readLimited reads at most max bytes of r.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, max))
}
