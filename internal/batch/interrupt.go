package batch

import (
	"context"
	"os"
)

// onSecondInterrupt calls abort when a second SIGINT or SIGTERM arrives;
// the first is the caller's context. It returns the function that stops
// watching.
func onSecondInterrupt(interrupts func() (<-chan os.Signal, func()), abort context.CancelFunc) func() {
	if interrupts == nil {
		return func() {}
	}
	sigs, stop := interrupts()
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
