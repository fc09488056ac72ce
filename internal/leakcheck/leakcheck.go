// Package leakcheck finds goroutines a test left running. It compares
// goroutine ids, which the runtime never reuses, so a goroutine left over
// from an earlier test is never blamed on this one, and nothing depends on
// the total count.
package leakcheck

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// Snapshot returns the stack of every live goroutine by id.
func Snapshot() map[uint64]string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := make(map[uint64]string)
	for _, g := range strings.Split(string(buf), "\n\n") {
		var id uint64
		if _, err := fmt.Sscanf(g, "goroutine %d ", &id); err == nil {
			all[id] = g
		}
	}
	return all
}

// processWide are goroutines a library starts once per process and keeps
// on purpose; they are not leaks of the code under test.
var processWide = []string{
	"os/signal.signal_recv", // signal.Notify's reader
}

// Since waits up to wait for every goroutine started after before
// was taken to exit, and returns the stacks of those still running.
func Since(before map[uint64]string, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		var leaked []string
	next:
		for id, stack := range Snapshot() {
			if _, old := before[id]; old {
				continue
			}
			for _, p := range processWide {
				if strings.Contains(stack, p) {
					continue next
				}
			}
			leaked = append(leaked, stack)
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			sort.Strings(leaked)
			return leaked
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Check fails t if goroutines started after before are still running
// 5 s later (they exit asynchronously once their connections close), and
// prints their stacks.
func Check(t testing.TB, before map[uint64]string) {
	t.Helper()
	if leaked := Since(before, 5*time.Second); len(leaked) > 0 {
		t.Errorf("%d goroutine(s) still running after everything was closed:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
}
