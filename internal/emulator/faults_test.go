package emulator

import (
	"strings"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	base := faults{outcome: StatusCompleted, latency: time.Second, failAttempts: 1}
	cases := []struct {
		in   string
		want faults
	}{
		{"", base},
		{" ; ;", base},
		{"outcome=failed", faults{outcome: StatusFailed, latency: time.Second, failAttempts: 1}},
		{"outcome=cancelled;drop_webhook;duplicate;wrong_token;fail_attempts=2;delay=500ms;latency=0",
			faults{outcome: StatusCancelled, drop: true, duplicate: true, wrongToken: true, failAttempts: 2, delay: 500 * time.Millisecond}},
		{" outcome = incomplete ; duplicate=true ; wrong_token=false ", faults{outcome: StatusIncomplete, latency: time.Second, failAttempts: 1, duplicate: true}},
		{"fail_attempts=0;latency=2s", faults{outcome: StatusCompleted, latency: 2 * time.Second}},
		{"drop_webhook=1", faults{outcome: StatusCompleted, latency: time.Second, failAttempts: 1, drop: true}},
	}
	for _, c := range cases {
		got, err := parseFaults(c.in, base)
		if err != nil {
			t.Errorf("parseFaults(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("parseFaults(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseFaultsInvalid(t *testing.T) {
	cases := map[string]string{
		"outcome=done":        "outcome",
		"outcome":             "outcome",
		"drop":                "unknown item \"drop\"",
		"fail_attempts=-1":    "negative",
		"fail_attempts=x":     "fail_attempts",
		"delay=5":             "duration",
		"latency=-1s":         "negative",
		"latency=2h":          "at most 1h",
		"duplicate=maybe":     "true or false",
		"outcome=failed;nope": "unknown item \"nope\"",
	}
	for in, want := range cases {
		_, err := parseFaults(in, faults{outcome: StatusCompleted})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseFaults(%q) error = %v, want it to mention %q", in, err, want)
		}
	}
}
