package emulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FaultKey is the reserved metadata key through which one request overrides
// the emulator's fault options. The key stays in the response's metadata as
// sent: it belongs to the caller.
const FaultKey = "sail_emulator"

// Terminal statuses an outcome may name.
const (
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusIncomplete = "incomplete"
	StatusCancelled  = "cancelled"
	StatusQueued     = "queued"
	StatusInProgress = "in_progress"
)

// faults is the effective fault configuration of one response: the
// emulator's Options, overridden by the request's FaultKey value.
type faults struct {
	outcome      string
	latency      time.Duration
	drop         bool
	duplicate    bool
	wrongToken   bool
	failAttempts int
	delay        time.Duration
}

func validOutcome(s string) bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusIncomplete, StatusCancelled:
		return true
	}
	return false
}

// parseFaults applies the FaultKey syntax to base:
//
//	item (";" item)*        items may be surrounded by spaces; empty items are ignored
//	outcome=completed|failed|incomplete|cancelled
//	drop_webhook[=true|false]
//	duplicate[=true|false]
//	wrong_token[=true|false]
//	fail_attempts=N         N ≥ 0
//	delay=DURATION          Go duration ("500ms", "2s"); "0" allowed
//	latency=DURATION
//
// An unknown item or a bad value is an error naming it.
func parseFaults(s string, base faults) (faults, error) {
	f := base
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, hasValue := strings.Cut(item, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		var err error
		switch name {
		case "outcome":
			if !validOutcome(value) {
				err = fmt.Errorf("outcome must be completed, failed, incomplete or cancelled, got %q", value)
			}
			f.outcome = value
		case "drop_webhook":
			f.drop, err = parseFlag(value, hasValue)
		case "duplicate":
			f.duplicate, err = parseFlag(value, hasValue)
		case "wrong_token":
			f.wrongToken, err = parseFlag(value, hasValue)
		case "fail_attempts":
			f.failAttempts, err = strconv.Atoi(value)
			if err == nil && f.failAttempts < 0 {
				err = fmt.Errorf("must not be negative")
			}
		case "delay":
			f.delay, err = parseDuration(value)
		case "latency":
			f.latency, err = parseDuration(value)
		default:
			return base, fmt.Errorf("unknown item %q (known: outcome, drop_webhook, duplicate, wrong_token, fail_attempts, delay, latency)", name)
		}
		if err != nil {
			return base, fmt.Errorf("item %q: %w", item, err)
		}
	}
	return f, nil
}

func parseFlag(value string, hasValue bool) (bool, error) {
	if !hasValue {
		return true, nil
	}
	switch value {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}

func parseDuration(value string) (time.Duration, error) {
	if value == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 500ms or 2s")
	}
	if d < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	// An hour bounds how long one response can hold a goroutine and a slot.
	if d > time.Hour {
		return 0, fmt.Errorf("must be at most 1h")
	}
	return d, nil
}
