package render

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
)

var fixed = func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }

func TestNDJSONLinesDecode(t *testing.T) {
	var buf bytes.Buffer
	n := NewNDJSON(&buf, fixed)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Emit(event.Delivery{Attempt: i, Verdict: event.VerdictOK, HTTPStatus: 200})
		}()
	}
	wg.Wait()
	if n.Err() != nil {
		t.Fatal(n.Err())
	}
	sc := bufio.NewScanner(&buf)
	count := 0
	for sc.Scan() {
		if _, err := event.Decode(sc.Bytes()); err != nil {
			t.Fatalf("line %d: %v: %s", count, err, sc.Text())
		}
		count++
	}
	if count != 50 {
		t.Fatalf("got %d lines, want 50", count)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }

func TestNDJSONWriteError(t *testing.T) {
	n := NewNDJSON(failWriter{}, fixed)
	n.Emit(event.Notice{Message: "x"})
	if n.Err() == nil || !strings.Contains(n.Err().Error(), "pipe closed") {
		t.Fatalf("Err = %v", n.Err())
	}
}

func TestPlainRun(t *testing.T) {
	var buf bytes.Buffer
	p := NewPlain(&buf, StyleRun, false, fixed)
	ms := int64(120)
	for _, e := range []event.Event{
		event.Ready{WebhookURL: "http://127.0.0.1:1/h/x", Tunnel: "local", Note: "reachable only from this machine"},
		event.Created{ID: "resp_1", Endpoint: "responses", Model: "m", Status: "queued"},
		event.Delivery{Attempt: 1, Verdict: "mismatch", HTTPStatus: 401, Bytes: 1500},
		event.Delivery{Attempt: 2, Verdict: "ok", HTTPStatus: 200, Bytes: 1500, Duplicate: true},
		event.Verified{ID: "resp_1", Matches: false, Differences: []string{"status", "output[0]"}},
		event.Completed{ID: "resp_1", Status: "completed", CreateToWebhookMS: &ms, Source: "webhook", WebhookDelivered: true},
		event.Error{Message: "boom", Hint: "do this", ID: "resp_1"},
	} {
		p.Emit(e)
	}
	out := buf.String()
	for _, want := range []string{
		"webhook    http://127.0.0.1:1/h/x (local: reachable only from this machine)",
		"✗ delivery   #1 · answered 401 · token mismatch · 1.5 kB",
		"✓ delivery   #2 · answered 200 · token ok · 1.5 kB · duplicate",
		"differs from GET /v1/responses/resp_1 at: status, output[0]",
		"create→webhook 120ms",
		"→ do this",
		"sail responses wait resp_1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour written although disabled")
	}
}

func TestPlainColour(t *testing.T) {
	var buf bytes.Buffer
	NewPlain(&buf, StyleRun, true, fixed).Emit(event.Verified{ID: "r", Matches: true})
	if !strings.Contains(buf.String(), "\x1b[32m✓") {
		t.Fatalf("no colour: %q", buf.String())
	}
}

func TestPlainListen(t *testing.T) {
	var buf bytes.Buffer
	p := NewPlain(&buf, StyleListen, false, fixed)
	p.Emit(event.Ready{WebhookURL: "http://x/h/y", Note: "local only"})
	p.Emit(event.Delivery{ReceivedAt: fixed(), HTTPStatus: 200, ResponseID: "resp_9", ResponseStatus: "completed", Model: "m", Verdict: "ok", Bytes: 10, Excerpt: "4"})
	out := buf.String()
	if !strings.Contains(out, "Listening on http://x/h/y") || !strings.Contains(out, `200  resp_9  completed  m  token ok  10 B  "4"`) {
		t.Fatalf("listen output:\n%s", out)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1500: "1.5 kB", 30_000_000: "30.0 MB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
