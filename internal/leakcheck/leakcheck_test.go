package leakcheck

import (
	"strings"
	"testing"
	"time"
)

// TestLeakHelperSeesALeak shows the helper can fail: a goroutine blocked
// on a channel is reported, with its stack, until it is released.
func TestLeakHelperSeesALeak(t *testing.T) {
	before := Snapshot()
	release := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		<-release
	}()
	leaked := Since(before, 50*time.Millisecond)
	if len(leaked) != 1 || !strings.Contains(leaked[0], "TestLeakHelperSeesALeak") {
		t.Fatalf("a blocked goroutine must be reported with its stack, got %d: %q", len(leaked), leaked)
	}
	close(release)
	<-exited
	if leaked := Since(before, 5*time.Second); len(leaked) != 0 {
		t.Fatalf("an exited goroutine is still reported: %q", leaked)
	}
}
