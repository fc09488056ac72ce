package sail

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

// script answers GET /v1/responses/{id} with one scripted answer per poll;
// the last one repeats.
type answer struct {
	status int
	body   string
	header map[string]string
}

func scripted(t *testing.T, answers ...answer) *fake {
	t.Helper()
	var mu sync.Mutex
	i := 0
	return newFake(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := answers[min(i, len(answers)-1)]
		i++
		mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		writeJSON(w, a.status, a.body)
	})
}

func withStatus(status string) string {
	return strings.Replace(responseQueued, `"status":"queued"`, `"status":"`+status+`"`, 1)
}

// sleeps replaces the client's sleep with a recorder that returns at once,
// so backoff is asserted on the requested durations, not on timing.
func sleeps(c *Client) *[]time.Duration {
	var got []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		got = append(got, d)
		return ctx.Err()
	}
	return &got
}

func TestWaitBackoffAndStatuses(t *testing.T) {
	f := scripted(t,
		answer{200, withStatus("pending"), nil},
		answer{200, withStatus("queued"), nil},
		answer{200, withStatus("running"), nil},
		answer{200, withStatus("in_progress"), nil},
		answer{200, withStatus("in_progress"), nil},
		answer{200, withStatus("in_progress"), nil},
		answer{200, withStatus("in_progress"), nil},
		answer{200, withStatus("in_progress"), nil},
		answer{200, responseCompleted, nil},
	)
	c := f.client(t)
	slept := sleeps(c)
	var seenStatuses []string
	resp, err := c.Wait(testCtx(t), "resp_1", WaitOptions{
		Interval: time.Second, MaxInterval: 4 * time.Second,
		OnStatus: func(r *Response) { seenStatuses = append(seenStatuses, r.Status) },
	})
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if resp.Status != StatusCompleted || resp.OutputText != "2+2 = 4" {
		t.Errorf("final = %q %q", resp.Status, resp.OutputText)
	}
	if resp.Usage == nil || resp.Usage.TotalTokens != 17 {
		t.Errorf("usage = %+v", resp.Usage)
	}
	// pending and queued are the same status; so are running and in_progress.
	if got, want := strings.Join(seenStatuses, ","), "queued,in_progress,completed"; got != want {
		t.Errorf("OnStatus saw %s, want %s", got, want)
	}
	want := []time.Duration{1000, 1500, 2250, 3375, 4000, 4000, 4000, 4000}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if !slices.Equal(*slept, want) {
		t.Errorf("sleeps = %v, want %v", *slept, want)
	}
	if n := len(f.requests()); n != 9 {
		t.Errorf("polled %d times, want 9", n)
	}
	for _, r := range f.requests() {
		if r.Method != "GET" || r.Path != "/v1/responses/resp_1" {
			t.Errorf("poll = %s %s", r.Method, r.Path)
		}
	}
}

func TestWaitDefaults(t *testing.T) {
	f := scripted(t, answer{200, withStatus("in_progress"), nil}, answer{200, withStatus("in_progress"), nil}, answer{200, withStatus("failed"), nil})
	c := f.client(t)
	slept := sleeps(c)
	resp, err := c.Wait(testCtx(t), "resp_1", WaitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{500 * time.Millisecond, 750 * time.Millisecond}; !slices.Equal(*slept, want) {
		t.Errorf("sleeps = %v, want %v", *slept, want)
	}
	if resp.Status != StatusFailed || exitcode.Of(resp.Failure()) != exitcode.ResponseFailed {
		t.Errorf("failed response: status %q, Failure %v", resp.Status, resp.Failure())
	}
}

func TestWaitHonoursRetryAfter(t *testing.T) {
	f := scripted(t,
		answer{200, withStatus("in_progress"), nil},
		answer{429, `{"error":{"message":"slow down","type":"rate_limit_error"}}`, map[string]string{"Retry-After": "7"}},
		answer{429, `{"error":{"message":"slow down"}}`, map[string]string{"Retry-After": "1"}}, // shorter than the backoff: backoff wins
		answer{503, `{"error":{"message":"busy"}}`, map[string]string{"Retry-After": "9"}},
		answer{200, responseCompleted, nil},
	)
	c := f.client(t)
	slept := sleeps(c)
	var retried []int
	resp, err := c.Wait(testCtx(t), "resp_1", WaitOptions{
		Interval: 2 * time.Second, MaxInterval: 3 * time.Second,
		OnRetry: func(err error, d time.Duration) {
			var api *APIError
			if errors.As(err, &api) {
				retried = append(retried, api.StatusCode)
			}
		},
	})
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if resp.Status != StatusCompleted {
		t.Errorf("status = %q", resp.Status)
	}
	want := []time.Duration{2 * time.Second, 7 * time.Second, 3 * time.Second, 9 * time.Second}
	if !slices.Equal(*slept, want) {
		t.Errorf("sleeps = %v, want %v", *slept, want)
	}
	if got := len(retried); got != 3 || retried[0] != 429 || retried[2] != 503 {
		t.Errorf("OnRetry saw %v", retried)
	}
	// Wait does its own retrying: no hidden SDK retries per poll.
	if n := len(f.requests()); n != 5 {
		t.Errorf("server saw %d requests, want 5", n)
	}
}

func TestWaitGivesUpAfterRepeatedServerErrors(t *testing.T) {
	f := scripted(t, answer{500, `{"error":{"message":"down"}}`, nil})
	c := f.client(t)
	sleeps(c)
	_, err := c.Wait(testCtx(t), "resp_1", WaitOptions{MaxErrors: 2})
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != 500 {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("polled %d times, want 3 (2 tolerated failures + the last)", n)
	}
	if exitcode.Of(err) != exitcode.Error {
		t.Errorf("exit code %d", exitcode.Of(err))
	}
}

func TestWaitStopsOnPermanentError(t *testing.T) {
	for _, status := range []int{401, 404} {
		f := scripted(t, answer{status, `{"error":{"message":"no"}}`, nil})
		c := f.client(t)
		sleeps(c)
		_, err := c.Wait(testCtx(t), "resp_1", WaitOptions{})
		var api *APIError
		if !errors.As(err, &api) || api.StatusCode != status {
			t.Errorf("%d: err = %v", status, err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d: polled %d times", status, n)
		}
	}
}

func TestWaitDeadlineMapsToTimeout(t *testing.T) {
	f := scripted(t, answer{200, withStatus("in_progress"), nil})
	c := f.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	resp, err := c.Wait(ctx, "resp_1", WaitOptions{Interval: 10 * time.Millisecond, MaxInterval: 20 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	if got := exitcode.Of(err); got != exitcode.Timeout {
		t.Errorf("exit code = %d, want %d", got, exitcode.Timeout)
	}
	if resp == nil || resp.Status != StatusInProgress {
		t.Errorf("last response = %+v, want the in_progress one", resp)
	}
	if !strings.Contains(err.Error(), "resp_1") || !strings.Contains(err.Error(), "in_progress") {
		t.Errorf("message = %q", err)
	}
}

func TestWaitCancelMapsToInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := scripted(t, answer{200, withStatus("queued"), nil})
	c := f.client(t)
	polls := 0
	c.sleep = func(ctx context.Context, d time.Duration) error {
		polls++
		if polls == 3 {
			cancel() // as SIGINT would
		}
		return ctx.Err()
	}
	_, err := c.Wait(ctx, "resp_1", WaitOptions{})
	if !errors.Is(err, context.Canceled) || exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("err = %v (code %d)", err, exitcode.Of(err))
	}
}

// A deadline that hits while a poll is in flight is still a timeout, not
// a network error.
func TestWaitDeadlineDuringRequest(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.client(t).Wait(ctx, "resp_1", WaitOptions{})
	if exitcode.Of(err) != exitcode.Timeout {
		t.Fatalf("err = %v (code %d), want a timeout", err, exitcode.Of(err))
	}
}

func TestBadIDs(t *testing.T) {
	c, err := New(Options{APIKey: "k", BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", " ", "../models", "a/b", "a?b", "a#b"} {
		if _, err := c.Get(testCtx(t), id); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("Get(%q): %v", id, err)
		}
		if _, err := c.Wait(testCtx(t), id, WaitOptions{}); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("Wait(%q): %v", id, err)
		}
		if _, err := c.Cancel(testCtx(t), id); exitcode.Of(err) != exitcode.Usage {
			t.Errorf("Cancel(%q): %v", id, err)
		}
	}
}
