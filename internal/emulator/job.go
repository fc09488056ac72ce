package emulator

import (
	"container/list"
	"encoding/json"
	"net/http"
	"time"
)

// endpoint names the create endpoint a response came from.
type endpoint string

const (
	epResponses endpoint = "responses"
	epChat      endpoint = "chat.completions"
	epMessages  endpoint = "messages"
)

// job is one response: its immutable request facts and, guarded by
// Emulator.mu, its status and the bytes GET serves.
type job struct {
	id          string
	ep          endpoint
	background  bool
	createdAt   time.Time
	model       string
	metadata    map[string]string
	outputMsgID string
	gen         generation
	f           faults
	webhookURL  string // "" when absent or invalid: no delivery
	token       string
	names       string // status dialect of the emulator (StatusNames)

	done     chan struct{} // closed on reaching a terminal status
	cancelCh chan struct{} // closed by the cancel endpoint, wakes the lifecycle

	// Guarded by Emulator.mu.
	status   string // OpenAI's names; the snapshot carries the dialect's
	snapshot []byte // what GET returns and a webhook carries, marshalled once per status
	running  bool   // the lifecycle goroutine (and its delivery) is alive
	elem     *list.Element
	idemKey  string
}

func terminal(status string) bool {
	switch status {
	case StatusCompleted, StatusFailed, StatusIncomplete, StatusCancelled:
		return true
	}
	return false
}

// ResponseObject and the types below are the wire shapes of the response
// object, as Sail's API reference has them: what GET /v1/responses/{id}
// returns and a completion webhook carries. The benchmark's fixtures build
// their payloads from them too.
type ResponseObject struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	CreatedAt         int64              `json:"created_at"`
	Status            string             `json:"status"`
	Background        bool               `json:"background"`
	Model             string             `json:"model"`
	Metadata          map[string]string  `json:"metadata"`
	Output            []OutputMessage    `json:"output"`
	Usage             ResponseUsage      `json:"usage"`
	Error             *ResponseError     `json:"error"`
	IncompleteDetails *IncompleteDetails `json:"incomplete_details"`
	CompletedAt       *int64             `json:"completed_at"`
}

// OutputMessage is an assistant message in a response's output.
type OutputMessage struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Role    string       `json:"role"`
	Status  string       `json:"status"`
	Content []OutputText `json:"content"`
}

// OutputText is a part of an OutputMessage's content.
type OutputText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

// ResponseUsage is always present, zeros until the response finishes: the
// reference requires it and never makes it null.
type ResponseUsage struct {
	InputTokens         int64               `json:"input_tokens"`
	InputTokensDetails  InputTokensDetails  `json:"input_tokens_details"`
	OutputTokens        int64               `json:"output_tokens"`
	OutputTokensDetails OutputTokensDetails `json:"output_tokens_details"`
	TotalTokens         int64               `json:"total_tokens"`
}

// InputTokensDetails and OutputTokensDetails stay zero: the fake model
// caches nothing and does not reason.
type InputTokensDetails struct {
	CachedTokens int64 `json:"cached_tokens"`
}

type OutputTokensDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// ResponseError says why a response failed.
type ResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// IncompleteDetails says why a response ended incomplete.
type IncompleteDetails struct {
	Reason string `json:"reason"`
}

// render marshals the response object for status (OpenAI's name) at time
// now, with the status written in j's dialect.
func (j *job) render(status string, now time.Time) []byte {
	md := j.metadata
	if md == nil {
		md = map[string]string{}
	}
	r := ResponseObject{
		ID: j.id, Object: "response", CreatedAt: j.createdAt.Unix(), Status: wireStatus(j.names, status),
		Background: j.background, Model: j.model, Metadata: md, Output: []OutputMessage{},
	}
	usage := ResponseUsage{
		InputTokens: j.gen.inputTokens, OutputTokens: j.gen.outputTokens,
		TotalTokens: j.gen.inputTokens + j.gen.outputTokens,
	}
	msg := func(s string) []OutputMessage {
		return []OutputMessage{{
			Type: "message", ID: j.outputMsgID, Role: "assistant", Status: s,
			Content: []OutputText{{Type: "output_text", Text: j.gen.text, Annotations: []any{}}},
		}}
	}
	switch status {
	case StatusCompleted:
		r.Output, r.Usage = msg(StatusCompleted), usage
		at := now.Unix()
		r.CompletedAt = &at
	case StatusIncomplete:
		r.Output, r.Usage = msg(StatusIncomplete), usage
		r.IncompleteDetails = &IncompleteDetails{Reason: "max_output_tokens"}
	case StatusFailed:
		r.Error = &ResponseError{Code: "server_error", Message: "The emulated model failed (emulator outcome \"failed\")."}
	}
	b, _ := json.Marshal(r) // plain structs of strings and numbers cannot fail
	return b
}

// finalStatus is where the job ends without a cancel: the fault outcome,
// unless max output tokens truncated an otherwise completed reply.
func (j *job) finalStatus() string {
	if j.f.outcome == StatusCompleted && j.gen.truncated {
		return StatusIncomplete
	}
	return j.f.outcome
}

// setStatusLocked moves j to status; false if j is already terminal.
func (e *Emulator) setStatusLocked(j *job, status string) bool {
	if terminal(j.status) {
		return false
	}
	j.status = status
	j.snapshot = j.render(status, e.now())
	if terminal(status) {
		e.stats.Active--
		close(j.done)
		e.log.Debug("response finished", "id", j.id, "status", status)
	}
	return true
}

func (e *Emulator) setStatus(j *job, status string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.setStatusLocked(j, status)
}

// lifecycle drives j through queued → in_progress → terminal (pending →
// running → terminal in Sail's names), spaced by its latency, then delivers the webhook. A cancel skips ahead to delivery.
func (e *Emulator) lifecycle(j *job) {
	defer func() {
		e.mu.Lock()
		j.running = false
		e.mu.Unlock()
	}()
	if !sleep(e.stopCtx, j.f.latency, j.cancelCh) {
		return
	}
	if e.setStatus(j, StatusInProgress) {
		if !sleep(e.stopCtx, j.f.latency, j.cancelCh) {
			return
		}
		e.setStatus(j, j.finalStatus())
	}
	e.mu.Lock()
	body := j.snapshot
	e.mu.Unlock()
	e.deliver(j, body)
}

// idemEntry remembers which response an Idempotency-Key created.
type idemEntry struct {
	hash [32]byte // of the canonical request body
	id   string
}

// admitLocked stores j, evicting the oldest finished response when full,
// and starts its lifecycle.
func (e *Emulator) admitLocked(j *job) *apiError {
	if e.closed {
		return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", message: "The emulator is shutting down; start it again and retry.", noRetry: true}
	}
	if len(e.jobs) >= e.o.MaxResponses && !e.evictLocked() {
		return &apiError{status: http.StatusTooManyRequests, typ: "rate_limit_error", code: "rate_limit_exceeded",
			message: "The emulator holds its maximum number of unfinished responses; wait for some to finish and retry."}
	}
	j.status = StatusQueued
	j.snapshot = j.render(StatusQueued, e.now())
	j.running = true
	j.elem = e.order.PushBack(j)
	e.jobs[j.id] = j
	e.stats.Created++
	e.stats.Active++
	if e.stats.Active > e.stats.PeakActive {
		e.stats.PeakActive = e.stats.Active
	}
	e.spawnLocked(func() { e.lifecycle(j) })
	return nil
}

// evictLocked drops the oldest response that is finished and no longer
// delivering; false when there is none.
func (e *Emulator) evictLocked() bool {
	for el := e.order.Front(); el != nil; el = el.Next() {
		j := el.Value.(*job)
		if !terminal(j.status) || j.running {
			continue
		}
		e.order.Remove(el)
		delete(e.jobs, j.id)
		if j.idemKey != "" && e.idem[j.idemKey].id == j.id {
			delete(e.idem, j.idemKey)
		}
		return true
	}
	return false
}

// cancel implements POST /v1/responses/{id}/cancel with OpenAI's rules:
// only background responses; queued or in_progress become cancelled (and
// the webhook fires); cancelling a cancelled response returns it again;
// other terminal statuses are a 400.
func (e *Emulator) cancel(id string) ([]byte, *apiError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	j := e.jobs[id]
	if j == nil {
		return nil, notFound("", "No response found with id '%s'.", id)
	}
	if !j.background {
		return nil, invalid("response_id", "Cannot cancel a synchronous response.")
	}
	switch j.status {
	case StatusCancelled:
		return j.snapshot, nil
	case StatusCompleted:
		return nil, invalid("response_id", "Cannot cancel a completed response.")
	case StatusFailed:
		return nil, invalid("response_id", "Cannot cancel a failed response.")
	case StatusIncomplete:
		return nil, invalid("response_id", "Cannot cancel a response in terminal state.")
	}
	if e.closed {
		return nil, &apiError{status: http.StatusServiceUnavailable, typ: "server_error", message: "The emulator is shutting down; start it again and retry.", noRetry: true}
	}
	e.setStatusLocked(j, StatusCancelled)
	close(j.cancelCh)
	return j.snapshot, nil
}

// get returns the bytes GET /v1/responses/{id} serves.
func (e *Emulator) get(id string) ([]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	j := e.jobs[id]
	if j == nil {
		return nil, false
	}
	return j.snapshot, true
}

// snapshotOf returns j's current bytes, even if j was evicted meanwhile.
func (e *Emulator) snapshotOf(j *job) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return j.snapshot
}

func (e *Emulator) statusOf(j *job) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return j.status
}
