package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/iostreams"
)

// listenPlain runs `sail listen` briefly with stdout on a "terminal" (plain
// lines, no TUI) and returns what it printed.
func listenPlain(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	io.StdoutTTY = true
	env["HOME"] = t.TempDir()
	f := NewFactory(io, func(k string) string { return env[k] })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{"listen", "--addr", "127.0.0.1:0", "--path", "/sail", "--no-history", "--timeout", "200ms"}, args...)
	if code := Execute(ctx, f, args); code != 0 {
		t.Fatalf("listen exited %d: %s", code, errOut)
	}
	return out.String()
}

// pasteLines returns the printed lines that start with prefix, trimmed.
func pasteLines(out, prefix string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, prefix) {
			got = append(got, l)
		}
	}
	return got
}

func TestListenReadyPrintsWhatToPaste(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-token-value"
	out := listenPlain(t, map[string]string{}, "--token", secret)
	if strings.Contains(out, secret) {
		t.Fatalf("the token was printed:\n%s", out)
	}
	creates := pasteLines(out, "sail responses create ")
	triggers := pasteLines(out, "sail trigger ")
	if len(creates) != 1 || len(triggers) != 1 {
		t.Fatalf("want one create and one trigger line:\n%s", out)
	}
	if !strings.Contains(out, "$SAIL_WEBHOOK_TOKEN: the value you gave --token") {
		t.Fatalf("the token variable is not explained:\n%s", out)
	}
	url := strings.Fields(strings.TrimPrefix(out, "Listening on "))[0]
	if !strings.HasSuffix(url, "/sail") || !strings.Contains(triggers[0], "--to "+url+` --token "$SAIL_WEBHOOK_TOKEN"`) ||
		!strings.Contains(creates[0], "--webhook-url "+url+` --webhook-token "$SAIL_WEBHOOK_TOKEN"`) {
		t.Fatalf("lines do not name this listener (%s):\n%s", url, out)
	}
	if strings.Contains(out, "anyone who has this URL") {
		t.Fatalf("a listener with a token warned it had none:\n%s", out)
	}
	// The lines are real commands: every flag in them exists.
	for _, line := range append(creates, triggers...) {
		args := strings.Fields(strings.ReplaceAll(line, `"`, ""))[1:]
		root := NewRootCmd(NewFactory(iostreams.System(func(string) string { return "" }), func(string) string { return "" }))
		cmd, rest, err := root.Find(args)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
}

func TestListenReadyTokenEnvAndNoToken(t *testing.T) {
	t.Parallel()
	out := listenPlain(t, map[string]string{"MY_HOOK_TOKEN": "another-secret-value"}, "--token-env", "MY_HOOK_TOKEN")
	if strings.Contains(out, "another-secret-value") || len(pasteLines(out, "sail trigger ")) != 1 ||
		!strings.Contains(pasteLines(out, "sail trigger ")[0], `--token "$MY_HOOK_TOKEN"`) || strings.Contains(out, "SAIL_WEBHOOK_TOKEN") {
		t.Fatalf("--token-env: want the user's own variable in the lines:\n%s", out)
	}

	out = listenPlain(t, map[string]string{})
	if !strings.Contains(out, "! No token: anyone who has this URL can post to it.") || !strings.Contains(out, "--token auto") {
		t.Fatalf("no token, no plain warning:\n%s", out)
	}
	tr := pasteLines(out, "sail trigger ")
	if len(tr) != 1 || strings.Contains(tr[0], "--token") {
		t.Fatalf("without a token the trigger line needs none:\n%s", out)
	}
}
