// Package testutil holds the helpers the project's tests share: a buffer
// that a test reads while the code under test writes to it from another
// goroutine, the recorded events of one type, polling for state that has
// no signal of its own, goroutine leak checks with patience for a loaded
// machine, and encoding/json's reading of a document to check against.
package testutil

import (
	"bytes"
	"encoding/json"
	"flag"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/event"
)

// LockedBuffer is a bytes.Buffer safe to read while other goroutines
// write to it: a fake terminal, or a library's log.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// EventsOf returns the events of type T that r has recorded, in order.
func EventsOf[T event.Event](r *event.Recorder) []T {
	var out []T
	for _, e := range r.Events() {
		if v, ok := e.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// WaitUntil polls cond every millisecond and fails t, naming what it waited
// for, if cond does not hold within limit. It is for state the code under
// test offers no channel for (a counter, a file, a drawn screen); the limit
// only keeps a regression from hanging the test.
func WaitUntil(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// VerifyNoneWithin is goleak.VerifyNone with up to limit for goroutines to
// finish, rather than goleak's fixed half second: some exit only after a
// library's own backoff (ngrok's reconnect sleeps up to 2 s before it sees
// its session closed).
func VerifyNoneWithin(t testing.TB, limit time.Duration, opts ...goleak.Option) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := goleak.Find(opts...) // retries for about half a second itself
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Error(err)
			return
		}
	}
}

// DefaultParallel lets n parallel tests run at once unless the command
// line sets -parallel or -fuzz. For tests that mostly wait (an emulator's latency,
// a poll interval, a settle time), go test's default of one per CPU makes
// them take turns at waiting. Call it from TestMain, before m.Run.
func DefaultParallel(n int) {
	flag.Parse()
	explicit := false // -fuzz takes -parallel as its number of workers: leave it alone too
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" || f.Name == "test.fuzz" })
	if !explicit {
		if err := flag.Set("test.parallel", strconv.Itoa(n)); err != nil {
			panic(err)
		}
	}
}

// DecodeJSON decodes b with encoding/json, numbers kept as their text: the
// reference that payload and jsondiff tests compare their results with.
func DecodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}
