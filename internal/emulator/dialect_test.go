package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestStatusDialects walks a background response through its lifecycle in
// each dialect and checks every status a client can see: the create answer,
// GET while it runs, GET when done, and the webhook.
func TestStatusDialects(t *testing.T) {
	for _, c := range []struct {
		names, pending, running string
	}{
		{"", StatusPending, StatusRunning}, // the default is Sail's reference
		{StatusNamesSail, StatusPending, StatusRunning},
		{StatusNamesOpenAI, StatusQueued, StatusInProgress},
	} {
		t.Run("names="+c.names, func(t *testing.T) {
			rcv := newReceiver(t, nil)
			e := newEmulator(t, Options{StatusNames: c.names, Latency: time.Hour})
			obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
			id := obj["id"].(string)
			if obj["status"] != c.pending {
				t.Fatalf("create status %v, want %s", obj["status"], c.pending)
			}
			// Hold the job in each state long enough to look at it: the
			// lifecycle goroutine is woken by closing cancelCh only on
			// cancel, so drive the status by hand under the lock.
			e.mu.Lock()
			j := e.jobs[id]
			e.setStatusLocked(j, StatusInProgress)
			e.mu.Unlock()
			_, get := call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
			if s := decode(t, get)["status"]; s != c.running {
				t.Errorf("GET while running: %v, want %s", s, c.running)
			}
			code, cancelled := call(t, e, http.MethodPost, "/v1/responses/"+id+"/cancel", nil, nil)
			if code != 200 || decode(t, cancelled)["status"] != StatusCancelled {
				t.Fatalf("cancel from %s: %d %s", c.running, code, cancelled)
			}
			settle(t, e)
			hits := rcv.got()
			if len(hits) != 1 || !bytes.Equal(hits[0].Body, cancelled) {
				t.Fatalf("webhooks = %d, want one carrying the cancelled object", len(hits))
			}

			// Without latency a response goes all the way to completed.
			e2 := newEmulator(t, Options{StatusNames: c.names})
			done, _ := create(t, e2, webhookReq(rcv.URL, nil), nil)
			if done["status"] != c.pending {
				t.Errorf("create status %v, want %s", done["status"], c.pending)
			}
			settle(t, e2)
			_, get = call(t, e2, http.MethodGet, "/v1/responses/"+done["id"].(string), nil, nil)
			if s := decode(t, get)["status"]; s != StatusCompleted {
				t.Errorf("final status %v, want completed", s)
			}
		})
	}
}

func TestStatusNamesOptionValidated(t *testing.T) {
	for _, bad := range []string{"Sail", "anthropic", "pending"} {
		if _, err := New(Options{StatusNames: bad}); err == nil {
			t.Errorf("StatusNames %q accepted", bad)
		}
	}
	if _, err := New(Options{MaxAttempts: -1}); err == nil {
		t.Error("MaxAttempts -1 accepted")
	}
}

// TestMessagesIdempotency: /v1/messages honours anthropic-idempotency-key
// exactly as the other creates honour Idempotency-Key, and only that name.
func TestMessagesIdempotency(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{})
	body := func(prompt string) map[string]any {
		return map[string]any{"model": "zai-org/GLM-5", "max_tokens": 16,
			"messages": []any{map[string]any{"role": "user", "content": prompt}},
			"metadata": map[string]string{"completion_webhook": rcv.URL}}
	}
	key := map[string]string{"anthropic-idempotency-key": "m-1"}

	// A request that fails validation does not use the key up.
	bad := body("What is 1+1?")
	bad["top_k"] = 3
	if code, b := call(t, e, http.MethodPost, "/v1/messages", bad, key); code != 400 {
		t.Fatalf("invalid body: %d %s", code, b)
	}
	code, b := call(t, e, http.MethodPost, "/v1/messages", body("What is 1+1?"), key)
	if code != 200 {
		t.Fatalf("first create: %d %s", code, b)
	}
	first := decode(t, b)
	// Same key, same body (re-encoded): the same message, no new job.
	raw, _ := json.MarshalIndent(body("What is 1+1?"), "", "\t")
	code, b = call(t, e, http.MethodPost, "/v1/messages", raw, key)
	if code != 200 || decode(t, b)["id"] != first["id"] {
		t.Fatalf("replay: %d %s, want message %v again", code, b, first["id"])
	}
	// Same key, other body: 400 idempotency_error naming the header.
	code, b = call(t, e, http.MethodPost, "/v1/messages", body("What is 2+2?"), key)
	var env openAIErr
	if err := json.Unmarshal(b, &env); code != 400 || err != nil || env.Error == nil ||
		str(env.Error.Code) != "idempotency_error" || str(env.Error.Param) != "anthropic-idempotency-key" {
		t.Errorf("other body: %d %s, want 400 idempotency_error", code, b)
	}
	settle(t, e)
	if n := len(rcv.got()); n != 1 {
		t.Errorf("%d webhooks, want 1 (a replay sends none)", n)
	}

	// Idempotency-Key is not the messages header: two requests, two jobs.
	other := map[string]string{"Idempotency-Key": "m-2"}
	_, b1 := call(t, e, http.MethodPost, "/v1/messages", body("What is 3+3?"), other)
	_, b2 := call(t, e, http.MethodPost, "/v1/messages", body("What is 3+3?"), other)
	if decode(t, b1)["id"] == decode(t, b2)["id"] {
		t.Error("Idempotency-Key was honoured on /v1/messages; Sail reads anthropic-idempotency-key there")
	}
	// And anthropic-idempotency-key is not read on /v1/responses.
	r1, _ := create(t, e, map[string]any{"model": "zai-org/GLM-5", "input": "x"}, map[string]string{"anthropic-idempotency-key": "r-1"})
	r2, _ := create(t, e, map[string]any{"model": "zai-org/GLM-5", "input": "x"}, map[string]string{"anthropic-idempotency-key": "r-1"})
	if r1["id"] == r2["id"] {
		t.Error("anthropic-idempotency-key was honoured on /v1/responses")
	}
}

// TestResponsesIdempotencyValidationDoesNotUseKey: a create refused by
// validation leaves its Idempotency-Key free for the corrected request.
func TestResponsesIdempotencyValidationDoesNotUseKey(t *testing.T) {
	e := newEmulator(t, Options{})
	key := map[string]string{"Idempotency-Key": "k-1"}
	if code, b := call(t, e, http.MethodPost, "/v1/responses", map[string]any{"model": "zai-org/GLM-5", "input": "x", "temperature": 9}, key); code != 400 {
		t.Fatalf("invalid: %d %s", code, b)
	}
	if code, b := call(t, e, http.MethodPost, "/v1/responses", map[string]any{"model": "zai-org/GLM-5", "input": "x"}, key); code != 200 {
		t.Fatalf("corrected request under the same key: %d %s", code, b)
	}
}
