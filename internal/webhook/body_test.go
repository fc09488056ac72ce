package webhook

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/testutil"
)

// postChunked sends body to url without a Content-Length.
func postChunked(t *testing.T, url string, body io.Reader) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, chunked{body})
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	if req.ContentLength != 0 || len(req.TransferEncoding) != 0 {
		t.Fatalf("request would not be chunked: length %d", req.ContentLength)
	}
	return (&http.Client{Transport: &http.Transport{}}).Do(req)
}

// postSized posts n bytes from body with a Content-Length, however slowly
// body yields them.
func postSized(t *testing.T, url string, body io.Reader, n int64) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, body)
	req.ContentLength = n
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	return (&http.Client{Transport: &http.Transport{}}).Do(req)
}

// Chunked bodies are held to the same memory bound as sized ones: the
// buffers reserved for a body never pass 1.5 times the limit (the doubling
// stops at the limit), a body under the limit is accepted and stored
// whole, and one over it gets 413 once it passes the limit.
func TestChunkedBodiesBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("30 and 40 MB bodies")
	}
	st := openStore(t, filepath.Join(t.TempDir(), "h"))
	defer st.Close()
	var rec event.Recorder
	r := NewReceiver(Options{Store: st, Sink: &rec})
	r.Handle(Route{Path: "/h/a", Token: testToken})
	base, _ := serve(t, r)
	const bound = DefaultMaxBody*3/2 + 2*slack

	ok := responseBody("resp_chunked", "completed", 30<<20)
	resp, err := postChunked(t, base+"/h/a", bytes.NewReader(ok))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("30 MiB chunked: status %d", resp.StatusCode)
	}
	if p := r.inflight.peak.Load(); p > bound {
		t.Fatalf("30 MiB chunked body reserved %d bytes at peak, bound %d", p, bound)
	}
	r.Wait(t.Context())
	d := testutil.EventsOf[event.Delivery](&rec)[0]
	got, err := st.Get(d.RecordID)
	if err != nil || len(got.Body) != len(ok)-len(testToken)+len("•••") {
		t.Fatalf("stored %d bytes of %d, err %v", len(got.Body), len(ok), err)
	}

	tooBig := io.LimitReader(neverEnding('x'), 40e6)
	resp, err = postChunked(t, base+"/h/a", tooBig)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("40 MB chunked: status %d, want 413", resp.StatusCode)
		}
	} // else the server closed the connection while we were still sending: the 413 was recorded below
	r.Wait(t.Context())
	ds := testutil.EventsOf[event.Delivery](&rec)
	if last := ds[len(ds)-1]; last.HTTPStatus != http.StatusRequestEntityTooLarge {
		t.Fatalf("40 MB chunked recorded as %d", last.HTTPStatus)
	}
	if p := r.inflight.peak.Load(); p > bound {
		t.Fatalf("40 MB chunked body reserved %d bytes at peak, bound %d", p, bound)
	}
	if u := r.inflight.used.Load(); u != 0 {
		t.Fatalf("%d bytes still reserved after every body was answered", u)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// Beyond the in-flight budget new large bodies get 503 with Retry-After,
// sized ones before they are read; small ones are still accepted, and the
// bodies already being read finish.
func TestInFlightBudget(t *testing.T) {
	saver := &memSaver{}
	var rec event.Recorder
	const limit = 1 << 20
	// Two held bodies of about 0.9 MiB reserve about 1.76 MiB; 2.4 MiB
	// leaves too little for either a third 0.9 MiB body sized or a chunked
	// one growing to it (its 256K → 512K step already passes).
	r := NewReceiver(Options{Store: saver, Sink: &rec, MaxBody: limit, MaxInFlight: 2*limit + limit*2/5})
	r.Handle(Route{Path: "/h/a", Token: testToken})
	base, _ := serve(t, r)

	// Two senders hold almost a limit each in the receiver and wait. Their
	// bodies are sized, so each is reserved once at its length (a chunked
	// one doubles its buffer, and two doubling at the same moment hold
	// old and new buffers together: how much is reserved when would
	// depend on scheduling).
	body := responseBody("resp_held", "completed", 900<<10)
	held := int64(2 * (len(body) + slack))
	type result struct {
		code int
		err  error
	}
	var wg sync.WaitGroup
	var pws []*io.PipeWriter
	results := make(chan result, 2)
	for i := range 2 {
		pr, pw := io.Pipe()
		pws = append(pws, pw)
		wg.Go(func() {
			resp, err := postSized(t, base+"/h/a", pr, int64(len(body)))
			if err != nil {
				results <- result{0, err}
				return
			}
			resp.Body.Close()
			results <- result{resp.StatusCode, nil}
		})
		go pw.Write(bytes.Replace(body[:len(body)-1000], []byte("resp_held"), []byte(fmt.Sprintf("resp_hel%d", i)), 1))
	}
	testutil.WaitUntil(t, 30*time.Second, "the two bodies to reach the receiver", func() bool { return r.inflight.used.Load() >= held })

	// A third large body, chunked: 503 once it needs more than is left.
	resp, err := postChunked(t, base+"/h/a", bytes.NewReader(responseBody("resp_third", "completed", 900<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third chunked body: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// A large sized body: 503 at once.
	big := responseBody("resp_sized", "completed", 900<<10)
	req, _ := http.NewRequest("POST", base+"/h/a", bytes.NewReader(big))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err = (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("sized large body: %d; want 503 with Retry-After", resp.StatusCode)
	}
	// A small delivery still gets through.
	if w := post(r, "POST", "/h/a", responseBody("resp_small", "completed", 100), "Bearer "+testToken); w.Code != 200 {
		t.Fatalf("small body during the squeeze: %d %s", w.Code, w.Body)
	}
	// The two held bodies finish and are accepted.
	for _, pw := range pws {
		pw.Write(body[len(body)-1000:])
		pw.Close()
	}
	wg.Wait()
	close(results)
	for res := range results {
		if res.err != nil || res.code != 200 {
			t.Fatalf("held body: %d, %v", res.code, res.err)
		}
	}
	r.Wait(t.Context())
	var busy int
	for _, d := range testutil.EventsOf[event.Delivery](&rec) {
		if d.HTTPStatus == http.StatusServiceUnavailable {
			busy++
			if !strings.Contains(d.Error, "in flight") {
				t.Fatalf("503 recorded with error %q", d.Error)
			}
		}
	}
	if busy != 2 {
		t.Fatalf("%d deliveries recorded as 503, want 2", busy)
	}
	for _, s := range saver.records() {
		if s.HTTPStatus == http.StatusServiceUnavailable && !s.Rejected {
			t.Fatalf("503 stored as accepted: %+v", s.Summary)
		}
	}
	if u := r.inflight.used.Load(); u != 0 {
		t.Fatalf("%d bytes still reserved", u)
	}
}
