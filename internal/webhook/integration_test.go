package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/testutil"
)

// serve runs h on a loopback listener and returns its base URL and a
// function that shuts it down.
func serve(t testing.TB, h http.Handler) (string, func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, ServerOptions{})
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			<-done
		})
	}
	t.Cleanup(stop)
	return "http://" + l.Addr().String(), stop
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dir, store.Options{Warn: func(w string) { t.Errorf("store warning: %s", w) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEndToEnd drives the receiver over real HTTP with a real history:
// every 2xx must be in the store, and no file may contain the token.
func TestEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "history")
	st := openStore(t, dir)
	var rec event.Recorder
	r := NewReceiver(Options{Store: st, Sink: &rec})
	r.Handle(Route{Path: "/h/a", Token: testToken})
	base, stop := serve(t, r)
	client := &http.Client{Timeout: 10 * time.Second}

	type result struct {
		id     string
		status int
	}
	results := make(chan result, 200)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			id := fmt.Sprintf("resp_%03d", i)
			body := responseBody(id, "completed", 50+i)
			auth := "Bearer " + testToken
			switch i % 5 {
			case 1:
				auth = "Bearer " + testToken + "x"
			case 2:
				body = []byte("not json " + testToken)
			case 3:
				id = "resp_dup" // many identical deliveries at once
				body = responseBody(id, "completed", 10)
			}
			req, _ := http.NewRequest("POST", base+"/h/a", bytes.NewReader(body))
			req.Header.Set("Authorization", auth)
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			results <- result{id, resp.StatusCode}
		})
	}
	wg.Wait()
	close(results)
	stop()
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	list, err := st.List(0)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	dups := 0
	for _, s := range list {
		if s.HTTPStatus == 200 {
			stored[s.ResponseID]++
			if s.Duplicate {
				dups++
			}
		}
	}
	counts := map[int]int{}
	for res := range results {
		counts[res.status]++
		if res.status == 200 && stored[res.id] == 0 {
			t.Errorf("%s was acknowledged but is not in the history", res.id)
		}
	}
	if counts[200] != 120 || counts[401] != 40 || counts[400] != 40 {
		t.Errorf("answers %v", counts)
	}
	if len(list) != 200 || len(testutil.EventsOf[event.Delivery](&rec)) != 200 {
		t.Errorf("%d records, %d events, want 200", len(list), len(testutil.EventsOf[event.Delivery](&rec)))
	}
	if stored["resp_dup"] != 40 || dups != 39 {
		t.Errorf("identical deliveries: %d stored, %d flagged duplicate; want 40 and 39", stored["resp_dup"], dups)
	}
	st.Close()

	files, _ := os.ReadDir(dir)
	for _, f := range files {
		data, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		if bytes.Contains(data, []byte(testToken)) {
			t.Fatalf("%s contains the webhook token in clear", f.Name())
		}
	}
}

func TestDedupeSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "history")
	body := responseBody("resp_1", "completed", 10)
	for round, wantDup := range []bool{false, true} {
		st := openStore(t, dir)
		var rec event.Recorder
		r := NewReceiver(Options{Store: st, Sink: &rec})
		r.Handle(Route{Path: "/h/a"})
		if w := post(r, "POST", "/h/a", body, ""); w.Code != 200 {
			t.Fatalf("round %d: %d", round, w.Code)
		}
		r.Close(context.Background())
		st.Close()
		if d := testutil.EventsOf[event.Delivery](&rec); len(d) != 1 || d[0].Duplicate != wantDup {
			t.Fatalf("round %d: events %+v", round, d)
		}
	}
}

// blockingSink blocks every Emit until released.
type blockingSink struct {
	release chan struct{}
	got     chan event.Event
}

func (b *blockingSink) Emit(e event.Event) {
	b.got <- e
	<-b.release
}

func TestSlowSinkDoesNotDelayTheAnswer(t *testing.T) {
	sink := &blockingSink{release: make(chan struct{}), got: make(chan event.Event, 10)}
	called := make(chan struct{}, 10)
	r := NewReceiver(Options{Sink: sink})
	r.Handle(Route{Path: "/h/a", OnDelivery: func(event.Delivery) { called <- struct{}{} }})
	base, stop := serve(t, r)
	client := &http.Client{Timeout: 10 * time.Second}
	// Three answers arrive while the sink is stuck on the first event.
	for i := range 3 {
		resp, err := client.Post(base+"/h/a", "application/json", bytes.NewReader(responseBody(fmt.Sprint("resp_", i), "completed", 5)))
		if err != nil {
			t.Fatalf("answer %d held up by a slow sink: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if e := <-sink.got; e.(event.Delivery).ResponseID != "resp_0" {
		t.Fatalf("first event %+v", e)
	}
	select {
	case <-called:
		t.Fatal("OnDelivery ran before its event was emitted")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait returned %v while work was stuck", err)
	}
	cancel()
	close(sink.release)
	if err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(called) != 3 {
		t.Fatalf("OnDelivery called %d times", len(called))
	}
	stop()
}

func TestNoGoroutineLeak(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	func() {
		a := newApp(t, 200)
		st := openStore(t, filepath.Join(t.TempDir(), "h"))
		defer st.Close()
		var rec event.Recorder
		r := NewReceiver(Options{Store: st, Sink: &rec, Forward: &Forwarder{URL: a.URL}})
		r.Handle(Route{Path: "/h/a"})
		base, stop := serve(t, r)
		client := &http.Client{Transport: &http.Transport{}}
		for i := range 20 {
			resp, err := client.Post(base+"/h/a", "application/json", bytes.NewReader(responseBody(fmt.Sprint("r", i), "completed", 5)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		client.CloseIdleConnections()
		stop()
		if err := r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(testutil.EventsOf[event.Forwarded](&rec)) != 20 {
			t.Fatalf("%d forwards", len(testutil.EventsOf[event.Forwarded](&rec)))
		}
		a.Close()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	}()
	goleak.VerifyNone(t, ignore)
}

// TestHugeBodyKeepsOneCopy receives a 30 MiB payload into a real history
// and checks that the receiver allocated about one copy of it.
func TestHugeBodyKeepsOneCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("30 MiB")
	}
	st := openStore(t, filepath.Join(t.TempDir(), "h"))
	defer st.Close()
	var rec event.Recorder
	r := NewReceiver(Options{Store: st, Sink: &rec})
	r.Handle(Route{Path: "/h/a", Token: testToken})
	body := responseBody("resp_big", "completed", 30<<20)
	req, _ := http.NewRequest("POST", "http://127.0.0.1/h/a", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	w := &discardWriter{h: http.Header{}}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r.ServeHTTP(w, req)
	r.Wait(context.Background())
	runtime.ReadMemStats(&after)

	if w.code != 200 {
		t.Fatalf("status %d", w.code)
	}
	if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(len(body))+4<<20; alloc > limit {
		t.Errorf("receiving %d bytes allocated %d bytes (limit %d): the body was copied", len(body), alloc, limit)
	}
	d := testutil.EventsOf[event.Delivery](&rec)[0]
	got, err := st.Get(d.RecordID)
	if err != nil || len(got.Body) != len(body)-len(testToken)+len("•••") || bytes.Contains(got.Body, []byte(testToken)) {
		t.Fatalf("stored %d bytes, err %v", len(got.Body), err)
	}
	if !strings.HasPrefix(d.Excerpt, "The answer is 4.") {
		t.Fatalf("excerpt %q", d.Excerpt)
	}
}

// discardWriter is a minimal ResponseWriter that keeps nothing.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
