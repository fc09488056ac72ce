package sail

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Wait defaults.
const (
	DefaultWaitInterval    = 500 * time.Millisecond
	DefaultWaitMaxInterval = 5 * time.Second
	DefaultWaitMaxErrors   = 5
)

// WaitOptions tune Wait. The zero value is usable.
type WaitOptions struct {
	// Interval is the first gap between polls (default 500ms); each gap is
	// 1.5× the previous one, up to MaxInterval (default 5s).
	Interval, MaxInterval time.Duration
	// OnStatus is called with the first response seen and again whenever
	// its status changes, from Wait's goroutine.
	OnStatus func(*Response)
	// OnRetry, when set, is told about each transient failure Wait rides
	// out (429, 408, 5xx, network) and how long it waits before the next
	// poll, so a front end can show a notice.
	OnRetry func(err error, delay time.Duration)
	// MaxErrors is how many transient failures in a row Wait tolerates
	// before giving up (default 5). 429 answers do not count: the server
	// asked to slow down, and Wait does, for at least Retry-After.
	MaxErrors int
}

// Wait polls GET /v1/responses/{id} until the response is terminal and
// returns it (whatever the final status: see Response.Failure). Polls are
// spaced by WaitOptions' backoff, and by at least Retry-After after a 429
// or 5xx. Wait does its own retrying: each poll is a single attempt.
//
// When ctx ends, Wait returns the last response seen (nil if none) with an
// error wrapping ctx.Err(), so exitcode.Of gives 124 for a deadline and 130
// for a cancellation. A non-transient error (404, 401, …) ends Wait at once.
func (c *Client) Wait(ctx context.Context, id string, o WaitOptions) (*Response, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	interval := o.Interval
	if interval <= 0 {
		interval = DefaultWaitInterval
	}
	maxInterval := o.MaxInterval
	if maxInterval <= 0 {
		maxInterval = DefaultWaitMaxInterval
	}
	if maxInterval < interval {
		maxInterval = interval
	}
	maxErrors := o.MaxErrors
	if maxErrors <= 0 {
		maxErrors = DefaultWaitMaxErrors
	}

	var last *Response
	lastStatus := ""
	failures := 0
	for {
		delay := interval
		r, err := c.get(ctx, id, 0)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return last, c.waitEnded(id, lastStatus, ctxErr)
			}
			retryAfter, counts, transient := classify(err)
			if !transient {
				return last, fmt.Errorf("waiting for response %s: %w", id, err)
			}
			if counts {
				failures++
				if failures > maxErrors {
					return last, fmt.Errorf("waiting for response %s: giving up after %d failed polls in a row: %w", id, failures, err)
				}
			}
			delay = max(delay, retryAfter)
			if o.OnRetry != nil {
				o.OnRetry(err, delay)
			}
		} else {
			failures = 0
			last = r
			if r.Status != lastStatus || lastStatus == "" {
				lastStatus = r.Status
				if o.OnStatus != nil {
					o.OnStatus(r)
				}
			}
			if r.Terminal() {
				return r, nil
			}
		}
		if err := c.sleep(ctx, delay); err != nil {
			return last, c.waitEnded(id, lastStatus, err)
		}
		interval = min(time.Duration(float64(interval)*1.5), maxInterval)
	}
}

func (c *Client) waitEnded(id, lastStatus string, ctxErr error) error {
	if lastStatus == "" {
		return fmt.Errorf("stopped waiting for response %s before any answer: %w", id, ctxErr)
	}
	return fmt.Errorf("stopped waiting for response %s (last status %s): %w", id, lastStatus, ctxErr)
}

// classify says whether a poll error is worth another poll, whether it
// counts towards MaxErrors, and the minimum wait the server asked for.
func classify(err error) (retryAfter time.Duration, counts, transient bool) {
	var api *APIError
	if errors.As(err, &api) {
		switch {
		case api.StatusCode == http.StatusTooManyRequests:
			return api.RetryAfter, false, true
		case api.Transient():
			return api.RetryAfter, true, true
		}
		return 0, false, false
	}
	var net *NetworkError
	if errors.As(err, &net) {
		return 0, true, true
	}
	return 0, false, false
}
