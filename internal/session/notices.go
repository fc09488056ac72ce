package session

import (
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
