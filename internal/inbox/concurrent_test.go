package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/testutil"
	"github.com/sailresearch/sail/internal/webhook"
)

// TestThousandConcurrentDeliveries sends 1,000 deliveries at once through
// a real inbox (local tunnel, webhook.NewServer, receiver, store): 900
// distinct payloads and 100 exact repeats racing their originals, a tenth
// of them large enough to bypass the store's group commit. Every 2xx must
// be a whole record on disk after a reopen, each payload stored as new
// exactly once, and nothing stored that was not answered.
func TestThousandConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	const (
		total   = 1000
		unique  = 900
		token   = "tok-concurrent-0123456789abcdef"
		path    = "/hook"
		bigPad  = 20 << 10 // over the store's 16 KiB group-commit frame limit
		smallPd = 64
	)
	dir := filepath.Join(t.TempDir(), "history")
	st, err := store.Open(dir, store.Options{Keep: 10 * total})
	if err != nil {
		t.Fatal(err)
	}
	rec := &event.Recorder{}
	in := openLocal(t, webhook.Options{Store: st, Sink: rec})
	in.Receiver.Handle(webhook.Route{Path: path, Token: token})
	url := in.URL(path)

	payload := func(i int) []byte {
		pad := smallPd
		if i%10 == 0 {
			pad = bigPad
		}
		return fmt.Appendf(nil, `{"id":"resp_%04d","object":"response","status":"completed","model":"m","metadata":{"webhook_token":%q},"output":[{"type":"message","content":[{"type":"output_text","text":"%d"}]}],"pad":%q}`,
			i, token, i, strings.Repeat(string(rune('a'+i%26)), pad))
	}

	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: total, MaxConnsPerHost: 0},
	}
	defer client.CloseIdleConnections()
	start := make(chan struct{})
	statuses := make([]int, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	var retried atomic.Int64
	for i := range total {
		n := i
		if i >= unique {
			n = i - unique // a repeat of an earlier payload, sent at the same moment
		}
		wg.Go(func() {
			body := payload(n)
			<-start
			// Like Sail, retry a delivery whose connection failed: on a
			// loaded machine (the race detector, CI) some of 1,000
			// simultaneous connections can miss the header deadline.
			for attempt := range 4 {
				if attempt > 0 {
					time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
				}
				req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					errs[i] = err
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					errs[i] = err
					retried.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[i], errs[i] = resp.StatusCode, nil
				return
			}
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i := range total {
		if errs[i] != nil {
			t.Fatalf("delivery %d: %v", i, errs[i])
		}
		if statuses[i] == http.StatusOK {
			ok++
		} else {
			t.Errorf("delivery %d answered %d", i, statuses[i])
		}
	}
	settle(t, in.Receiver)
	if n := retried.Load(); n > 0 {
		t.Logf("%d requests failed at the connection and were sent again", n)
	}

	// The events agree with the answers: one per request, every accepted
	// one naming a distinct record.
	ds := testutil.EventsOf[event.Delivery](rec)
	if len(ds) < ok || (retried.Load() == 0 && len(ds) != ok) {
		t.Fatalf("%d delivery events for %d answers (%d retries)", len(ds), ok, retried.Load())
	}
	recordIDs := map[string]bool{}
	for _, d := range ds {
		if !d.Accepted() || d.RecordID == "" || recordIDs[d.RecordID] {
			t.Fatalf("delivery event %+v: want accepted with a fresh record id", d)
		}
		recordIDs[d.RecordID] = true
	}

	// Reopen, as the next sail command would, and read everything back.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	again, err := store.Open(dir, store.Options{Keep: 10 * total, Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if len(warnings) > 0 {
		t.Errorf("reopening the history warned (damaged or torn records?): %q", warnings)
	}
	list, err := again.List(0)
	if err != nil {
		t.Fatal(err)
	}
	// Stored = answered 2xx, exactly (a connection lost after the answer
	// and retried shows up as one more 2xx and one more record).
	if len(list) != len(recordIDs) {
		t.Fatalf("history holds %d records, the receiver answered 200 %d times", len(list), len(recordIDs))
	}
	fresh := map[string]int{} // response id → records not flagged duplicate
	dups := 0
	for _, s := range list {
		if !recordIDs[s.ID] || s.HTTPStatus != http.StatusOK || s.Verdict != event.VerdictOK {
			t.Fatalf("record %+v: not one of the acknowledged deliveries", s)
		}
		r, err := again.Get(s.ID)
		if err != nil {
			t.Fatalf("get %s (torn record?): %v", s.ID, err)
		}
		var n int
		if _, err := fmt.Sscanf(s.ResponseID, "resp_%d", &n); err != nil {
			t.Fatalf("record %s: response id %q", s.ID, s.ResponseID)
		}
		// Byte for byte what was sent, apart from the redacted token.
		want := bytes.Replace(payload(n), []byte(`"webhook_token":"`+token+`"`), []byte(`"webhook_token":"•••"`), 1)
		if !bytes.Equal(r.Body, want) {
			t.Fatalf("record %s body differs from what was sent for %s:\n got %.120s…\nwant %.120s…", s.ID, s.ResponseID, r.Body, want)
		}
		if !json.Valid(r.Body) || bytes.Contains(r.Body, []byte(token)) {
			t.Fatalf("record %s: invalid JSON or token in clear", s.ID)
		}
		if s.Duplicate {
			dups++
		} else {
			fresh[s.ResponseID]++
		}
	}
	// A retried request whose first try was stored would add a duplicate,
	// never a second new record.
	if len(fresh) != unique || dups != len(list)-unique || dups < total-unique {
		t.Fatalf("%d payloads stored as new and %d duplicates, want %d and %d", len(fresh), dups, unique, len(list)-unique)
	}
	for id, c := range fresh {
		if c != 1 {
			t.Fatalf("%s stored as new %d times", id, c)
		}
	}
}

// BenchmarkInboxDelivery measures one accepted, stored delivery through a
// real inbox over loopback.
func BenchmarkInboxDelivery(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "history"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	in, err := Open(ctx, Options{Tunnel: localTunnel(), Receiver: webhook.Options{Store: st}})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close(ctx)
	in.Receiver.Handle(webhook.Route{Path: "/hook"})
	url := in.URL("/hook")
	client := &http.Client{}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		body := fmt.Appendf(nil, `{"id":"resp_%d","object":"response","status":"completed"}`, i)
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
