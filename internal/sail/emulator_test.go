package sail

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
)

// The client against the project's emulator: the same wire, both ways.

const emuKey = "sk-emulator-key-123"

type hook struct {
	Auth string
	Body []byte
}

// emulated starts an emulator and a webhook receiver on 127.0.0.1.
func emulated(t *testing.T, o emulator.Options) (*Client, *httptest.Server, <-chan hook) {
	t.Helper()
	o.APIKey = emuKey
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(emu)
	hooks := make(chan hook, 8)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case hooks <- hook{Auth: r.Header.Get("Authorization"), Body: body}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		api.Close()
		_ = emu.Close(ctx)
		recv.Close()
	})
	c, err := New(Options{BaseURL: api.URL, APIKey: emuKey, HTTPClient: api.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, recv, hooks
}

func nextHook(t *testing.T, hooks <-chan hook) hook {
	t.Helper()
	select {
	case h := <-hooks:
		return h
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook within 5s")
		return hook{}
	}
}

func TestEmulatorBackgroundResponseWithWebhook(t *testing.T) {
	c, recv, hooks := emulated(t, emulator.Options{Latency: 20 * time.Millisecond})
	ctx := testCtx(t)
	created, err := c.Create(ctx, CreateRequest{
		Model: "moonshotai/Kimi-K2.5", Input: "What is 2+2? Reply with just the number.",
		Background: true, WebhookURL: recv.URL + "/h", WebhookToken: "tok-abc-123",
		Metadata: map[string]string{"run": "r1"}, CompletionWindow: "flex",
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if created.ID == "" || created.Terminal() {
		t.Fatalf("background create answered %+v", created)
	}
	var mu sync.Mutex
	var statuses []string
	done, err := c.Wait(ctx, created.ID, WaitOptions{Interval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond,
		OnStatus: func(r *Response) { mu.Lock(); statuses = append(statuses, r.Status); mu.Unlock() }})
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if done.Status != StatusCompleted || done.OutputText == "" || done.Usage == nil {
		t.Errorf("final response = %+v", done)
	}
	if last := statuses[len(statuses)-1]; last != StatusCompleted {
		t.Errorf("statuses = %v", statuses)
	}

	h := nextHook(t, hooks)
	if h.Auth != "Bearer tok-abc-123" {
		t.Errorf("webhook Authorization = %q", h.Auth)
	}
	payload, err := ParseResponse(h.Body)
	if err != nil {
		t.Fatalf("webhook payload: %v", err)
	}
	if payload.ID != created.ID || payload.Status != StatusCompleted || payload.OutputText != done.OutputText {
		t.Errorf("payload = %+v, GET = %+v", payload, done)
	}
	var md struct {
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(h.Body, &md); err != nil || md.Metadata["run"] != "r1" || md.Metadata["completion_webhook"] != recv.URL+"/h" {
		t.Errorf("payload metadata = %v (%v)", md.Metadata, err)
	}
}

func TestEmulatorChatAndMessages(t *testing.T) {
	c, recv, hooks := emulated(t, emulator.Options{})
	ctx := testCtx(t)
	for _, ep := range []Endpoint{Chat, Messages} {
		r, err := c.Create(ctx, CreateRequest{Endpoint: ep, Model: "zai-org/GLM-5", Input: "What is 2+2?",
			Instructions: "Be terse.", WebhookURL: recv.URL + "/" + string(ep), WebhookToken: "tok-" + string(ep)})
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		if r.Endpoint != ep || r.Status != StatusCompleted || r.OutputText == "" || r.ID == "" {
			t.Errorf("%s: %+v", ep, r)
		}
		h := nextHook(t, hooks)
		if h.Auth != "Bearer tok-"+string(ep) {
			t.Errorf("%s: webhook Authorization = %q", ep, h.Auth)
		}
		if p, err := ParseResponse(h.Body); err != nil || p.ID != r.ID || p.OutputText != r.OutputText {
			t.Errorf("%s: payload %+v (%v), create %+v", ep, p, err, r)
		}
	}
}

func TestEmulatorIdempotencyAndErrors(t *testing.T) {
	c, _, _ := emulated(t, emulator.Options{Latency: time.Minute})
	ctx := testCtx(t)
	req := CreateRequest{Model: "moonshotai/Kimi-K2.5", Input: "hi", Background: true, IdempotencyKey: "sail-test-key-1"}
	a, err := c.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Create(ctx, req)
	if err != nil || b.ID != a.ID {
		t.Errorf("same key twice gave %v / %v (%v)", a.ID, b, err)
	}
	req.Input = "something else"
	_, err = c.Create(ctx, req)
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != 400 || api.Code != "idempotency_error" {
		t.Errorf("same key, other body: %v", err)
	}

	cancelled, err := c.Cancel(ctx, a.ID)
	if err != nil || cancelled.Status != StatusCancelled || exitcode.Of(cancelled.Failure()) != exitcode.ResponseFailed {
		t.Errorf("Cancel: %+v, %v", cancelled, err)
	}

	if _, err := c.Get(ctx, "resp_does_not_exist"); !errors.As(err, &api) || api.StatusCode != 404 {
		t.Errorf("Get unknown: %v", err)
	}
	if _, err := c.Create(ctx, CreateRequest{Model: "no/such-model", Input: "hi"}); !errors.As(err, &api) || api.StatusCode/100 != 4 || api.Message == "" {
		t.Errorf("unknown model: %v", err)
	}

	models, err := c.Models(ctx)
	if err != nil || len(models) == 0 || models[0].ID != "moonshotai/Kimi-K2.5" {
		t.Errorf("Models = %v, %v", models, err)
	}

	bad, err := New(Options{BaseURL: c.BaseURL(), APIKey: "wrong-key", HTTPClient: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range Endpoints() {
		_, err := bad.Create(ctx, CreateRequest{Endpoint: ep, Model: "moonshotai/Kimi-K2.5", Input: "hi"})
		if exitcode.Of(err) != exitcode.Config || !strings.Contains(exitcode.Hint(err), "SAIL_API_KEY") {
			t.Errorf("%s with wrong key: %v (code %d)", ep, err, exitcode.Of(err))
		}
	}
}

func TestEmulatorFailedOutcome(t *testing.T) {
	c, _, _ := emulated(t, emulator.Options{Outcome: "failed"})
	ctx := testCtx(t)
	r, err := c.Create(ctx, CreateRequest{Model: "moonshotai/Kimi-K2.5", Input: "hi", Background: true})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.Wait(ctx, r.ID, WaitOptions{Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != StatusFailed || exitcode.Of(done.Failure()) != exitcode.ResponseFailed {
		t.Errorf("final = %+v, Failure = %v", done, done.Failure())
	}
}
