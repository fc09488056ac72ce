package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSamplePayloadIsTheEmulatorsResponseObject(t *testing.T) {
	now := time.Unix(1764000000, 0)
	for _, c := range []struct{ endpoint, status, prefix string }{
		{"responses", StatusCompleted, "resp_"}, {"chat", StatusFailed, "chatcmpl-"},
		{"messages", StatusCancelled, "msg_"}, {"", StatusIncomplete, "resp_"},
	} {
		id, body := SamplePayload(Sample{Endpoint: c.endpoint, Status: c.status, Model: "m", Prompt: "What is 2+2?", WebhookURL: "http://x/h", Token: "tok"}, now)
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, c.prefix) || got["id"] != id || got["object"] != "response" || got["status"] != c.status || got["model"] != "m" {
			t.Errorf("%+v: %s", c, body)
		}
		for _, k := range []string{"created_at", "metadata", "usage", "output", "error", "incomplete_details"} {
			if _, ok := got[k]; !ok {
				t.Errorf("%+v: no %s in %s", c, k, body)
			}
		}
		md, _ := got["metadata"].(map[string]any)
		if md["completion_webhook"] != "http://x/h" || md["webhook_token"] != "tok" {
			t.Errorf("%+v: metadata %v", c, md)
		}
		if c.status == StatusCompleted && !strings.Contains(string(body), `"text":"4"`) {
			t.Errorf("completed: no answer in %s", body)
		}
	}
}

func TestSendRetriesLikeTheDispatcher(t *testing.T) {
	var n atomic.Int32
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		if n.Add(1) < 3 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	var logged atomic.Int32
	atts, err := Send(context.Background(), SendOptions{Attempts: 4, RetryBackoff: time.Millisecond, Log: func(Attempt) { logged.Add(1) }},
		srv.URL, "tok", "resp_1", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 3 || !atts[2].OK() || atts[0].StatusCode != 500 || logged.Load() != 3 || auth.Load() != "Bearer tok" {
		t.Fatalf("attempts %+v, logged %d, auth %v", atts, logged.Load(), auth.Load())
	}

	n.Store(-100) // always 500 from here
	atts, _ = Send(context.Background(), SendOptions{Attempts: 2, RetryBackoff: time.Millisecond}, srv.URL, "", "resp_2", []byte(`{}`))
	if len(atts) != 2 || atts[1].OK() {
		t.Fatalf("budget 2: %+v", atts)
	}
	atts, _ = Send(context.Background(), SendOptions{Attempts: 1}, srv.URL, "", "resp_3", []byte(`{}`))
	if len(atts) != 1 {
		t.Fatalf("budget 1: %+v", atts)
	}

	// Cancelled while waiting to retry: no further attempt.
	ctx, cancel := context.WithCancel(context.Background())
	atts, _ = Send(ctx, SendOptions{Attempts: 4, RetryBackoff: time.Hour, Log: func(Attempt) { cancel() }}, srv.URL, "", "resp_4", []byte(`{}`))
	if len(atts) != 1 {
		t.Fatalf("cancelled: %+v", atts)
	}
}
