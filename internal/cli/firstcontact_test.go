package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/iostreams"
)

// execWith runs sail in-process on streams the test set up, returning the
// exit code.
func execWith(t *testing.T, f *Factory, args ...string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Execute(ctx, f, args)
}

func terminalFactory(t *testing.T, env map[string]string) (*Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	io.StdoutTTY, io.StderrTTY = true, true
	home := t.TempDir()
	full := map[string]string{"HOME": home, "XDG_STATE_HOME": home + "/state"}
	for k, v := range env {
		full[k] = v
	}
	getenv := func(k string) string { return full[k] }
	io.ColorDisabled = iostreams.NoColor(getenv)
	io.NoCursor = iostreams.NoCursor(getenv, "linux")
	return NewFactory(io, getenv), out, errOut
}

// A dumb terminal cannot draw the full-screen view: it gets the plain lines,
// and never the alternate screen that would leave it hanging.
func TestRunOnDumbTerminalGetsPlainLines(t *testing.T) {
	t.Parallel()
	f, out, errOut := terminalFactory(t, map[string]string{"TERM": "dumb"})
	// Keys that would end the view at once, should one start.
	f.TUIInput = strings.NewReader("q")
	code := execWith(t, f, "run", "--webhook", "--emulator", twoPlusTwo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut.String(), "\x1b[?1049") || strings.Contains(errOut.String(), "\x1b[") {
		t.Fatalf("escape sequences on a dumb terminal:\n%q", errOut)
	}
	for _, want := range []string{"● webhook", "● created", "✓ delivery", "✓ verified", "✓ completed"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if out.String() != "4\n" {
		t.Errorf("stdout %q, want the answer", out)
	}
}

// After the interactive view closes, the run stays in the scrollback as a
// few plain lines: what was created, each delivery, the comparison, the
// result and the exit code.
func TestRunLeavesPlainLinesAfterTUI(t *testing.T) {
	t.Parallel()
	f, out, errOut := terminalFactory(t, map[string]string{"TERM": "xterm-256color", "NO_COLOR": "1"})
	pr, pw := io.Pipe() // no keys: the view closes itself (--exit-on-complete)
	t.Cleanup(func() { pw.Close() })
	f.TUIInput = pr
	code := execWith(t, f, "run", "--webhook", "--emulator", "--exit-on-complete", "--emulator-duplicate-webhook", twoPlusTwo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	s := errOut.String()
	alt := strings.LastIndex(s, "\x1b[?1049l")
	if alt < 0 {
		t.Fatalf("the view never ran (no alternate screen left):\n%q", s)
	}
	after := s[alt:]
	for _, want := range []string{"● created    resp_", "✓ delivery   #1 · answered 200 · token ok", "✓ verified   payload matches GET", "✓ completed  resp_", "exit 0\n"} {
		if !strings.Contains(after, want) {
			t.Errorf("after the view, stderr lacks %q:\n%s", want, after)
		}
	}
	if out.String() != "4\n" {
		t.Errorf("stdout %q", out)
	}
}

// tamperGet changes the text of GET /v1/responses/{id} once the response is
// finished, so the webhook (from the emulator) and GET disagree.
type tamperGet struct{ base http.RoundTripper }

func (t tamperGet) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/responses/resp_") {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b = bytes.Replace(b, []byte(`"text":"4"`), []byte(`"text":"5"`), 1)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// When the webhook's payload differs from GET, stdout never carries the
// unverified webhook text: it gets GET's answer, and the exit code is 3.
func TestRunPayloadNotGetPrintsGetsAnswer(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"text", "events"} {
		t.Run(mode, func(t *testing.T) {
			s, _, out, errOut := iostreams.Test()
			home := t.TempDir()
			f := NewFactory(s, func(k string) string { return map[string]string{"HOME": home, "XDG_STATE_HOME": home}[k] })
			f.HTTPClient = &http.Client{Transport: tamperGet{http.DefaultTransport}}
			code := execWith(t, f, "run", "--webhook", "--emulator", "--output", mode, twoPlusTwo)
			if code != 3 {
				t.Fatalf("exit %d, want 3: %s", code, errOut)
			}
			switch mode {
			case "text":
				if out.String() != "5\n" {
					t.Fatalf("stdout %q, want GET's answer", out)
				}
			case "events":
				var verified *event.Verified
				for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
					e, err := event.Decode([]byte(line))
					if err != nil {
						t.Fatal(err)
					}
					switch e := e.(type) {
					case *event.Completed:
						if e.OutputText != "5" {
							t.Errorf("completed carries %q, want GET's answer", e.OutputText)
						}
					case *event.Verified:
						verified = e
					}
				}
				if verified == nil || verified.Matches || len(verified.Diffs) != 1 ||
					verified.Diffs[0] != (event.Difference{Path: "output[0].content[0].text", Webhook: `"4"`, Get: `"5"`}) {
					t.Fatalf("verified %+v", verified)
				}
			}
		})
	}
}

func TestListenOnDumbTerminalGetsPlainLines(t *testing.T) {
	t.Parallel()
	f, out, errOut := terminalFactory(t, map[string]string{"TERM": "dumb"})
	f.TUIInput = strings.NewReader("q")
	if code := execWith(t, f, "listen", "--addr", "127.0.0.1:0", "--no-history", "--timeout", "200ms"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut.String()+out.String(), "\x1b[") {
		t.Fatalf("escape sequences on a dumb terminal:\nstdout %q\nstderr %q", out, errOut)
	}
	if !strings.Contains(out.String(), "Listening on http://127.0.0.1:") {
		t.Fatalf("no plain listen lines:\n%s", out)
	}
}
