package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/iostreams"
)

// runWith runs sail in-process with the given terminal flags.
func runWith(t *testing.T, stdoutTTY, stderrTTY bool, args ...string) (int, string, string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	io.StdoutTTY, io.StderrTTY = stdoutTTY, stderrTTY
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_STATE_HOME": home + "/state"}
	f := NewFactory(io, func(k string) string { return env[k] })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Execute(ctx, f, args)
	return code, out.String(), errOut.String()
}

const twoPlusTwo = "What is 2+2? Reply with just the number."

func TestRunNeverStartsTUIWithoutTTY(t *testing.T) {
	t.Parallel()
	code, out, errOut := runWith(t, false, false, "run", "--webhook", "--emulator", twoPlusTwo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Fatalf("stderr must stay empty without a terminal, got %q", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last, err := event.Decode([]byte(lines[len(lines)-1]))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := last.(*event.Completed); !ok || c.OutputText != "4" {
		t.Fatalf("last event %#v", last)
	}
}

func TestRunJSONOnTerminalStartsNoTUI(t *testing.T) {
	t.Parallel()
	code, out, errOut := runWith(t, true, true, "run", "--webhook", "--emulator", "--json", twoPlusTwo)
	if code != 0 || strings.Contains(errOut, "\x1b") || strings.Contains(errOut, "TTY") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, `"type":"completed"`) {
		t.Fatalf("stdout %q", out)
	}
}

func TestRunNoTUIPlainLinesAndAnswer(t *testing.T) {
	t.Parallel()
	code, out, errOut := runWith(t, true, true, "run", "--webhook", "--emulator", "--no-tui", twoPlusTwo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != "4\n" {
		t.Fatalf("stdout on a terminal is the answer, got %q", out)
	}
	for _, want := range []string{"webhook", "token ok", "payload matches GET", "completed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "\x1b") {
		t.Errorf("escape sequences with colour disabled:\n%q", errOut)
	}
}

func TestRunOutputPayloadRedacted(t *testing.T) {
	t.Parallel()
	code, out, errOut := runWith(t, false, false, "run", "--webhook", "--emulator", "--output", "payload", "--token", "my-visible-token-123", twoPlusTwo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "my-visible-token-123") || !strings.Contains(out, `"webhook_token":"•••"`) || !strings.Contains(out, `"object":"response"`) {
		t.Fatalf("payload output %s", out)
	}
}

func TestParseMetadata(t *testing.T) {
	t.Parallel()
	md, err := ParseMetadata([]string{"a=1", "b=x=y", "empty="}, 2)
	if err != nil || md["a"] != "1" || md["b"] != "x=y" || md["empty"] != "" {
		t.Fatalf("%v %v", md, err)
	}
	long := strings.Repeat("k", 65)
	for _, bad := range [][]string{{"novalue"}, {"=v"}, {long + "=v"}, {"k=" + strings.Repeat("v", 513)}, {"webhook_token=x"}, {"a=1", "a=2"}} {
		if _, err := ParseMetadata(bad, 0); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	var many []string
	for i := 0; i < 15; i++ {
		many = append(many, strings.Repeat("k", i+1)+"=v")
	}
	if _, err := ParseMetadata(many, 2); err == nil {
		t.Error("15 keys plus 2 reserved must exceed 16")
	}
	if _, err := ParseMetadata(many, 1); err != nil {
		t.Errorf("15+1 keys refused: %v", err)
	}
}

func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"a=1", "=", "completion_webhook=x", "k=v=w", "\x00=\xff"} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, pair string, reserve int) {
		if reserve < 0 || reserve > 16 {
			return
		}
		md, err := ParseMetadata([]string{pair}, reserve)
		if err != nil {
			return
		}
		if len(md) != 1 || len(md)+reserve > 16 {
			t.Fatalf("accepted %q → %v", pair, md)
		}
		for k, v := range md {
			if k == "" || len(k) > 64 || len(v) > 512 || k == "completion_webhook" || k == "webhook_token" {
				t.Fatalf("accepted bad pair %q → %q=%q", pair, k, v)
			}
		}
	})
}
