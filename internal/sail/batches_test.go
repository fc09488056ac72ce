package sail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sailspec"
	"github.com/sailresearch/sail/internal/status"
	"github.com/sailresearch/sail/internal/testutil"
)

// requestsOf yields n requests "c0".."c{n-1}" asking "What is i+i?".
func requestsOf(n int, extra string) func(func(BatchRequest) error) error {
	return func(yield func(BatchRequest) error) error {
		for i := 0; i < n; i++ {
			p := fmt.Sprintf(`{"model":"moonshotai/Kimi-K2.5","input":"What is %d+%d?"%s}`, i, i, extra)
			if err := yield(BatchRequest{CustomID: fmt.Sprintf("c%d", i), Params: json.RawMessage(p), Line: i + 1}); err != nil {
				return err
			}
		}
		return nil
	}
}

func waitBatchDone(t *testing.T, c *Client, id string) *Batch {
	t.Helper()
	var b *Batch
	testutil.WaitUntil(t, 10*time.Second, "batch "+id+" to finish", func() bool {
		var err error
		if b, err = c.GetBatch(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		for _, s := range b.RequestStatus {
			if !status.IsTerminal(s) {
				return false
			}
		}
		return true
	})
	return b
}

func TestBatchCreateGetResult(t *testing.T) {
	c, recv, hooks := emulated(t, emulator.Options{Latency: 20 * time.Millisecond})
	ctx := context.Background()
	webhook := fmt.Sprintf(`,"metadata":{"completion_webhook":%q,"webhook_token":"tok-abc-123"}`, recv.URL+"/h")
	b, err := c.CreateBatch(ctx, BatchCreateRequest{Label: "nightly_evals-1", Requests: requestsOf(3, webhook)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.ID, "batch_") || b.Label != "nightly_evals-1" || b.RequestCounts["total"] != 3 || b.CreatedAt == 0 {
		t.Fatalf("create answered %+v", b)
	}
	if b.RequestStatus != nil {
		t.Fatalf("create carries no request_status, got %v", b.RequestStatus)
	}
	got := waitBatchDone(t, c, b.ID)
	if len(got.RequestStatus) != 3 {
		t.Fatalf("request_status: %v", got.RequestStatus)
	}
	for id, s := range got.RequestStatus {
		// Upper case on the wire, as the reference shows.
		if s != "COMPLETED" {
			t.Errorf("%s: status %q, want COMPLETED", id, s)
		}
	}
	r, err := c.BatchResult(ctx, b.ID, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusCompleted || r.OutputText != "4" || r.Usage == nil || !strings.HasPrefix(r.ID, "resp_") {
		t.Fatalf("result: %+v", r)
	}
	// Per-request webhooks fire from params.metadata with the token.
	for i := 0; i < 3; i++ {
		h := nextHook(t, hooks)
		if h.Auth != "Bearer tok-abc-123" {
			t.Fatalf("webhook auth %q", h.Auth)
		}
	}
}

func TestBatchWebhooksOff(t *testing.T) {
	c, recv, hooks := emulated(t, emulator.Options{NoBatchWebhooks: true})
	webhook := fmt.Sprintf(`,"metadata":{"completion_webhook":%q}`, recv.URL+"/h")
	b, err := c.CreateBatch(context.Background(), BatchCreateRequest{Requests: requestsOf(2, webhook)})
	if err != nil {
		t.Fatal(err)
	}
	waitBatchDone(t, c, b.ID)
	select {
	case h := <-hooks:
		t.Fatalf("webhook fired with batch webhooks off: %s", h.Body)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestBatchFaultsPerRequest(t *testing.T) {
	c, _, _ := emulated(t, emulator.Options{})
	reqs := func(yield func(BatchRequest) error) error {
		yield(BatchRequest{CustomID: "ok", Params: json.RawMessage(`{"model":"moonshotai/Kimi-K2.5","input":"What is 1+1?"}`)})
		return yield(BatchRequest{CustomID: "bad", Params: json.RawMessage(`{"model":"moonshotai/Kimi-K2.5","input":"What is 1+1?","metadata":{"sail_emulator":"outcome=failed"}}`)})
	}
	b, err := c.CreateBatch(context.Background(), BatchCreateRequest{Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	got := waitBatchDone(t, c, b.ID)
	if got.RequestStatus["ok"] != "COMPLETED" || got.RequestStatus["bad"] != "FAILED" {
		t.Fatalf("statuses: %v", got.RequestStatus)
	}
	if got.RequestCounts["failed"] != 1 || got.RequestCounts["completed"] != 1 {
		t.Fatalf("counts: %v", got.RequestCounts)
	}
}

func TestBatchList(t *testing.T) {
	c, _, _ := emulated(t, emulator.Options{})
	ctx := context.Background()
	var ids []string
	for i := 0; i < 5; i++ {
		b, err := c.CreateBatch(ctx, BatchCreateRequest{Requests: requestsOf(1, "")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	all, err := c.ListBatches(ctx, BatchListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || all[0].ID != ids[4] || all[4].ID != ids[0] {
		t.Fatalf("list is not newest first: %v", batchIDs(all))
	}
	page, err := c.ListBatches(ctx, BatchListParams{Limit: 2, AfterID: ids[3]})
	if err != nil {
		t.Fatal(err)
	}
	if got := batchIDs(page); len(got) != 2 || got[0] != ids[2] || got[1] != ids[1] {
		t.Fatalf("after_id page: %v", got)
	}
	page, err = c.ListBatches(ctx, BatchListParams{Limit: 2, BeforeID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if got := batchIDs(page); len(got) != 2 || got[0] != ids[2] || got[1] != ids[1] {
		t.Fatalf("before_id page: %v", got)
	}
	if _, err := c.ListBatches(ctx, BatchListParams{Limit: 201}); exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("limit 201: %v", err)
	}
	_, err = c.ListBatches(ctx, BatchListParams{AfterID: "batch_nope"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Param != "after_id" {
		t.Fatalf("unknown cursor: %v", err)
	}
}

func batchIDs(bs []*Batch) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return out
}

func TestBatchErrors(t *testing.T) {
	c, _, _ := emulated(t, emulator.Options{})
	ctx := context.Background()
	apiErr := func(err error) *APIError {
		t.Helper()
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("want *APIError, got %T %v", err, err)
		}
		return ae
	}
	// The server's validation, in OpenAI's envelope.
	_, err := c.CreateBatch(ctx, BatchCreateRequest{Endpoint: "/v1/chat/completions", Requests: requestsOf(1, "")})
	if ae := apiErr(err); ae.StatusCode != 400 || ae.Param != "endpoint" || ae.Type != "invalid_request_error" {
		t.Fatalf("endpoint: %+v", ae)
	}
	bad := func(yield func(BatchRequest) error) error {
		return yield(BatchRequest{CustomID: "x", Params: json.RawMessage(`{"model":"no/such-model","input":"hi"}`)})
	}
	_, err = c.CreateBatch(ctx, BatchCreateRequest{Requests: bad})
	if ae := apiErr(err); ae.StatusCode != 404 || ae.Param != "requests[0].params.model" || ae.Code != "model_not_found" {
		t.Fatalf("bad model: %+v", ae)
	}
	_, err = c.GetBatch(ctx, "batch_missing")
	if ae := apiErr(err); ae.StatusCode != 404 {
		t.Fatalf("get missing: %+v", ae)
	}
	b, err := c.CreateBatch(ctx, BatchCreateRequest{Requests: requestsOf(1, "")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.BatchResult(ctx, b.ID, "nope")
	if ae := apiErr(err); ae.StatusCode != 404 {
		t.Fatalf("result missing: %+v", ae)
	}

	// The client's own checks, before anything is sent.
	if _, err := c.CreateBatch(ctx, BatchCreateRequest{Label: "has space", Requests: requestsOf(1, "")}); exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("label: %v", err)
	}
	if _, err := c.CreateBatch(ctx, BatchCreateRequest{Label: strings.Repeat("a", 129), Requests: requestsOf(1, "")}); exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("long label: %v", err)
	}
	_, err = c.CreateBatch(ctx, BatchCreateRequest{Requests: requestsOf(5, ""), Limits: BatchLimits{MaxRequests: 3}})
	var le *BatchLimitError
	if !errors.As(err, &le) || le.Line != 4 || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "line 4: a batch holds at most 3 requests") {
		t.Fatalf("count limit: %v", err)
	}
	_, err = c.CreateBatch(ctx, BatchCreateRequest{Requests: requestsOf(50, ""), Limits: BatchLimits{MaxBytes: 1000}})
	if !errors.As(err, &le) || le.Line < 2 || le.Line > 50 || !strings.Contains(err.Error(), "exceed 1000 bytes") {
		t.Fatalf("size limit: %v", err)
	}
	dup := func(yield func(BatchRequest) error) error {
		yield(BatchRequest{CustomID: "a", Params: json.RawMessage(`{}`), Line: 1})
		return yield(BatchRequest{CustomID: "a", Params: json.RawMessage(`{}`), Line: 7})
	}
	_, err = c.CreateBatch(ctx, BatchCreateRequest{Requests: dup})
	if err == nil || !strings.Contains(err.Error(), "line 7: custom_id \"a\" already used by line 1") {
		t.Fatalf("duplicate: %v", err)
	}
}

// A retried create carries the same Idempotency-Key and the same body, so
// the server answers with the batch the first attempt made.
func TestBatchCreateRetryIsIdempotent(t *testing.T) {
	emu, err := emulator.New(emulator.Options{APIKey: emuKey})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	var keys []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			if r.ContentLength <= 0 {
				t.Errorf("no Content-Length on the streamed body")
			}
			if calls.Add(1) == 1 {
				// The server made the batch, but the answer is lost.
				rec := httptest.NewRecorder()
				emu.ServeHTTP(rec, r)
				w.WriteHeader(http.StatusBadGateway)
				return
			}
		}
		emu.ServeHTTP(w, r)
	}))
	defer api.Close()
	defer emu.Close(context.Background())
	c, err := New(Options{BaseURL: api.URL, APIKey: emuKey})
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(context.Context, time.Duration) error { return nil }
	b, err := c.CreateBatch(context.Background(), BatchCreateRequest{Requests: requestsOf(3, "")})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != keys[1] || keys[0] == "" {
		t.Fatalf("idempotency keys per attempt: %q", keys)
	}
	if st := emu.Stats(); st.Batches != 1 {
		t.Fatalf("batches created: %d, want 1", st.Batches)
	}
	list, err := c.ListBatches(context.Background(), BatchListParams{})
	if err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("list after retry: %v %v", batchIDs(list), err)
	}
	// A different body under the same key is refused.
	_, err = c.CreateBatch(context.Background(), BatchCreateRequest{IdempotencyKey: keys[0], Requests: requestsOf(2, "")})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "idempotency_error" {
		t.Fatalf("reused key: %v", err)
	}
}

// The streamed body on the wire: the envelope, every request in order, and
// a Content-Length equal to the bytes streamed (from the check pass).
func TestBatchBodyShape(t *testing.T) {
	var got struct {
		Endpoint string `json:"endpoint"`
		Label    string `json:"label"`
		Requests []struct {
			CustomID string          `json:"custom_id"`
			Params   json.RawMessage `json:"params"`
		} `json:"requests"`
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+emuKey || r.Header.Get("Idempotency-Key") == "" {
			t.Errorf("headers: %v", r.Header)
		}
		b, _ := io.ReadAll(r.Body)
		if int64(len(b)) != r.ContentLength {
			t.Errorf("body %d bytes, Content-Length %d", len(b), r.ContentLength)
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		w.Write([]byte(`{"id":"batch_1","created_at":1,"label":"l","request_counts":{"total":1000}}`))
	}))
	defer api.Close()
	c, err := New(Options{BaseURL: api.URL, APIKey: emuKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBatch(context.Background(), BatchCreateRequest{Label: "l", Requests: requestsOf(1000, "")}); err != nil {
		t.Fatal(err)
	}
	if got.Endpoint != "/v1/responses" || got.Label != "l" || len(got.Requests) != 1000 || got.Requests[999].CustomID != "c999" {
		t.Fatalf("body: endpoint %q label %q %d requests", got.Endpoint, got.Label, len(got.Requests))
	}
}

// A batch request's params are a responses create body the reference
// accepts, with every parameter a batch line can carry, and completion_window
// in metadata.
func TestResponsesBodyMatchesReference(t *testing.T) {
	temp, topP := 0.3, 0.9
	strict := true
	body, err := ResponsesBody(CreateRequest{
		Model: "moonshotai/Kimi-K2.5", Input: "What is 2+2?", Instructions: "Be brief.",
		MaxOutputTokens: 64, Temperature: &temp, TopP: &topP, ReasoningEffort: "low",
		JSONSchema:     &JSONSchema{Name: "answer", Schema: json.RawMessage(`{"type":"object"}`), Strict: &strict},
		PromptCacheKey: "evals", User: "ci", CompletionWindow: "flex",
		Metadata: map[string]string{"suite": "nightly"}, WebhookURL: "https://x.example/h/1", WebhookToken: "tok-123456",
	})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer k")
	h.Set("Content-Type", "application/json")
	if errs := sailspec.CheckCreateRequest(sailspec.PathResponses, h, body); len(errs) > 0 {
		t.Fatalf("params depart from the reference: %v\n%s", errs, body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	md, _ := got["metadata"].(map[string]any)
	if got["temperature"] != 0.3 || got["background"] != nil || md["completion_webhook"] != "https://x.example/h/1" ||
		md["webhook_token"] != "tok-123456" || md["completion_window"] != "flex" || got["text"] == nil || got["reasoning"] == nil {
		t.Fatalf("params: %s", body)
	}
	if _, err := ResponsesBody(CreateRequest{Input: "no model"}); exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("no model: %v", err)
	}
}
