package emulator

import (
	"context"
	"net/http"
	"time"
)

// Sample describes a finished response for which a webhook is sent without
// any API (sail trigger): the payload is the response object the emulator
// itself would deliver.
type Sample struct {
	Endpoint   string // responses (default), chat or messages: decides the id's prefix
	Status     string // terminal status; default completed
	Model      string
	Prompt     string // the fake model answers it as it would a create
	WebhookURL string // echoed in metadata.completion_webhook, as Sail does
	Token      string // echoed in metadata.webhook_token, as Sail does
}

// SamplePayload returns the id and the JSON body of the response object s
// describes, rendered by the same code that renders a real job.
func SamplePayload(s Sample, now time.Time) (id string, body []byte) {
	ep := epResponses
	switch s.Endpoint {
	case "chat", string(epChat):
		ep = epChat
	case string(epMessages):
		ep = epMessages
	}
	status := s.Status
	if status == "" {
		status = StatusCompleted
	}
	md := map[string]string{}
	if s.WebhookURL != "" {
		md["completion_webhook"] = s.WebhookURL
	}
	if s.Token != "" {
		md["webhook_token"] = s.Token
	}
	gen := generate(s.Prompt, s.Prompt, 0)
	if status == StatusIncomplete {
		gen = gen.halve()
	}
	j := &job{
		id: ep.newObjectID(), ep: ep, background: ep == epResponses, createdAt: now.Add(-2 * time.Second),
		model: s.Model, metadata: md, outputMsgID: newID("msg_"), gen: gen,
	}
	return j.id, j.render(status, now)
}

// DefaultSendAttempts is Send's attempt budget when none is given: the
// emulator's own, 1 + up to 3 retries.
const DefaultSendAttempts = DefaultMaxAttempts

// SendOptions configure Send. Zero values take the emulator's defaults.
type SendOptions struct {
	Attempts        int           // attempts in all, the first included
	RetryBackoff    time.Duration // before the first retry, doubling
	DeliveryTimeout time.Duration // per attempt
	HTTPClient      *http.Client  // redirects are never followed
	Log             func(Attempt) // each attempt as it ends
}

// Send delivers body to url exactly as the emulator delivers a webhook —
// the same dispatcher, headers, retries, backoff and per-attempt timeout —
// and returns the attempts. Cancelling ctx stops between or during
// attempts.
func Send(ctx context.Context, o SendOptions, url, token, responseID string, body []byte) ([]Attempt, error) {
	eo := Options{MaxAttempts: max(o.Attempts, 0), RetryBackoff: o.RetryBackoff, DeliveryTimeout: o.DeliveryTimeout, HTTPClient: o.HTTPClient, Log: o.Log}
	e, err := New(eo)
	if err != nil {
		return nil, err
	}
	defer e.Close(context.Background())
	stop := context.AfterFunc(ctx, e.abort)
	defer stop()
	e.deliver(&job{id: responseID, webhookURL: url, token: token, f: e.base}, body)
	return e.Attempts(), nil
}
