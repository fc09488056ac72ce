package emulator

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/testutil"
)

func TestDeliveryRetriesAlways500(t *testing.T) {
	rcv := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	var logged atomic.Int32
	e := newEmulator(t, Options{Log: func(Attempt) { logged.Add(1) }})
	obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
	settle(t, e)

	id := obj["id"].(string)
	as := attemptsFor(e, id)
	if len(as) != 4 || len(rcv.got()) != 4 || logged.Load() != 4 {
		t.Fatalf("attempts recorded %d, received %d, logged %d; want 4 each", len(as), len(rcv.got()), logged.Load())
	}
	for i, a := range as {
		if a.Number != i+1 || a.StatusCode != 500 || a.Err != "HTTP 500" || a.OK() || a.URL != rcv.URL {
			t.Errorf("attempt %d = %+v, want number %d, status 500, error HTTP 500", i, a, i+1)
		}
	}
	// Best-effort: the failing webhook leaves the response completed.
	_, body := call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
	if got := decode(t, body)["status"]; got != StatusCompleted {
		t.Errorf("status after failed deliveries = %v, want completed", got)
	}
}

func TestDeliveryMaxAttemptsOption(t *testing.T) {
	// 0 is the default reading of "up to 3 retries" (1 + 3); 3 is the other
	// reading (3 in all).
	for _, c := range []struct{ max, want int }{{0, 4}, {1, 1}, {2, 2}, {3, 3}, {6, 6}} {
		rcv := newReceiver(t, func(int) int { return http.StatusBadGateway })
		e := newEmulator(t, Options{MaxAttempts: c.max})
		obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
		settle(t, e)
		if n := len(rcv.got()); n != c.want {
			t.Errorf("MaxAttempts %d: %d attempts, want %d", c.max, n, c.want)
		}
		as := attemptsFor(e, obj["id"].(string))
		if len(as) != c.want || as[len(as)-1].Number != c.want {
			t.Errorf("MaxAttempts %d: recorded %+v", c.max, as)
		}
	}
}

func TestDeliveryStopsAtFirst2xx(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	e := newEmulator(t, Options{})
	obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
	settle(t, e)
	as := attemptsFor(e, obj["id"].(string))
	if len(as) != 3 || !as[2].OK() || as[2].StatusCode != http.StatusAccepted || as[1].OK() {
		t.Fatalf("attempts = %+v, want 2 failures then a 202", as)
	}
}

func TestDeliveryPerAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	e := newEmulator(t, Options{DeliveryTimeout: 30 * time.Millisecond, MaxAttempts: 2})
	obj, _ := create(t, e, webhookReq(slow.URL, nil), nil)
	settle(t, e)
	as := attemptsFor(e, obj["id"].(string))
	if len(as) != 2 {
		t.Fatalf("got %d attempts, want 2 (timeout, then retry)", len(as))
	}
	for _, a := range as {
		if a.StatusCode != 0 || !strings.Contains(a.Err, "timed out after 30ms") {
			t.Errorf("attempt = %+v, want a timeout error", a)
		}
	}
}

func TestDeliveryDoesNotFollowRedirects(t *testing.T) {
	target := newReceiver(t, nil)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	e := newEmulator(t, Options{})
	obj, _ := create(t, e, webhookReq(redirect.URL, nil), nil)
	settle(t, e)
	as := attemptsFor(e, obj["id"].(string))
	if len(as) != 4 {
		t.Fatalf("got %d attempts, want 4 (a 3xx is a failure)", len(as))
	}
	if as[0].StatusCode != http.StatusTemporaryRedirect || !strings.Contains(as[0].Err, "redirects are not followed") {
		t.Errorf("attempt = %+v, want 307 reported as not followed", as[0])
	}
	if n := len(target.got()); n != 0 {
		t.Errorf("redirect target received %d requests, want 0", n)
	}
}

func TestDeliveryWithCustomClientStillNoRedirects(t *testing.T) {
	target := newReceiver(t, nil)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer redirect.Close()
	e := newEmulator(t, Options{HTTPClient: &http.Client{}, MaxAttempts: 1})
	create(t, e, webhookReq(redirect.URL, nil), nil)
	settle(t, e)
	if n := len(target.got()); n != 0 {
		t.Errorf("redirect followed with a caller's client: target got %d requests", n)
	}
}

func TestDeliveryHeadersAndToken(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{})
	withTok, _ := create(t, e, webhookReq(rcv.URL, map[string]string{"webhook_token": "s3cret"}), nil)
	settle(t, e)
	without, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
	settle(t, e)

	hits := rcv.got()
	if len(hits) != 2 {
		t.Fatalf("received %d webhooks, want 2", len(hits))
	}
	h := hits[0]
	if h.Method != http.MethodPost || h.ContentType != "application/json" || h.UserAgent != UserAgent {
		t.Errorf("webhook request = %+v, want POST application/json with User-Agent %s", h, UserAgent)
	}
	if h.Auth != "Bearer s3cret" {
		t.Errorf("Authorization with token = %q, want Bearer s3cret", h.Auth)
	}
	if hits[1].Auth != "" {
		t.Errorf("Authorization without token = %q, want none", hits[1].Auth)
	}
	if a := attemptsFor(e, withTok["id"].(string)); len(a) != 1 || !a[0].TokenSent {
		t.Errorf("attempt with token = %+v, want TokenSent", a)
	}
	if a := attemptsFor(e, without["id"].(string)); len(a) != 1 || a[0].TokenSent {
		t.Errorf("attempt without token = %+v, want !TokenSent", a)
	}
	// The delivery log never carries the token.
	_, log := call(t, e, http.MethodGet, "/_emulator/deliveries", nil, nil)
	if bytes.Contains(log, []byte("s3cret")) {
		t.Errorf("/_emulator/deliveries leaks the token: %s", log)
	}
}

func TestDeliveredBodyEqualsGet(t *testing.T) {
	for _, outcome := range []string{StatusCompleted, StatusFailed, StatusIncomplete} {
		rcv := newReceiver(t, nil)
		e := newEmulator(t, Options{Outcome: outcome})
		obj, _ := create(t, e, webhookReq(rcv.URL, map[string]string{"webhook_token": "t"}), nil)
		settle(t, e)
		_, get := call(t, e, http.MethodGet, "/v1/responses/"+obj["id"].(string), nil, nil)
		hits := rcv.got()
		if len(hits) != 1 {
			t.Fatalf("%s: %d webhooks, want 1", outcome, len(hits))
		}
		if !bytes.Equal(hits[0].Body, get) {
			t.Errorf("%s: webhook body differs from GET:\n%s\n%s", outcome, hits[0].Body, get)
		}
		if got := decode(t, get)["status"]; got != outcome {
			t.Errorf("status = %v, want %s", got, outcome)
		}
	}
}

func TestInvalidWebhookURLNoAttempt(t *testing.T) {
	e := newEmulator(t, Options{})
	for _, u := range []string{"ftp://example.com/x", "not a url", "/relative/path", "http://", "mailto:a@b.c", "http//missing-colon"} {
		obj, _ := create(t, e, webhookReq(u, nil), nil)
		if obj["status"] != StatusPending {
			t.Errorf("create with webhook %q: status %v, want pending (create unchanged)", u, obj["status"])
		}
	}
	settle(t, e)
	if as := e.Attempts(); len(as) != 0 {
		t.Errorf("attempts for invalid URLs: %+v, want none", as)
	}
}

func TestEveryTerminalStatusDelivers(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{})
	want := map[string]string{}
	for _, outcome := range []string{StatusCompleted, StatusFailed, StatusIncomplete, StatusCancelled} {
		obj, _ := create(t, e, webhookReq(rcv.URL, map[string]string{FaultKey: "outcome=" + outcome}), nil)
		want[obj["id"].(string)] = outcome
	}
	// And cancelled through the cancel endpoint, while queued.
	obj, _ := create(t, e, webhookReq(rcv.URL, map[string]string{FaultKey: "latency=1h"}), nil)
	id := obj["id"].(string)
	want[id] = StatusCancelled
	code, body := call(t, e, http.MethodPost, "/v1/responses/"+id+"/cancel", nil, nil)
	if code != http.StatusOK || decode(t, body)["status"] != StatusCancelled {
		t.Fatalf("cancel: %d %s", code, body)
	}
	settle(t, e)

	got := map[string]string{}
	for _, h := range rcv.got() {
		m := decode(t, h.Body)
		got[m["id"].(string)] = m["status"].(string)
	}
	if len(got) != len(want) || len(rcv.got()) != len(want) {
		t.Fatalf("webhooks %v, want one per response %v", got, want)
	}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("webhook for %s has status %q, want %q", id, got[id], s)
		}
	}
}

func TestFailAttempts(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{FailAttempts: 2})
	obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
	settle(t, e)
	as := attemptsFor(e, obj["id"].(string))
	if len(as) != 3 {
		t.Fatalf("attempts = %+v, want 2 simulated failures then success", as)
	}
	for _, a := range as[:2] {
		if !a.Simulated || a.OK() || a.StatusCode != 0 || a.Err == "" {
			t.Errorf("attempt %+v, want a simulated network failure", a)
		}
	}
	if !as[2].OK() || as[2].Simulated {
		t.Errorf("third attempt %+v, want a real success", as[2])
	}
	if n := len(rcv.got()); n != 1 {
		t.Errorf("receiver got %d requests, want 1 (failures send nothing)", n)
	}
	// More failures than attempts: nothing ever reaches the receiver.
	e2 := newEmulator(t, Options{FailAttempts: 9})
	create(t, e2, webhookReq(rcv.URL, nil), nil)
	settle(t, e2)
	if n := len(e2.Attempts()); n != 4 || len(rcv.got()) != 1 {
		t.Errorf("FailAttempts 9: %d attempts, receiver total %d; want 4 and still 1", n, len(rcv.got()))
	}
}

func TestWrongTokenDropAndDuplicateFaults(t *testing.T) {
	t.Run("wrong token", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		e := newEmulator(t, Options{WrongToken: true})
		create(t, e, webhookReq(rcv.URL, map[string]string{"webhook_token": "right"}), nil)
		create(t, e, webhookReq(rcv.URL, nil), nil)
		settle(t, e)
		hits := rcv.got()
		if len(hits) != 2 {
			t.Fatalf("%d webhooks, want 2", len(hits))
		}
		for _, h := range hits {
			if !strings.HasPrefix(h.Auth, "Bearer ") || h.Auth == "Bearer right" || len(h.Auth) < 20 {
				t.Errorf("Authorization = %q, want a different bearer token", h.Auth)
			}
		}
	})
	t.Run("drop", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		e := newEmulator(t, Options{DropWebhook: true})
		obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
		settle(t, e)
		if len(rcv.got()) != 0 || len(e.Attempts()) != 0 {
			t.Errorf("dropped webhook: %d received, %d attempts; want 0", len(rcv.got()), len(e.Attempts()))
		}
		_, body := call(t, e, http.MethodGet, "/v1/responses/"+obj["id"].(string), nil, nil)
		if decode(t, body)["status"] != StatusCompleted {
			t.Errorf("dropped webhook changed the response: %s", body)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		e := newEmulator(t, Options{DuplicateWebhook: true})
		obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
		settle(t, e)
		hits := rcv.got()
		if len(hits) != 2 || !bytes.Equal(hits[0].Body, hits[1].Body) {
			t.Fatalf("got %d webhooks, want the same payload twice", len(hits))
		}
		as := attemptsFor(e, obj["id"].(string))
		if len(as) != 2 || as[0].Duplicate || !as[1].Duplicate || as[1].Number != 2 {
			t.Errorf("attempts = %+v, want original then duplicate", as)
		}
	})
	t.Run("duplicate only after success", func(t *testing.T) {
		rcv := newReceiver(t, func(int) int { return http.StatusInternalServerError })
		e := newEmulator(t, Options{DuplicateWebhook: true, MaxAttempts: 1})
		create(t, e, webhookReq(rcv.URL, nil), nil)
		settle(t, e)
		if n := len(rcv.got()); n != 1 {
			t.Errorf("%d webhooks after a failure, want 1 (no duplicate of a failure)", n)
		}
	})
}

func TestPerRequestFaultsOverrideOptions(t *testing.T) {
	rcv := newReceiver(t, nil)
	// Options say drop; the request says otherwise, and adds a token fault.
	e := newEmulator(t, Options{DropWebhook: true})
	obj, _ := create(t, e, webhookReq(rcv.URL, map[string]string{
		"webhook_token": "right",
		FaultKey:        "drop_webhook=false; wrong_token; fail_attempts=1; delay=1ms; outcome=failed",
	}), nil)
	settle(t, e)
	hits := rcv.got()
	if len(hits) != 1 || hits[0].Auth == "Bearer right" {
		t.Fatalf("hits = %+v, want one webhook with a wrong token", hits)
	}
	m := decode(t, hits[0].Body)
	if m["status"] != StatusFailed {
		t.Errorf("status = %v, want failed", m["status"])
	}
	// The fault key stays in the metadata as sent.
	if md := m["metadata"].(map[string]any); md[FaultKey] == nil {
		t.Errorf("metadata lost %s: %v", FaultKey, md)
	}
	if as := attemptsFor(e, obj["id"].(string)); len(as) != 2 || !as[0].Simulated {
		t.Errorf("attempts = %+v, want one simulated failure then success", as)
	}
	// Another request without the key still follows the options.
	create(t, e, webhookReq(rcv.URL, nil), nil)
	settle(t, e)
	if n := len(rcv.got()); n != 1 {
		t.Errorf("options' drop ignored: %d webhooks, want still 1", n)
	}
}

func TestWebhookDelayAndLatencyOrder(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{Latency: 5 * time.Millisecond, WebhookDelay: 5 * time.Millisecond})
	obj, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
	if obj["status"] != StatusPending {
		t.Fatalf("background create status %v, want pending", obj["status"])
	}
	id := obj["id"].(string)
	seen := map[string]bool{}
	testutil.WaitUntil(t, 10*time.Second, "completed", func() bool {
		_, b := call(t, e, http.MethodGet, "/v1/responses/"+id, nil, nil)
		s := decode(t, b)["status"].(string)
		seen[s] = true
		return s == StatusCompleted
	})
	settle(t, e)
	if len(rcv.got()) != 1 {
		t.Errorf("%d webhooks, want 1", len(rcv.got()))
	}
	for s := range seen {
		if s != StatusPending && s != StatusRunning && s != StatusCompleted {
			t.Errorf("unexpected status %q while polling", s)
		}
	}
}

func TestDeliveriesEndpoint(t *testing.T) {
	rcv := newReceiver(t, nil)
	e := newEmulator(t, Options{})
	a, _ := create(t, e, webhookReq(rcv.URL, nil), nil)
	create(t, e, webhookReq(rcv.URL, nil), nil)
	settle(t, e)
	code, body := call(t, e, http.MethodGet, "/_emulator/deliveries", nil, map[string]string{"Authorization": ""})
	if code != http.StatusOK || len(decodeAttempts(t, body)) != 2 {
		t.Fatalf("deliveries: %d %s", code, body)
	}
	_, body = call(t, e, http.MethodGet, "/_emulator/deliveries?response_id="+a["id"].(string), nil, nil)
	got := decodeAttempts(t, body)
	if len(got) != 1 || got[0].ResponseID != a["id"] || !got[0].OK() || got[0].At.IsZero() {
		t.Errorf("filtered deliveries = %+v", got)
	}
}

func TestCloseWaitsForInFlightDelivery(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	defer rcv.Close()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	create(t, e, webhookReq(rcv.URL, nil), nil)
	<-entered
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		closed <- e.Close(ctx)
	}()
	testutil.WaitUntil(t, 10*time.Second, "close to begin", func() bool { return e.stopCtx.Err() != nil })
	// New creates are refused while closing.
	if code, _ := call(t, e, http.MethodPost, "/v1/responses", webhookReq(rcv.URL, nil), nil); code != http.StatusServiceUnavailable {
		t.Errorf("create while closing: %d, want 503", code)
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if as := e.Attempts(); len(as) != 1 || !as[0].OK() {
		t.Errorf("attempts after Close = %+v, want the in-flight one completed", as)
	}
	if n := e.active.Load(); n != 0 {
		t.Errorf("%d goroutines left after Close", n)
	}
}

func TestCloseAbortsWhenContextEnds(t *testing.T) {
	var inFlight atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		io.Copy(io.Discard, r.Body)
		inFlight.Add(1)
		<-r.Context().Done()
	}))
	defer rcv.Close()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		create(t, e, webhookReq(rcv.URL, nil), nil)
	}
	// Unfinished responses with long timers must not hold Close either.
	for range 5 {
		create(t, e, webhookReq(rcv.URL, map[string]string{FaultKey: "latency=1h"}), nil)
	}
	testutil.WaitUntil(t, 10*time.Second, "deliveries in flight", func() bool { return inFlight.Load() == 5 && e.active.Load() == 10 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := e.Close(ctx); err == nil {
		t.Error("Close returned nil although deliveries were aborted")
	}
	if n := e.active.Load(); n != 0 {
		t.Errorf("%d goroutines left after Close", n)
	}
	// Close is idempotent.
	if err := e.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func decodeAttempts(t *testing.T, b []byte) []Attempt {
	t.Helper()
	var as []Attempt
	if err := jsonUnmarshal(b, &as); err != nil {
		t.Fatalf("decode attempts %s: %v", b, err)
	}
	return as
}
