// Package doctor checks that everything `sail run --webhook` needs over the
// real API is in place, and says how to fix what is not. Every check is
// bounded by a deadline so the command never hangs, offline included.
package doctor

import (
	"context"
	"sync"
	"time"
)

// Check is one line of the report.
type Check struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix,omitempty"`
	Required bool   `json:"required"` // needed for sail run --webhook over the real API
	Skipped  bool   `json:"skipped,omitempty"`
}

// Probe runs one check within ctx.
type Probe struct {
	Name     string
	Required bool
	Run      func(ctx context.Context) Check
}

// Run runs every probe concurrently, each bounded by timeout, and returns
// the checks in the probes' order.
func Run(ctx context.Context, timeout time.Duration, probes []Probe) []Check {
	out := make([]Check, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			done := make(chan Check, 1)
			go func() { done <- p.Run(pctx) }()
			var c Check
			select {
			case c = <-done:
			case <-pctx.Done():
				// A probe that ignores its context still cannot hold the
				// report hostage.
				c = Check{Detail: "no answer within " + timeout.String(), Fix: "check your network"}
			}
			c.Name, c.Required = p.Name, p.Required
			out[i] = c
		}()
	}
	wg.Wait()
	return out
}

// Healthy reports whether every required check passed.
func Healthy(checks []Check) bool {
	for _, c := range checks {
		if c.Required && !c.OK {
			return false
		}
	}
	return true
}
