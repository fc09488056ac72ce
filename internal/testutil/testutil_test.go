package testutil

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLockedBufferKeepsConcurrentWrites(t *testing.T) {
	var b LockedBuffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&b, "<%d>", i) })
	}
	wg.Wait()
	got := b.String()
	for i := range 50 {
		if !strings.Contains(got, fmt.Sprintf("<%d>", i)) {
			t.Fatalf("write %d lost: %q", i, got)
		}
	}
}

// recorder is a testing.TB that records failures instead of ending the
// test, so the helpers' failures can be seen.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(r) // stands in for runtime.Goexit
}

func (r *recorder) run(f func()) (failures []string) {
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		failures = r.failed
	}()
	f()
	return nil
}

func TestWaitUntil(t *testing.T) {
	n := 0
	r := &recorder{TB: t}
	if f := r.run(func() { WaitUntil(r, time.Second, "three calls", func() bool { n++; return n == 3 }) }); len(f) != 0 || n != 3 {
		t.Fatalf("a condition that comes true failed %q after %d calls", f, n)
	}
	r = &recorder{TB: t}
	f := r.run(func() { WaitUntil(r, 20*time.Millisecond, "never", func() bool { return false }) })
	if len(f) != 1 || !strings.Contains(f[0], "waiting for never") {
		t.Fatalf("a condition that never holds gave %q", f)
	}
}

// TestVerifyNoneWithin shows the check can fail: a blocked goroutine is
// reported with its stack; once it is released and exits, nothing is.
func TestVerifyNoneWithin(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	release, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		<-release
	}()
	r := &recorder{TB: t}
	f := r.run(func() { VerifyNoneWithin(r, 0, ignore) })
	if len(f) != 1 || !strings.Contains(f[0], "TestVerifyNoneWithin") {
		t.Fatalf("a blocked goroutine must be reported with its stack, got %q", f)
	}
	// Released while the check waits: the check sees it end.
	time.AfterFunc(50*time.Millisecond, func() { close(release) })
	r = &recorder{TB: t}
	if f := r.run(func() { VerifyNoneWithin(r, 5*time.Second, ignore) }); len(f) != 0 {
		t.Fatalf("a goroutine that exited is still reported: %q", f)
	}
	<-exited
}

func TestEventsOf(t *testing.T) {
	var r event.Recorder
	r.Emit(event.Delivery{ResponseID: "a"})
	r.Emit(event.Notice{Message: "between"})
	r.Emit(event.Delivery{ResponseID: "b"})
	got := EventsOf[event.Delivery](&r)
	if len(got) != 2 || got[0].ResponseID != "a" || got[1].ResponseID != "b" {
		t.Fatalf("deliveries %+v, want a then b", got)
	}
	if n := EventsOf[event.Forwarded](&r); len(n) != 0 {
		t.Fatalf("found %d events of a type never emitted", len(n))
	}
}
