package webhook

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/payload"
	"github.com/sailresearch/sail/internal/secret"
	"github.com/sailresearch/sail/internal/testutil"
)

// app is a fake user application that records what it was sent.
type app struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	bodies [][]byte
	auths  []string
}

func newApp(t *testing.T, status int) *app {
	a := &app{}
	a.status.Store(int32(status))
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.bodies = append(a.bodies, b)
		a.auths = append(a.auths, r.Header.Get("Authorization"))
		a.mu.Unlock()
		w.WriteHeader(int(a.status.Load()))
		io.WriteString(w, "  app says\n hello  ")
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) received() ([][]byte, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]byte(nil), a.bodies...), append([]string(nil), a.auths...)
}

// deadURL is a loopback URL nobody listens on.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/hook"
}

func TestForwardSyncPassesStatusThrough(t *testing.T) {
	a := newApp(t, http.StatusServiceUnavailable)
	saver := &memSaver{}
	var rec event.Recorder
	r := NewReceiver(Options{Store: saver, Sink: &rec, ForwardSync: true,
		Forward: &Forwarder{URL: a.URL + "/hook", Token: "app-token"}})
	r.Handle(Route{Path: "/h/a", Token: testToken})
	body := responseBody("resp_1", "completed", 10)
	auth := "Bearer " + testToken

	if w := post(r, "POST", "/h/a", body, auth); w.Code != 503 {
		t.Fatalf("app down for maintenance: sender got %d, want the app's 503", w.Code)
	}
	a.status.Store(http.StatusNoContent)
	w := post(r, "POST", "/h/a", body, auth)
	if w.Code != 204 || w.Body.Len() != 0 {
		t.Fatalf("app recovered: sender got %d %q, want 204", w.Code, w.Body)
	}
	// A rejected delivery never reaches the app.
	if w := post(r, "POST", "/h/a", body, "Bearer wrong"); w.Code != 401 {
		t.Fatalf("bad token: %d", w.Code)
	}
	r.Wait(context.Background())

	bodies, auths := a.received()
	if len(bodies) != 2 {
		t.Fatalf("app got %d posts, want 2", len(bodies))
	}
	for i := range bodies {
		if auths[i] != "Bearer app-token" || bytes.Contains(bodies[i], []byte(testToken)) || !bytes.Contains(bodies[i], []byte(`"resp_1"`)) {
			t.Fatalf("app got auth %q body %s", auths[i], bodies[i])
		}
	}
	ds, fs := testutil.EventsOf[event.Delivery](&rec), testutil.EventsOf[event.Forwarded](&rec)
	if len(ds) != 3 || len(fs) != 2 {
		t.Fatalf("%d deliveries, %d forwards", len(ds), len(fs))
	}
	// The retry after the app's 503 is not a duplicate: nothing was acknowledged.
	if ds[0].HTTPStatus != 503 || ds[1].HTTPStatus != 204 || ds[1].Duplicate || !strings.Contains(ds[0].Error, "503") {
		t.Fatalf("deliveries %+v", ds)
	}
	if fs[0].StatusCode != 503 || fs[1].StatusCode != 204 || fs[0].RecordID != ds[0].RecordID || fs[0].ResponseID != "resp_1" ||
		fs[0].Excerpt != "app says hello" || fs[0].LatencyMS <= 0 || fs[0].Error != "" {
		t.Fatalf("forwards %+v", fs)
	}
	recs := saver.records()
	if recs[0].HTTPStatus != 503 || recs[0].DedupeKey != "" || recs[1].HTTPStatus != 204 || recs[1].DedupeKey == "" {
		t.Fatalf("records %+v / %+v", recs[0].Summary, recs[1].Summary)
	}
}

func TestForwardSyncAppDown(t *testing.T) {
	var rec event.Recorder
	r := NewReceiver(Options{Sink: &rec, ForwardSync: true, Forward: &Forwarder{URL: deadURL(t)}})
	r.Handle(Route{Path: "/h/a"})
	w := post(r, "POST", "/h/a", responseBody("resp_1", "completed", 10), "")
	if w.Code != http.StatusBadGateway {
		t.Fatalf("sender got %d, want 502", w.Code)
	}
	r.Wait(context.Background())
	if fs := testutil.EventsOf[event.Forwarded](&rec); len(fs) != 1 || !strings.Contains(fs[0].Error, "is your app running") {
		t.Fatalf("forwards %+v", fs)
	}
}

func TestForwardAsync(t *testing.T) {
	t.Run("app down", func(t *testing.T) {
		var rec event.Recorder
		r := NewReceiver(Options{Sink: &rec, Forward: &Forwarder{URL: deadURL(t)}})
		r.Handle(Route{Path: "/h/a"})
		if w := post(r, "POST", "/h/a", responseBody("resp_1", "completed", 10), ""); w.Code != 200 {
			t.Fatalf("sender got %d, want 200 whatever the app does", w.Code)
		}
		r.Wait(context.Background())
		fs := testutil.EventsOf[event.Forwarded](&rec)
		if len(fs) != 1 || fs[0].Error == "" || fs[0].StatusCode != 0 || fs[0].ResponseID != "resp_1" {
			t.Fatalf("forwards %+v", fs)
		}
		if kinds := rec.Kinds(); kinds[0] != event.KindDelivery {
			t.Fatalf("Forwarded came before Delivery: %v", kinds)
		}
	})
	t.Run("app up", func(t *testing.T) {
		a := newApp(t, http.StatusInternalServerError)
		var rec event.Recorder
		r := NewReceiver(Options{Sink: &rec, Forward: &Forwarder{URL: a.URL}})
		r.Handle(Route{Path: "/h/a"})
		body := responseBody("resp_1", "completed", 10)
		for range 2 {
			if w := post(r, "POST", "/h/a", body, ""); w.Code != 200 {
				t.Fatalf("sender got %d", w.Code)
			}
		}
		r.Wait(context.Background())
		fs := testutil.EventsOf[event.Forwarded](&rec)
		bodies, auths := a.received()
		// Duplicates are forwarded too: the app sees what Sail sends.
		if len(fs) != 2 || len(bodies) != 2 || fs[0].StatusCode != 500 || auths[0] != "" {
			t.Fatalf("forwards %+v, app got %d (auth %q)", fs, len(bodies), auths)
		}
		var want map[string]any = jsonAnswer(t, payload.Redact(bytes.Clone(body), ""))
		if got := jsonAnswer(t, bodies[0]); got["id"] != want["id"] || got["metadata"].(map[string]any)["webhook_token"] != secret.Mask {
			t.Fatalf("app got %s", bodies[0])
		}
	})
}

func TestForwarderErrors(t *testing.T) {
	f := (&Forwarder{URL: "::bad"}).Forward(context.Background(), nil, "")
	if f.Error == "" || !strings.Contains(f.Error, "bad URL") {
		t.Fatalf("bad URL: %+v", f)
	}
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer redirect.Close()
	if f := (&Forwarder{URL: redirect.URL}).Forward(context.Background(), []byte(`{}`), ""); f.StatusCode != 302 {
		t.Fatalf("redirect followed: %+v", f)
	}
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	f = (&Forwarder{URL: slow.URL, Timeout: 50 * time.Millisecond}).Forward(context.Background(), []byte(`{}`), "")
	if !strings.Contains(f.Error, "deadline") {
		t.Fatalf("timeout: %+v", f)
	}
	if f := (&Forwarder{URL: "http://user:pw@127.0.0.1:1/x"}).Forward(context.Background(), nil, ""); strings.Contains(f.URL+f.Error, "pw") {
		t.Fatalf("password shown: %+v", f)
	}
}

func TestForwardDeliveryPassesHeadersAndReportsTheAppsSide(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Set-Cookie", "session=abc123secret")
		w.Header().Set("X-Evil", "a\u202eb\u2066c") // an escape byte would not even parse
		w.Header().Set("X-Long", strings.Repeat("v", 500))
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "queued\x1b[2J")
	}))
	defer srv.Close()
	fw := &Forwarder{URL: srv.URL, Token: "app-token"}
	res := fw.ForwardDelivery(context.Background(), []byte(`{}`), Meta{ContentType: "application/json; charset=utf-8", UserAgent: "Sail-Webhooks/1.0", DeliveryID: "d_01", Attempt: 3})
	for k, want := range map[string]string{
		"Content-Type": "application/json; charset=utf-8", "User-Agent": "Sail-Webhooks/1.0",
		HeaderDeliveryID: "d_01", HeaderAttempt: "3", "Authorization": "Bearer app-token",
	} {
		if got.Get(k) != want {
			t.Errorf("app got %s %q, want %q", k, got.Get(k), want)
		}
	}
	if res.StatusCode != 202 || strings.ContainsRune(res.Excerpt, 0x1b) || !strings.HasPrefix(res.Excerpt, "queued") {
		t.Errorf("status %d excerpt %q error %q", res.StatusCode, res.Excerpt, res.Error)
	}
	if res.Headers["Set-Cookie"] != secret.Mask {
		t.Errorf("Set-Cookie not masked: %q", res.Headers["Set-Cookie"])
	}
	if v := res.Headers["X-Evil"]; strings.ContainsAny(v, "\u202e\u2066") || !strings.Contains(v, "a") {
		t.Errorf("X-Evil not sanitised: %q", v)
	}
	if n := len([]rune(res.Headers["X-Long"])); n > 200 {
		t.Errorf("X-Long is %d runes, want at most 200", n)
	}

	// Without metadata: the defaults, and no X-Sail-* headers.
	fw.ForwardDelivery(context.Background(), []byte(`{}`), Meta{})
	if got.Get("User-Agent") != "sail-forward" || got.Get("Content-Type") != "application/json" || got.Get(HeaderDeliveryID) != "" || got.Get(HeaderAttempt) != "" {
		t.Errorf("defaults: %v", got)
	}
}
