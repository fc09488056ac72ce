package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/event"
)

// attemptNotices reports the embedded emulator's failed delivery attempts
// as notices. An attempt that fails before reaching the receiver (a dropped
// connection) is otherwise invisible: the run would show one delivery and
// no sign that Sail had to retry.
func attemptNotices(sink event.Sink, backoff time.Duration, maxAttempts int) func(emulator.Attempt) {
	if maxAttempts <= 0 {
		maxAttempts = emulator.DefaultMaxAttempts
	}
	return func(a emulator.Attempt) {
		if a.OK() || a.Duplicate {
			return
		}
		why := a.Err
		if why == "" {
			why = fmt.Sprintf("HTTP %d", a.StatusCode)
		}
		next := "the emulator gives up"
		if a.Number < maxAttempts {
			next = fmt.Sprintf("the emulator retries in %s (at most %d attempts)", backoff<<(a.Number-1), maxAttempts)
		}
		sink.Emit(event.Notice{Level: "warn", Message: fmt.Sprintf(
			"sender: delivery attempt %d failed (%s); %s", a.Number, why, next)})
	}
}

// onSecondInterrupt calls abort when a second SIGINT or SIGTERM arrives;
// the first is the caller's context. It returns the function that stops
// watching.
func onSecondInterrupt(f *Factory, abort context.CancelFunc) func() {
	if f.Interrupts == nil {
		return func() {}
	}
	sigs, stop := f.Interrupts()
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-sigs:
				if n++; n >= 2 {
					abort()
					// A third Ctrl-C, should shutdown ever hang, kills
					// the process as the default handler does.
					stop()
					return
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		stop()
	}
}
