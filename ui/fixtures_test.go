package ui

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sailresearch/sail/internal/event"
)

// t0 is the fixed wall clock of every test.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

const testID = "resp_01JTESTABCDEF"

// responseBody is a Responses object as Sail delivers it, with the webhook
// token already redacted the way the receiver does.
func responseBody(id, status, text string) []byte {
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "response", "created_at": 1764000000,
		"status": status, "background": true, "model": "moonshotai/Kimi-K2.5",
		"metadata": map[string]string{
			"completion_webhook": "https://3f2a.ngrok-free.app/h/7fK2",
			"webhook_token":      "•••",
		},
		"output": []any{map[string]any{
			"type": "message", "id": "msg_1", "role": "assistant", "status": status,
			"content": []any{map[string]any{"type": "output_text", "text": text, "annotations": []any{}}},
		}},
		"usage": map[string]int{"input_tokens": 14, "output_tokens": 1, "total_tokens": 15},
		"error": nil, "incomplete_details": nil, "completed_at": 1764000002,
	})
	if err != nil {
		panic(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func readyEv() event.Ready {
	return event.Ready{
		WebhookURL: "https://3f2a.ngrok-free.app/h/7fK2", Tunnel: "ngrok",
		ListenAddr: "127.0.0.1:41234", TokenMode: "auto",
		Endpoint: "responses", Model: "moonshotai/Kimi-K2.5",
	}
}

func deliveryEv(id string, attempt int, verdict string, code int, at time.Time, text string) event.Delivery {
	body := responseBody(id, "completed", text)
	d := event.Delivery{
		Attempt: attempt, Verdict: verdict, HTTPStatus: code, Bytes: int64(len(body)),
		ReceivedAt: at, RemoteAddr: "127.0.0.1:52011", ResponseID: id,
		ResponseStatus: "completed", Object: "response", Model: "moonshotai/Kimi-K2.5",
		Excerpt: text,
		Headers: map[string]string{
			"Authorization": "Bearer •••",
			"Content-Type":  "application/json",
			"User-Agent":    "Sail-Webhooks/1.0",
		},
		Body: body,
	}
	if code >= 300 {
		d.Error = fmt.Sprintf("token %s", verdict)
	}
	return d
}

// runScenario is a successful `sail run --webhook`: the webhook arrived with
// the right token and matched GET.
func runScenario(matches bool) []event.Event {
	// The harness clock stands at t0+7s; the webhook arrived then too.
	d := deliveryEv(testID, 1, event.VerdictOK, 200, t0.Add(7*time.Second), "The answer is 4.")
	v := event.Verified{ID: testID, Matches: matches}
	if !matches {
		v.Differences = []string{"output[0].content[0].text", "usage.output_tokens"}
	}
	return []event.Event{
		readyEv(),
		event.Created{ID: testID, Endpoint: "responses", Model: "moonshotai/Kimi-K2.5", Status: "queued"},
		event.Status{ID: testID, Status: "in_progress"},
		d,
		v,
		event.Completed{
			ID: testID, Status: "completed", OutputText: "The answer is 4.",
			Usage:            &event.Usage{InputTokens: 14, OutputTokens: 1, TotalTokens: 15},
			WebhookDelivered: true, CreateToWebhookMS: ptr(int64(2100)),
			WebhookMatchesGet: ptr(matches), Differences: v.Differences,
			Source: "webhook", Payload: d.Body,
		},
	}
}
