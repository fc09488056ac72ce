package sail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/status"
)

// Statuses of a response after status.Normalize: Sail's pending and
// running arrive as queued and in_progress.
const (
	StatusQueued     = status.Queued
	StatusInProgress = status.InProgress
	StatusCompleted  = status.Completed
	StatusFailed     = status.Failed
	StatusCancelled  = status.Cancelled
	StatusIncomplete = status.Incomplete
)

// Object types Sail answers with.
const (
	ObjectResponse       = "response"
	ObjectChatCompletion = "chat.completion"
	ObjectMessage        = "message" // Anthropic's "type"
)

// Response is what any create, Get, Cancel or Wait returns, whatever the
// endpoint: the fields the CLI shows, plus the server's exact bytes.
type Response struct {
	ID       string
	Object   string   // response | chat.completion | message
	Endpoint Endpoint // which endpoint produced it
	// Status is normalised (status.Normalize): logic compares it.
	// chat.completion answers are "completed"; Anthropic messages are
	// "incomplete" when stop_reason is max_tokens and "completed" otherwise.
	Status string
	// WireStatus is the status exactly as the server sent it (pending or
	// queued, RUNNING…), for display; for chat and messages answers, which
	// carry none, it equals Status.
	WireStatus string
	Model      string
	OutputText string // output[].content[] output_text parts, choices[0].message.content or content[].text
	Usage      *event.Usage
	// Error is the response's own error object (status failed), nil if none.
	Error *ResponseError
	// IncompleteReason is incomplete_details.reason or the message's
	// stop_reason when the status is incomplete.
	IncompleteReason string
	// IdempotencyKey is the key the create call sent; "" for Get/Cancel.
	IdempotencyKey string
	// Raw is exactly the JSON body the server returned. It may contain the
	// webhook token in metadata: redact before showing or storing it.
	Raw json.RawMessage
}

// ResponseError is the "error" object of a failed response.
type ResponseError struct {
	Code    string
	Message string
}

// Terminal reports whether the response reached a final status.
func (r *Response) Terminal() bool { return r != nil && status.IsTerminal(r.Status) }

// Failure returns nil unless the response ended failed, cancelled or
// incomplete; then it returns an error carrying exitcode.ResponseFailed
// (exit 6) that says why.
func (r *Response) Failure() error {
	if r == nil {
		return nil
	}
	switch r.Status {
	case StatusFailed, StatusCancelled, StatusIncomplete:
	default:
		return nil
	}
	msg := fmt.Sprintf("response %s ended %s", r.ID, r.Status)
	switch {
	case r.Error != nil && r.Error.Message != "" && r.Error.Code != "":
		msg += fmt.Sprintf(": %s (%s)", r.Error.Message, r.Error.Code)
	case r.Error != nil && r.Error.Message != "":
		msg += ": " + r.Error.Message
	case r.Error != nil && r.Error.Code != "":
		msg += ": " + r.Error.Code
	case r.IncompleteReason != "":
		msg += ": " + r.IncompleteReason
	}
	hint := ""
	if r.Status == StatusIncomplete && (r.IncompleteReason == "max_output_tokens" || r.IncompleteReason == "max_tokens") {
		hint = "raise the output token limit"
	}
	return exitcode.WithHint(exitcode.ResponseFailed, errors.New(msg), hint)
}

// ParseResponse decodes a response object, a chat.completion or an
// Anthropic message — as returned by the API or delivered by a completion
// webhook — into a Response. The endpoint is inferred from the object type.
// It fails only when raw is not a JSON object.
func ParseResponse(raw []byte) (*Response, error) {
	raw = bytes.TrimSpace(raw)
	var w wireObject
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	r := &Response{
		ID:    w.ID,
		Model: w.Model,
		Raw:   append(json.RawMessage(nil), raw...),
	}
	switch {
	case w.Object == ObjectChatCompletion || (w.Object == "" && len(w.Choices) > 0):
		r.Object, r.Endpoint = ObjectChatCompletion, Chat
		r.Status = StatusCompleted
		if s := status.Normalize(w.Status); s != "" {
			// An OpenAI-compatible server may add a status; trust it.
			r.Status = s
		}
		if len(w.Choices) > 0 {
			r.OutputText = textOf(w.Choices[0].Message.Content)
		}
	case w.Type == ObjectMessage && w.Object == "":
		r.Object, r.Endpoint = ObjectMessage, Messages
		r.Status = StatusCompleted
		if w.StopReason == "max_tokens" {
			r.Status = StatusIncomplete
			r.IncompleteReason = w.StopReason
		}
		r.OutputText = textOf(w.Content)
	default:
		r.Object, r.Endpoint = w.Object, Responses
		if r.Object == "" {
			r.Object = ObjectResponse
		}
		r.Status = status.Normalize(w.Status)
		r.OutputText = responseText(w.Output)
		if w.OutputText != nil && r.OutputText == "" {
			r.OutputText = *w.OutputText
		}
		if w.IncompleteDetails != nil {
			r.IncompleteReason = w.IncompleteDetails.Reason
		}
		r.Error = responseError(w.Error)
	}
	r.WireStatus = r.Status
	if w.Status != "" {
		r.WireStatus = w.Status
	}
	r.Usage = w.Usage.event()
	return r, nil
}

// wireObject is the union of the three shapes, decoded loosely: fields
// whose type varies between servers are kept raw.
type wireObject struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Type   string `json:"type"`
	Status string `json:"status"`
	Model  string `json:"model"`

	Output            []wireOutputItem `json:"output"`
	OutputText        *string          `json:"output_text"`
	Error             json.RawMessage  `json:"error"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`

	Choices []struct {
		Message struct {
			Content json.RawMessage `json:"content"`
		} `json:"message"`
	} `json:"choices"`

	Content    json.RawMessage `json:"content"`
	StopReason string          `json:"stop_reason"`

	Usage *wireUsage `json:"usage"`
}

type wireOutputItem struct {
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}

type wireUsage struct {
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

func (u *wireUsage) event() *event.Usage {
	if u == nil {
		return nil
	}
	e := &event.Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, TotalTokens: u.TotalTokens}
	if e.InputTokens == 0 {
		e.InputTokens = u.PromptTokens
	}
	if e.OutputTokens == 0 {
		e.OutputTokens = u.CompletionTokens
	}
	if e.TotalTokens == 0 {
		e.TotalTokens = e.InputTokens + e.OutputTokens
	}
	return e
}

// responseText concatenates the output_text parts of every message item,
// as the SDKs' output_text helper does.
func responseText(items []wireOutputItem) string {
	var b strings.Builder
	for _, it := range items {
		if it.Type != "" && it.Type != "message" {
			continue
		}
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(it.Content, &parts) != nil {
			continue
		}
		for _, p := range parts {
			if p.Type == "output_text" {
				b.WriteString(p.Text)
			}
		}
	}
	return b.String()
}

// textOf reads content that is either a string or a list of parts, and
// concatenates the text parts (chat "text", Anthropic "text" blocks).
func textOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" || p.Type == "output_text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func responseError(raw json.RawMessage) *ResponseError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var e struct {
		Code    json.RawMessage `json:"code"`
		Message json.RawMessage `json:"message"`
	}
	if raw[0] != '{' || json.Unmarshal(raw, &e) != nil {
		if s := scalar(raw); s != "" {
			return &ResponseError{Message: s}
		}
		return nil
	}
	re := &ResponseError{Code: scalar(e.Code), Message: scalar(e.Message)}
	if re.Code == "" && re.Message == "" {
		return nil
	}
	return re
}
