package listen

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/session"
	"github.com/sailresearch/sail/internal/tunnel"
)

// readyURL is stdout for NDJSON: it hands over the webhook URL of the
// Ready event.
type readyURL struct {
	once sync.Once
	url  chan string
}

func (r *readyURL) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		var e struct {
			Type       string `json:"type"`
			WebhookURL string `json:"webhook_url"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Type == "ready" {
			r.once.Do(func() { r.url <- e.WebhookURL })
		}
	}
	return len(p), nil
}

func options(out *readyURL) Options {
	s, _, _, _ := iostreams.Test()
	s.Out = out
	rules := session.ListenRules
	return Options{
		Session: session.Options{IO: s, Rules: &rules, Receive: &session.Receive{Tunnel: tunnel.Options{Provider: tunnel.Local, Addr: "127.0.0.1:0"}}},
		Path:    "/sail", Token: "listen-test-token-1",
	}
}

// --max-deliveries ends listening once that many accepted deliveries came;
// a rejected one does not count.
func TestCommandEndsAfterMaxDeliveries(t *testing.T) {
	defer goleak.VerifyNone(t)
	out := &readyURL{url: make(chan string, 1)}
	o := options(out)
	o.MaxDeliveries = 1
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Command(ctx, o) }()
	defer func() {
		cancel()
		<-done
	}()
	url := <-out.url
	post := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"id":"resp_1","object":"response","status":"completed"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if c := post("wrong-token-123456789"); c != http.StatusUnauthorized {
		t.Fatalf("wrong token answered %d", c)
	}
	if c := post("listen-test-token-1"); c != http.StatusOK {
		t.Fatalf("delivery answered %d", c)
	}
	if err := <-done; err != nil {
		t.Fatalf("exit %d: %v", exitcode.Of(err), err)
	}
	done <- nil // for the deferred wait
}

// Ctrl-C is listen's normal end; --timeout is too, unless deliveries were
// awaited (124).
func TestCommandEnds(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &readyURL{url: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- Command(ctx, options(out)) }()
	<-out.url
	cancel()
	if err := <-done; err != nil {
		t.Errorf("interrupted: %v", err)
	}
	o := options(&readyURL{url: make(chan string, 1)})
	o.Timeout, o.MaxDeliveries = time.Nanosecond, 2
	if err := Command(context.Background(), o); exitcode.Of(err) != exitcode.Timeout {
		t.Errorf("--timeout before --max-deliveries: %v, want exit 124", err)
	}
}
