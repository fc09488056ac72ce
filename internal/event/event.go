// Package event defines the one set of event types that every front end
// (NDJSON, plain lines, the TUI) consumes. The JSON field names are a
// versioned public contract documented in docs/events.md: add fields freely,
// never rename or remove one without bumping Version.
package event

import (
	"encoding/json"
	"sync"
	"time"
)

// Version is the schema version written as "v" in every NDJSON event.
const Version = 1

// Kind names an event type; it is the "type" field on the wire.
type Kind string

const (
	KindReady     Kind = "ready"
	KindCreated   Kind = "created"
	KindStatus    Kind = "status"
	KindDelivery  Kind = "delivery"
	KindForwarded Kind = "forwarded"
	KindVerified  Kind = "verified"
	KindCompleted Kind = "completed"
	KindNotice    Kind = "notice"
	KindError     Kind = "error"
)

// Event is implemented by every event type.
type Event interface {
	Kind() Kind
}

// Token verdicts of a delivery.
const (
	VerdictOK       = "ok"       // the expected bearer token was presented
	VerdictMismatch = "mismatch" // a bearer token was presented but it was wrong
	VerdictMissing  = "missing"  // a token was expected and none was presented
	VerdictNone     = "none"     // no token was expected
)

// Token modes, as Ready.TokenMode names them.
const (
	TokenModeAuto  = "auto"  // a random token made for this receiver
	TokenModeFixed = "fixed" // a token the user gave
	TokenModeNone  = "none"  // no token checked
)

// Ready is sent once the webhook endpoint is reachable.
type Ready struct {
	WebhookURL string `json:"webhook_url"`
	Tunnel     string `json:"tunnel"` // local | ngrok | public
	ListenAddr string `json:"listen_addr"`
	TokenMode  string `json:"token_mode,omitempty"` // TokenMode*
	Note       string `json:"note,omitempty"`       // e.g. "reachable only from this machine"
	Endpoint   string `json:"endpoint,omitempty"`
	Model      string `json:"model,omitempty"`
	// Try (listen) holds shell commands to paste that post to this
	// endpoint: a create whose webhook comes here, and a test webhook. A
	// token is always named by a shell variable, never written out.
	Try []string `json:"try,omitempty"`
	// Warning is a plain statement of a risk, e.g. that without a token
	// anyone who has the URL can post to it.
	Warning string `json:"warning,omitempty"`
}

// Created is sent when the create call returned.
type Created struct {
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	Model    string `json:"model"`
	Status   string `json:"status"`
	// OutputText is set when the create call answered with a finished result
	// (chat and messages endpoints, or a foreground response).
	OutputText string `json:"output_text,omitempty"`
}

// Status is sent when polling or a delivery sees the response's status
// change meaning. Status is the value as Sail sent it, in either dialect
// (pending/running or queued/in_progress): consumers normalise it.
type Status struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// Delivery describes one webhook POST that reached the receiver, accepted or
// not.
type Delivery struct {
	RecordID       string            `json:"record_id,omitempty"` // history id, "" with --no-history or when not stored
	Attempt        int               `json:"attempt"`             // 1-based count of POSTs seen for this response id
	Verdict        string            `json:"verdict"`             // ok | mismatch | missing | none
	HTTPStatus     int               `json:"http_status"`         // what the receiver answered
	Bytes          int64             `json:"bytes"`
	Duplicate      bool              `json:"duplicate"`
	ReceivedAt     time.Time         `json:"received_at"`
	RemoteAddr     string            `json:"remote_addr,omitempty"`
	ResponseID     string            `json:"response_id,omitempty"`
	ResponseStatus string            `json:"response_status,omitempty"`
	Object         string            `json:"object,omitempty"` // response | chat.completion | message
	Model          string            `json:"model,omitempty"`
	Excerpt        string            `json:"excerpt,omitempty"` // first line of the output text, shortened
	Error          string            `json:"error,omitempty"`   // why it was rejected or could not be stored
	Headers        map[string]string `json:"-"`                 // Authorization redacted
	Body           json.RawMessage   `json:"-"`                 // the payload, webhook_token redacted
}

// Accepted reports whether the sender got a 2xx.
func (d Delivery) Accepted() bool { return d.HTTPStatus >= 200 && d.HTTPStatus < 300 }

// Forwarded reports the result of re-posting a delivery to the user's app.
type Forwarded struct {
	RecordID   string  `json:"record_id,omitempty"`
	ResponseID string  `json:"response_id,omitempty"`
	URL        string  `json:"url"`
	StatusCode int     `json:"status_code,omitempty"`
	LatencyMS  float64 `json:"latency_ms"`
	Excerpt    string  `json:"excerpt,omitempty"`
	Error      string  `json:"error,omitempty"`
	// Headers are the app's response headers (values redacted like a
	// delivery's), so the app's side of a forward can be inspected.
	Headers map[string]string `json:"headers,omitempty"`
}

// Verified reports the comparison of a delivered payload with GET.
type Verified struct {
	ID          string   `json:"id"`
	Matches     bool     `json:"matches"`
	Differences []string `json:"differences,omitempty"` // JSON paths that differ
	// Diffs gives, per differing path, both sides as compact JSON taken
	// from the redacted payloads (absent side: ""), for the Diff view.
	Diffs []Difference `json:"diffs,omitempty"`
}

// Difference is one path where the webhook's payload and GET's disagree.
type Difference struct {
	Path    string `json:"path"`
	Webhook string `json:"webhook,omitempty"`
	Get     string `json:"get,omitempty"`
}

// Usage is the token usage of a finished response.
type Usage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	TotalTokens  int64 `json:"total_tokens"`
}

// Completed is the final result of a run.
type Completed struct {
	ID                string          `json:"id"`
	Status            string          `json:"status"`
	OutputText        string          `json:"output_text"`
	Usage             *Usage          `json:"usage,omitempty"`
	WebhookDelivered  bool            `json:"webhook_delivered"`
	CreateToWebhookMS *int64          `json:"create_to_webhook_ms"`
	WebhookMatchesGet *bool           `json:"webhook_matches_get"`
	Differences       []string        `json:"differences,omitempty"`
	Source            string          `json:"source"` // webhook | poll | direct
	Payload           json.RawMessage `json:"-"`      // redacted payload shown by --output payload
}

// Notice is a human-oriented message that is not an error (fallback poll
// started, tunnel note, forwarding failures…).
type Notice struct {
	Level   string `json:"level"` // info | warn
	Message string `json:"message"`
}

// Error ends a run that failed.
type Error struct {
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
	ID       string `json:"id,omitempty"` // the response id, when one was created
}

func (Ready) Kind() Kind     { return KindReady }
func (Created) Kind() Kind   { return KindCreated }
func (Status) Kind() Kind    { return KindStatus }
func (Delivery) Kind() Kind  { return KindDelivery }
func (Forwarded) Kind() Kind { return KindForwarded }
func (Verified) Kind() Kind  { return KindVerified }
func (Completed) Kind() Kind { return KindCompleted }
func (Notice) Kind() Kind    { return KindNotice }
func (Error) Kind() Kind     { return KindError }

// Sink receives events. Implementations must be safe for concurrent use and
// must not block for long: the receiver emits from its request goroutines
// after the sender has been answered.
type Sink interface {
	Emit(Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

// Emit calls f(e).
func (f SinkFunc) Emit(e Event) { f(e) }

// Discard drops every event.
var Discard Sink = SinkFunc(func(Event) {})

// Multi fans an event out to several sinks in order.
func Multi(sinks ...Sink) Sink {
	return SinkFunc(func(e Event) {
		for _, s := range sinks {
			if s != nil {
				s.Emit(e)
			}
		}
	})
}

// Serial wraps a sink so that Emit calls never overlap, for renderers that
// write to one stream.
func Serial(s Sink) Sink {
	var mu sync.Mutex
	return SinkFunc(func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		s.Emit(e)
	})
}

// Recorder is a Sink that keeps every event, for tests and for front ends
// that need the history.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Emit records e.
func (r *Recorder) Emit(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of what was recorded.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Kinds returns the kinds recorded, in order.
func (r *Recorder) Kinds() []Kind {
	var out []Kind
	for _, e := range r.Events() {
		out = append(out, e.Kind())
	}
	return out
}
