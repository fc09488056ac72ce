package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/iostreams"
)

// bidi is a model's answer holding format controls a sender chose: the
// emulator echoes the prompt, so they come back in output_text.
const bidi = "a\u202eb\u2066c"

// ttyCLI runs sail with stdout on a "terminal" and returns the exit code
// and stdout.
func ttyCLI(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	s, _, out, errOut := iostreams.Test()
	s.StdoutTTY = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Execute(ctx, NewFactory(s, func(k string) string { return env[k] }), args)
	if code != 0 {
		t.Logf("sail %v: stderr %s", args, errOut)
	}
	return code, out.String()
}

// checkDataLines fails unless every line of out is JSON, no bidi control
// is raw in it, and field of the first line decodes to want.
func checkDataLines(t *testing.T, out, field, want string) {
	t.Helper()
	if strings.ContainsAny(out, "\u202e\u2066") {
		t.Errorf("raw bidi controls on the terminal: %q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || !strings.HasSuffix(first[field].(string), want) {
		t.Fatalf("first line %q: %v, want %s ending in %q", lines[0], err, field, want)
	}
}

// Result lines are data: on a terminal they pass through the one
// sanitiser and still decode to the same answer, for `sail run -f` and
// for `sail batches results`.
func TestResultLinesSanitisedOnATerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	line, _ := json.Marshal(map[string]string{"custom_id": "q1", "input": bidi})
	if err := os.WriteFile(in, append(line, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": dir, "XDG_STATE_HOME": dir}
	code, out := ttyCLI(t, env, "run", "--webhook", "--emulator", "--no-history", "-f", in)
	if code != 0 {
		t.Fatalf("run -f: exit %d, stdout %q", code, out)
	}
	checkDataLines(t, out, "output_text", bidi)

	emu := startEmulator(t, emulator.Options{})
	env["SAIL_API_URL"], env["SAIL_API_KEY"] = emu.BaseURL, "k"
	code, out = ttyCLI(t, env, "batches", "create", "-f", in)
	id := strings.TrimSpace(out)
	if code != 0 || id == "" {
		t.Fatalf("batches create: exit %d, stdout %q", code, out)
	}
	if code, _ = ttyCLI(t, env, "batches", "wait", id); code != 0 {
		t.Fatalf("batches wait: exit %d", code)
	}
	code, out = ttyCLI(t, env, "batches", "results", id)
	if code != 0 {
		t.Fatalf("batches results: exit %d, stdout %q", code, out)
	}
	checkDataLines(t, out, "output_text", bidi)
	if !bytes.Contains([]byte(out), []byte(`"custom_id":"q1"`)) {
		t.Errorf("results lack q1: %q", out)
	}
}
