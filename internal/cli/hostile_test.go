package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/testutil"
)

// rawTerminalBytes matches what must never reach a terminal unescaped.
var rawTerminalBytes = regexp.MustCompile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff]")

// TestListenPlainLinesWithHostileSenders runs `sail listen --token auto`
// with stdout on a terminal (plain lines) and sends it, over HTTP, a body
// full of escapes with a wrong token and then the token in every summary
// field with the right one. The generated token is printed once on
// stderr; the lines show escapes escaped and never the token.
func TestListenPlainLinesWithHostileSenders(t *testing.T) {
	t.Parallel()
	out, errOut := &testutil.LockedBuffer{}, &testutil.LockedBuffer{}
	ios := &iostreams.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, StdoutTTY: true, ColorDisabled: true,
		Size: func() (int, int, bool) { return 0, 0, false }}
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_STATE_HOME": home + "/state"}
	f := NewFactory(ios, func(k string) string { return env[k] })
	urlFile := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, f, []string{"listen", "--addr", "127.0.0.1:0", "--path", "/sail", "--token", "auto", "--no-tui",
			"--url-file", urlFile, "--max-deliveries", "1"})
	}()
	var hook string
	waitFor(t, "the webhook URL", func() bool {
		b, err := os.ReadFile(urlFile)
		hook = strings.TrimSpace(string(b))
		return err == nil && hook != ""
	})
	m := regexp.MustCompile(`shown only now\): (\S+)\n`).FindStringSubmatch(errOut.String())
	if m == nil || len(m[1]) < 43 {
		t.Fatalf("no generated token of 256 bits on stderr: %q", errOut.String())
	}
	token := m[1]
	post := func(auth, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(body))
		req.Header.Set("Authorization", auth)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("answered %d, want %d", res.StatusCode, want)
		}
	}
	post("Bearer wrong-token-wrong-token", `{"id":"x\u001b]52;c;UFdORUQ=\u0007\u001b[2J\u202e","status":"done\u009b2J","model":"m\u2066",`+
		`"output":[{"type":"message","content":[{"type":"output_text","text":"\u001b]0;title\u0007 \u202e"}]}]}`, http.StatusUnauthorized)
	post("Bearer "+token, `{"id":"resp_`+token+`","object":"response","status":"`+token+`","model":"`+token+`",`+
		`"output":[{"type":"message","content":[{"type":"output_text","text":"`+token+` said"}]}]}`, http.StatusOK)
	select {
	case code := <-done:
		if code != exitcode.OK {
			t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("listen did not end after --max-deliveries")
	}
	lines := out.String()
	if raw := rawTerminalBytes.FindString(lines); raw != "" {
		t.Errorf("raw %q reached the terminal:\n%q", raw, lines)
	}
	for _, want := range []string{`x\u001b]52;c;UFdORUQ=\u0007\u001b[2J\u202e`, `done\u009b2J`, `m\u2066`, "resp_•••", `"••• said"`} {
		if !strings.Contains(lines, want) {
			t.Errorf("plain lines lack %q:\n%s", want, lines)
		}
	}
	if strings.Contains(lines, token) || strings.Count(errOut.String(), token) != 1 {
		t.Errorf("token shown more than once\nstdout:\n%s\nstderr:\n%s", lines, errOut.String())
	}
}
