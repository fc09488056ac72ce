package emulator

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
)

// These tests drive the emulator with the unmodified official SDKs, the way
// the sail client and Sail's users do.

func sdkServer(t *testing.T, o Options) (*Emulator, *httptest.Server) {
	t.Helper()
	e := newEmulator(t, o)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

func openAIClient(srv *httptest.Server, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func anthropicClient(srv *httptest.Server, key string) anthropic.Client {
	return anthropic.NewClient(aoption.WithoutEnvironmentDefaults(), aoption.WithBaseURL(srv.URL),
		aoption.WithAPIKey(key), aoption.WithMaxRetries(0))
}

func TestOpenAISDKResponses(t *testing.T) {
	rcv := newReceiver(t, nil)
	e, srv := sdkServer(t, Options{APIKey: testKey, Latency: 2 * time.Millisecond})
	client := openAIClient(srv, testKey)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	created, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model:      "moonshotai/Kimi-K2.5",
		Input:      responses.ResponseNewParamsInputUnion{OfString: openai.String("What is 2+2? Reply with just the number.")},
		Background: openai.Bool(true),
		Metadata:   shared.Metadata{"completion_webhook": rcv.URL, "webhook_token": "tok"},
	}, option.WithHeader("Idempotency-Key", "sdk-1"))
	if err != nil {
		t.Fatalf("Responses.New: %v", err)
	}
	// The SDK types status as a string: Sail's "pending" comes through.
	if created.Status != StatusPending || !created.Background || created.OutputText() != "" {
		t.Fatalf("created = status %q background %v output %q", created.Status, created.Background, created.OutputText())
	}
	var got *responses.Response
	for i := 0; ; i++ {
		if got, err = client.Responses.Get(ctx, created.ID, responses.ResponseGetParams{}); err != nil {
			t.Fatalf("Responses.Get: %v", err)
		}
		if got.Status == responses.ResponseStatusCompleted {
			break
		}
		if i > 5000 {
			t.Fatalf("still %q after polling", got.Status)
		}
		time.Sleep(time.Millisecond)
	}
	if got.OutputText() != "4" || got.Usage.OutputTokens != 1 || got.Usage.InputTokens != 10 || got.Metadata["webhook_token"] != "tok" {
		t.Errorf("completed: output %q usage %+v", got.OutputText(), got.Usage)
	}
	// An SDK retry with the same Idempotency-Key gets the same response.
	again, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model:      "moonshotai/Kimi-K2.5",
		Input:      responses.ResponseNewParamsInputUnion{OfString: openai.String("What is 2+2? Reply with just the number.")},
		Background: openai.Bool(true),
		Metadata:   shared.Metadata{"completion_webhook": rcv.URL, "webhook_token": "tok"},
	}, option.WithHeader("Idempotency-Key", "sdk-1"))
	if err != nil || again.ID != created.ID {
		t.Errorf("idempotent retry: %v, id %v want %v", err, again.ID, created.ID)
	}
	settle(t, e)
	hits := rcv.got()
	if len(hits) != 1 || hits[0].Auth != "Bearer tok" || decode(t, hits[0].Body)["id"] != created.ID {
		t.Errorf("webhooks = %d, want one for %s with the token", len(hits), created.ID)
	}

	// Foreground with message input, and Sail's completion window (request
	// metadata).
	fg, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "openai/gpt-oss-120b",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("What is 12*12?", responses.EasyInputMessageRoleUser),
		}},
	}, option.WithJSONSet("metadata.completion_window", "priority"))
	if err != nil || fg.Status != responses.ResponseStatusCompleted || fg.OutputText() != "144" {
		t.Errorf("foreground: %v %+v", err, fg)
	}
}

func TestOpenAISDKCancel(t *testing.T) {
	_, srv := sdkServer(t, Options{Latency: time.Hour})
	client := openAIClient(srv, "any")
	ctx := context.Background()
	created, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "zai-org/GLM-5", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")},
		Background: openai.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Responses.Cancel(ctx, created.ID)
	if err != nil || c.Status != responses.ResponseStatusCancelled {
		t.Fatalf("Cancel: %v %+v", err, c)
	}
}

func TestOpenAISDKChatAndModels(t *testing.T) {
	_, srv := sdkServer(t, Options{APIKey: testKey})
	client := openAIClient(srv, testKey)
	ctx := context.Background()
	cc, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "deepseek-ai/DeepSeek-V3.2",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("terse"), openai.UserMessage("What is 2+2? Reply with just the number.")},
		Metadata: shared.Metadata{"completion_webhook": "not a url"},
	})
	if err != nil {
		t.Fatalf("Chat.Completions.New: %v", err)
	}
	if len(cc.Choices) != 1 || cc.Choices[0].Message.Content != "4" || cc.Choices[0].FinishReason != "stop" || cc.Usage.TotalTokens != cc.Usage.PromptTokens+1 {
		t.Errorf("chat completion = %+v", cc)
	}

	var ids []string
	iter := client.Models.ListAutoPaging(ctx)
	for iter.Next() {
		ids = append(ids, iter.Current().ID)
	}
	if err := iter.Err(); err != nil || len(ids) != len(Models) || ids[0] != Models[0] {
		t.Errorf("models = %v, %v", ids, err)
	}

	// Errors arrive as *openai.Error with the envelope's fields.
	wrong := openAIClient(srv, "wrong")
	_, err = wrong.Models.List(ctx)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "invalid_api_key" {
		t.Errorf("wrong key: %v", err)
	}
	_, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-9", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" || apiErr.Param != "model" {
		t.Errorf("unknown model: %v", err)
	}
}

func TestAnthropicSDKMessages(t *testing.T) {
	rcv := newReceiver(t, nil)
	e, srv := sdkServer(t, Options{APIKey: testKey})
	client := anthropicClient(srv, testKey) // sends x-api-key
	ctx := context.Background()

	// MetadataParam only types user_id: the webhook keys go in as extra fields.
	md := anthropic.MetadataParam{}
	md.SetExtraFields(map[string]any{"completion_webhook": rcv.URL, "webhook_token": "tok"})
	msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     "moonshotai/Kimi-K2.6",
		MaxTokens: 64,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is 2+2? Reply with just the number."))},
		Metadata:  md,
	})
	if err != nil {
		t.Fatalf("Messages.New: %v", err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != "4" || msg.StopReason != anthropic.StopReasonEndTurn || msg.Usage.OutputTokens != 1 || msg.Role != "assistant" {
		t.Errorf("message = %+v", msg)
	}

	// Or per request with WithJSONSet.
	msg2, err := client.Messages.New(ctx, anthropic.MessageNewParams{
		Model: "moonshotai/Kimi-K2.6", MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello"))},
	}, aoption.WithJSONSet("metadata.completion_webhook", rcv.URL))
	if err != nil || msg2.Content[0].Text != "Echo: hello" {
		t.Fatalf("Messages.New with WithJSONSet: %v %+v", err, msg2)
	}
	settle(t, e)
	auth := map[string]string{}
	for _, h := range rcv.got() {
		auth[decode(t, h.Body)["id"].(string)] = h.Auth
	}
	if len(auth) != 2 || auth[msg.ID] != "Bearer tok" || auth[msg2.ID] != "" {
		t.Errorf("webhooks by id = %v, want %s with token and %s without", auth, msg.ID, msg2.ID)
	}

	wrong := anthropicClient(srv, "wrong")
	_, err = wrong.Messages.New(ctx, anthropic.MessageNewParams{
		Model: "moonshotai/Kimi-K2.6", MaxTokens: 5,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))},
	})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong key: %v", err)
	}

	// A key outside the closed schema: the SDK surfaces the 400 and
	// Sail's (OpenAI's) envelope naming the key.
	_, err = client.Messages.New(ctx, anthropic.MessageNewParams{
		Model: "moonshotai/Kimi-K2.6", MaxTokens: 5,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))},
	}, aoption.WithJSONSet("completion_window", "flex"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.RawJSON(), `"param":"completion_window"`) {
		t.Errorf("stray key: %v", err)
	}

	// anthropic-idempotency-key, set as the SDK user would: a retry gets
	// the same message and no second webhook.
	before := len(rcv.got())
	params := anthropic.MessageNewParams{
		Model: "moonshotai/Kimi-K2.6", MaxTokens: 64, Metadata: md,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is 5*5?"))},
	}
	m1, err1 := client.Messages.New(ctx, params, aoption.WithHeader("anthropic-idempotency-key", "sdk-m-1"))
	m2, err2 := client.Messages.New(ctx, params, aoption.WithHeader("anthropic-idempotency-key", "sdk-m-1"))
	if err1 != nil || err2 != nil || m1.ID != m2.ID || m1.Content[0].Text != "25" {
		t.Fatalf("idempotent retry: %v %v, ids %s %s", err1, err2, m1.ID, m2.ID)
	}
	settle(t, e)
	if n := len(rcv.got()) - before; n != 1 {
		t.Errorf("%d webhooks for an idempotent retry, want 1", n)
	}
}
