package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
)

// runCLI executes sail in-process with the given environment and returns
// the exit code and both streams.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["HOME"]; !ok {
		env["HOME"] = t.TempDir()
	}
	f := NewFactory(io, func(k string) string { return env[k] })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Execute(ctx, f, args)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "sail ") {
		t.Fatalf("code %d out %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "version", "--json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["version"] == "" || v["commit"] == "" {
		t.Fatalf("code %d out %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "sail ") {
		t.Fatalf("--version: code %d out %q", code, out)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"nope"},
		{"version", "--bogus"},
		{"version", "extra-arg"},
	} {
		code, _, errOut := runCLI(t, nil, args...)
		if code != exitcode.Usage {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errOut)
		}
		if !strings.Contains(errOut, "Error:") || !strings.Contains(errOut, "--help") {
			t.Errorf("%v: stderr lacks error and hint: %q", args, errOut)
		}
	}
}

func TestHelpExitCodes(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, nil, "help", "exit-codes")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"124", "130", "webhook verification failed", "NGROK_AUTHTOKEN"} {
		if !strings.Contains(out, want) {
			t.Errorf("exit-codes help lacks %q", want)
		}
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := runCLI(t, nil, "completion", sh)
		if code != 0 || !strings.Contains(out, "sail") {
			t.Errorf("%s: exit %d, %d bytes, stderr %q", sh, code, len(out), errOut)
		}
	}
}

func TestConfigShowMasksSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SAIL_API_KEY": "sk-test-supersecretvalue1234", "NGROK_AUTHTOKEN": "2abcdefghijklmnopqrstuvwxyz", "SAIL_MODEL": "zai-org/GLM-5"}
	code, out, _ := runCLI(t, env, "config", "show")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(out, "supersecret") || strings.Contains(out, "abcdefghij") {
		t.Fatalf("secret printed:\n%s", out)
	}
	if !strings.Contains(out, "zai-org/GLM-5") || !strings.Contains(out, "env") || !strings.Contains(out, "•••1234") {
		t.Fatalf("config show:\n%s", out)
	}
	code, out, _ = runCLI(t, env, "config", "show", "--json")
	var m map[string]map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("json: %d %q", code, out)
	}
	if m["model"]["source"] != "env" || m["api_url"]["source"] != "default" || bytes.Contains([]byte(out), []byte("supersecret")) {
		t.Fatalf("json config: %v", m)
	}
}
