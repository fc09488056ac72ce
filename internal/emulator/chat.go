package emulator

import (
	"net/http"
)

// Chat Completions (OpenAI) and Messages (Anthropic) creates. Both run the
// same job as a foreground response: the response object stored under the
// chat/message id is what GET /v1/responses/{id} returns and what the
// webhook carries (the project's decision: Sail documents no other body),
// while the create itself answers in the endpoint's own shape.

func parseChatRequest(f fields) (common, *apiError) {
	var c common
	var aerr *apiError
	if c.model, aerr = requireModel(f); aerr != nil {
		return c, aerr
	}
	prompt, all, aerr := f.conversation("messages")
	if aerr != nil {
		return c, aerr
	}
	// Sail's chat endpoint takes only max_completion_tokens as the cap;
	// the older max_tokens is refused rather than silently ignored.
	if _, ok := f["max_tokens"]; ok {
		return c, invalidCode("max_tokens", "unsupported_parameter",
			"Unsupported parameter: 'max_tokens' is not supported on /v1/chat/completions. Use 'max_completion_tokens' instead.")
	}
	maxTokens, aerr := f.positiveInt("max_completion_tokens")
	if aerr != nil {
		return c, aerr
	}
	if aerr = f.generation(epChat); aerr != nil {
		return c, aerr
	}
	// A top-level completion_window is ignored, as on responses.
	if c.metadata, aerr = f.metadata(); aerr != nil {
		return c, aerr
	}
	if aerr = checkWindow(c.metadata, epChat, false); aerr != nil {
		return c, aerr
	}
	c.gen = generate(prompt, all, maxTokens)
	return c, nil
}

type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   chatUsage    `json:"usage"`
}

type chatChoice struct {
	Index        int         `json:"index"`
	Message      chatMessage `json:"message"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason string      `json:"finish_reason"`
}

type chatMessage struct {
	Role        string  `json:"role"`
	Content     string  `json:"content"`
	Refusal     *string `json:"refusal"`
	Annotations []any   `json:"annotations"`
}

type chatUsage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// failure is the error a chat or messages create answers when the response
// ended failed or cancelled; the webhook still carries the response object.
func failure(status string) *apiError {
	msg := "The emulated model failed (emulator outcome \"failed\"); the completion webhook still carries the failed response."
	if status == StatusCancelled {
		msg = "The request was cancelled (emulator outcome \"cancelled\"); the completion webhook still carries the cancelled response."
	}
	return &apiError{status: http.StatusInternalServerError, typ: "server_error", code: "server_error", message: msg, noRetry: true}
}

func (e *Emulator) createChat(w http.ResponseWriter, r *http.Request, keyHash [32]byte) {
	j, _ := e.begin(w, r, epChat, keyHash, parseChatRequest)
	if j == nil || !e.wait(w, r, j) {
		return
	}
	status := e.statusOf(j)
	finish := "stop"
	switch status {
	case StatusFailed, StatusCancelled:
		writeError(w, failure(status))
		return
	case StatusIncomplete:
		finish = "length"
	}
	writeJSON(w, chatCompletion{
		ID: j.id, Object: "chat.completion", Created: j.createdAt.Unix(), Model: j.model,
		Choices: []chatChoice{{
			Message:      chatMessage{Role: "assistant", Content: j.gen.text, Annotations: []any{}},
			FinishReason: finish,
		}},
		Usage: chatUsage{PromptTokens: j.gen.inputTokens, CompletionTokens: j.gen.outputTokens,
			TotalTokens: j.gen.inputTokens + j.gen.outputTokens},
	})
}

func parseMessagesRequest(f fields) (common, *apiError) {
	var c common
	aerr := f.closedSchema("/v1/messages", messagesKeys)
	if aerr != nil {
		return c, aerr
	}
	if c.model, aerr = requireModel(f); aerr != nil {
		return c, aerr
	}
	maxTokens, aerr := f.positiveInt("max_tokens")
	if aerr != nil {
		return c, aerr
	}
	if maxTokens == 0 {
		return c, invalidCode("max_tokens", "missing_required_parameter", "max_tokens: Field required.")
	}
	prompt, all, aerr := f.conversation("messages")
	if aerr != nil {
		return c, aerr
	}
	if raw := f["system"]; !isNull(raw) {
		all = textOf(raw) + "\n" + all
	}
	if aerr = f.generation(epMessages); aerr != nil {
		return c, aerr
	}
	if c.metadata, aerr = f.metadata(); aerr != nil {
		return c, aerr
	}
	if aerr = checkWindow(c.metadata, epMessages, false); aerr != nil {
		return c, aerr
	}
	c.gen = generate(prompt, all, maxTokens)
	return c, nil
}

type anthropicMessage struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Role         string          `json:"role"`
	Model        string          `json:"model"`
	Content      []anthropicText `json:"content"`
	StopReason   string          `json:"stop_reason"`
	StopSequence *string         `json:"stop_sequence"`
	Usage        anthropicUsage  `json:"usage"`
}

type anthropicText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type anthropicUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
}

func (e *Emulator) createMessage(w http.ResponseWriter, r *http.Request, keyHash [32]byte) {
	j, _ := e.begin(w, r, epMessages, keyHash, parseMessagesRequest)
	if j == nil || !e.wait(w, r, j) {
		return
	}
	status := e.statusOf(j)
	stop := "end_turn"
	switch status {
	case StatusFailed, StatusCancelled:
		writeError(w, failure(status))
		return
	case StatusIncomplete:
		stop = "max_tokens"
	}
	writeJSON(w, anthropicMessage{
		ID: j.id, Type: "message", Role: "assistant", Model: j.model,
		Content:    []anthropicText{{Type: "text", Text: j.gen.text}},
		StopReason: stop,
		Usage:      anthropicUsage{InputTokens: j.gen.inputTokens, OutputTokens: j.gen.outputTokens},
	})
}

// countTokens serves POST /v1/messages/count_tokens with the same estimate
// the fake model bills.
func (e *Emulator) countTokens(w http.ResponseWriter, r *http.Request) {
	body, aerr := readBody(w, r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	f, aerr := decodeBody(body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if _, aerr = requireModel(f); aerr != nil {
		writeError(w, aerr)
		return
	}
	_, all, aerr := f.conversation("messages")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if raw := f["system"]; !isNull(raw) {
		all = textOf(raw) + "\n" + all
	}
	writeJSON(w, map[string]int64{"input_tokens": Tokens(all)})
}
