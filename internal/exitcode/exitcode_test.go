package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type coded struct{ code int }

func (c coded) Error() string { return "coded" }
func (c coded) ExitCode() int { return c.code }

func TestOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", errors.New("x"), Error},
		{"coded", coded{Tunnel}, Tunnel},
		{"wrapped coded", fmt.Errorf("open: %w", coded{Config}), Config},
		{"Err", New(Verify, "token %s", "mismatch"), Verify},
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), Timeout},
		{"canceled", context.Canceled, Interrupted},
		{"coded wins over deadline", WithHint(ResponseFailed, context.DeadlineExceeded, "h"), ResponseFailed},
		{"silent keeps code", Silent{New(Usage, "bad")}, Usage},
	}
	for _, c := range cases {
		if got := Of(c.err); got != c.want {
			t.Errorf("%s: Of = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestHint(t *testing.T) {
	err := fmt.Errorf("outer: %w", WithHint(Config, errors.New("no key"), "set SAIL_API_KEY"))
	if got := Hint(err); got != "set SAIL_API_KEY" {
		t.Fatalf("Hint = %q", got)
	}
	if Hint(errors.New("x")) != "" {
		t.Fatal("hint from plain error")
	}
	if !IsSilent(fmt.Errorf("w: %w", Silent{errors.New("x")})) || IsSilent(errors.New("x")) {
		t.Fatal("IsSilent wrong")
	}
}
