package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/testutil"
	"github.com/sailresearch/sail/internal/webhook"
)

// errDiskFull stands in for ENOSPC/EACCES/EROFS. The history directory
// cannot be made unwritable with chmod here: the tests run as root, which
// ignores permission bits, and a read-only bind mount needs privileges a
// test must not assume. The store's WrapWriter hook fails the write(2)
// itself instead, which is the same failure seen one layer higher.
var errDiskFull = errors.New("no space left on device (injected)")

// faultyWriter fails the first n writes: cleanly (nothing written) or, when
// short is set, after writing half of the buffer, so a torn frame is left
// in the segment for the store to roll back.
type faultyWriter struct {
	w     io.Writer
	left  *atomic.Int64
	short bool
}

func (f faultyWriter) Write(p []byte) (int, error) {
	if f.left.Add(-1) >= 0 {
		if f.short && len(p) > 1 {
			n, err := f.w.Write(p[:len(p)/2])
			if err != nil {
				return n, err
			}
			return n, errDiskFull
		}
		return 0, errDiskFull
	}
	return f.w.Write(p)
}

// emulatorClient serves an in-process emulator on loopback and returns it
// with a client for it.
func emulatorClient(t *testing.T, o emulator.Options) (*emulator.Emulator, *sail.Client) {
	t.Helper()
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := emu.Close(ctx); err != nil {
			t.Errorf("close emulator: %v", err)
		}
		srv.Close()
	})
	c, err := sail.New(sail.Options{BaseURL: srv.URL, APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}

// attemptsUntilDone polls the emulator's delivery log for id until an
// attempt succeeded or want attempts were made.
func attemptsUntilDone(t *testing.T, emu *emulator.Emulator, id string, want int) []emulator.Attempt {
	t.Helper()
	var got []emulator.Attempt
	testutil.WaitUntil(t, 10*time.Second, fmt.Sprintf("%d delivery attempts for %s, or one that succeeded", want, id), func() bool {
		got = got[:0]
		for _, a := range emu.Attempts() {
			if a.ResponseID == id {
				got = append(got, a)
			}
		}
		return len(got) >= want || (len(got) > 0 && got[len(got)-1].OK())
	})
	return got
}

// TestStoreFailureIsNeverAcknowledged: while the history cannot be
// written, the receiver answers 500 (so Sail retries), says why in the
// Delivery event, and acknowledges nothing it did not store; once writes
// work again the retry is stored and accepted exactly once.
func TestStoreFailureIsNeverAcknowledged(t *testing.T) {
	t.Parallel()
	const maxAttempts = emulator.DefaultMaxAttempts
	for _, tc := range []struct {
		name     string
		failures int64 // failing writes (each failed Save costs one)
		short    bool
		want     []int // HTTP status of each attempt the emulator makes
	}{
		{"first two writes fail", 2, false, []int{500, 500, 200}},
		{"torn writes are rolled back", 2, true, []int{500, 500, 200}},
		{"history never writable", 1 << 30, false, []int{500, 500, 500, 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "history")
			var left atomic.Int64
			left.Store(tc.failures)
			st, err := store.Open(dir, store.Options{WrapWriter: func(w io.Writer) io.Writer {
				return faultyWriter{w: w, left: &left, short: tc.short}
			}})
			if err != nil {
				t.Fatal(err)
			}
			rec := &event.Recorder{}
			in := openLocal(t, webhook.Options{Store: st, Sink: rec})
			const path, token = "/hook", "tok-store-fault-0123456789"
			in.Receiver.Handle(webhook.Route{Path: path, Token: token})

			emu, client := emulatorClient(t, emulator.Options{RetryBackoff: 2 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := client.Create(ctx, sail.CreateRequest{
				Model: "moonshotai/Kimi-K2.5", Input: "What is 2+2?", Background: true,
				WebhookURL: in.URL(path), WebhookToken: token,
			})
			if err != nil {
				t.Fatal(err)
			}

			attempts := attemptsUntilDone(t, emu, resp.ID, maxAttempts)
			settle(t, in.Receiver)
			var gotStatus []int
			for _, a := range attempts {
				gotStatus = append(gotStatus, a.StatusCode)
			}
			if !slices.Equal(gotStatus, tc.want) {
				t.Fatalf("sender saw %v, want %v (attempts %+v)", gotStatus, tc.want, attempts)
			}

			ds := testutil.EventsOf[event.Delivery](rec)
			if len(ds) != len(tc.want) {
				t.Fatalf("%d delivery events for %d attempts: %+v", len(ds), len(tc.want), ds)
			}
			var acceptedIDs []string
			for i, d := range ds {
				if d.HTTPStatus != tc.want[i] || d.Attempt != i+1 || d.ResponseID != resp.ID {
					t.Errorf("delivery %d: status %d attempt %d id %q, want %d, %d, %s", i, d.HTTPStatus, d.Attempt, d.ResponseID, tc.want[i], i+1, resp.ID)
				}
				if d.Accepted() {
					if d.RecordID == "" || d.Error != "" || d.Duplicate {
						t.Errorf("accepted delivery %d: record %q error %q duplicate %v", i, d.RecordID, d.Error, d.Duplicate)
					}
					acceptedIDs = append(acceptedIDs, d.RecordID)
					continue
				}
				// The user sees why: the event names the storage failure.
				if d.RecordID != "" || !strings.Contains(d.Error, "could not store") || !strings.Contains(d.Error, "no space left") {
					t.Errorf("failed delivery %d: record %q, error %q: want no record and the storage error", i, d.RecordID, d.Error)
				}
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			// What is on disk, read back by a fresh process: exactly the
			// accepted deliveries, whole.
			var warnings []string
			var mu sync.Mutex
			again, err := store.Open(dir, store.Options{Warn: func(s string) { mu.Lock(); warnings = append(warnings, s); mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			list, err := again.List(0)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(acceptedIDs) {
				t.Fatalf("history holds %d records, %d deliveries were acknowledged: %+v", len(list), len(acceptedIDs), list)
			}
			for i, s := range list {
				if s.ID != acceptedIDs[i] || s.HTTPStatus != 200 || s.ResponseID != resp.ID || s.Duplicate {
					t.Errorf("record %d: %+v, want the accepted delivery %s", i, s, acceptedIDs[i])
				}
				r, err := again.Get(s.ID)
				if err != nil {
					t.Fatalf("get %s: %v", s.ID, err)
				}
				if !strings.Contains(string(r.Body), `"id":"`+resp.ID+`"`) || strings.Contains(string(r.Body), token) {
					t.Errorf("stored body is not the redacted payload: %.200s", r.Body)
				}
			}
			if len(warnings) > 0 {
				t.Logf("store warnings on reopen (torn frames skipped): %q", warnings)
			}
		})
	}
}
