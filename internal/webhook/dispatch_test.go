package webhook

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Tasks run in the order they were pushed, whichever handler drains them,
// also when a burst is longer than one handler's share and the rest is
// handed to a goroutine.
func TestDispatcherKeepsOrderAcrossDrains(t *testing.T) {
	var d dispatcher
	var mu sync.Mutex
	var got []int
	const n = 5*drainBatch + 3
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		d.push(func() {
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
		})
		go func() {
			defer wg.Done()
			d.drain()
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.wait(ctx); err != nil {
		t.Fatalf("wait: %v (%d of %d tasks ran)", err, len(got), n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("%d of %d tasks ran", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("task %d ran in position %d: %v", v, i, got[max(0, i-3):min(len(got), i+3)])
		}
	}
}

// A handler drains at most drainBatch tasks for others; the rest runs on a
// goroutine of its own while the handler returns.
func TestDrainHandsOffABurst(t *testing.T) {
	var d dispatcher
	release := make(chan struct{})
	ran := make(chan int, 3*drainBatch)
	for i := range 3 * drainBatch {
		d.push(func() {
			if i == drainBatch { // the first task beyond the handler's share
				<-release
			}
			ran <- i
		})
	}
	returned := make(chan struct{})
	go func() { d.drain(); close(returned) }()
	select { // returns although a task behind its share is blocked
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("drain kept running the tasks of others")
	}
	if len(ran) != drainBatch {
		t.Fatalf("the handler ran %d tasks, want %d", len(ran), drainBatch)
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.wait(ctx); err != nil || len(ran) != 3*drainBatch {
		t.Fatalf("wait: %v, %d tasks ran", err, len(ran))
	}
}
