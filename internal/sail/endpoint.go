package sail

import (
	"fmt"
	"strings"

	"github.com/sailresearch/sail/internal/exitcode"
)

// Endpoint names one of Sail's create endpoints.
type Endpoint string

const (
	// Responses is POST /v1/responses (OpenAI Responses). Only this endpoint
	// supports background mode, GET by id and cancel.
	Responses Endpoint = "responses"
	// Chat is POST /v1/chat/completions (OpenAI Chat Completions).
	Chat Endpoint = "chat"
	// Messages is POST /v1/messages (Anthropic Messages).
	Messages Endpoint = "messages"
)

// Endpoints lists the endpoints in the order help text shows them.
func Endpoints() []Endpoint { return []Endpoint{Responses, Chat, Messages} }

// Path is the URL path of the endpoint's create call.
func (e Endpoint) Path() string {
	switch e {
	case Chat:
		return "/v1/chat/completions"
	case Messages:
		return "/v1/messages"
	default:
		return "/v1/responses"
	}
}

// ParseEndpoint accepts an endpoint name as users type it: "responses",
// "chat" (also "chat/completions", "chat.completions", "completions") or
// "messages", case-insensitively, with an optional leading "/v1/". An
// unknown name is a usage error (exit 2).
func ParseEndpoint(s string) (Endpoint, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.TrimPrefix(n, "/")
	n = strings.TrimPrefix(n, "v1/")
	switch n {
	case "responses", "response":
		return Responses, nil
	case "chat", "chat/completions", "chat.completions", "chat-completions", "completions":
		return Chat, nil
	case "messages", "message":
		return Messages, nil
	}
	return "", exitcode.WithHint(exitcode.Usage,
		fmt.Errorf("unknown endpoint %q", s),
		"use one of: responses, chat, messages")
}
