package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sail"
)

func parseRun(t *testing.T, env map[string]string, args ...string) parsed[RunOptions] {
	t.Helper()
	return parseLine(t, env, NewCmdRun, append([]string{"run"}, args...)...)
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunFlagsDefaults(t *testing.T) {
	t.Parallel()
	p := parseRun(t, nil, "--webhook", "--emulator", "What", "is", "2+2")
	o := p.ok(t)
	if o.Prompt != "What is 2+2" || o.Request.Input != "What is 2+2" || o.Request.Messages != nil {
		t.Errorf("prompt %q, request input %q messages %v", o.Prompt, o.Request.Input, o.Request.Messages)
	}
	if !o.Webhook || !o.Emu.Enabled || o.Token != "auto" || o.Batch.enabled() {
		t.Errorf("webhook %v emulator %v token %q batch %v", o.Webhook, o.Emu.Enabled, o.Token, o.Batch.enabled())
	}
	if o.Timeout != 10*time.Minute || o.PollInterval != 5*time.Second || o.WebhookGrace != time.Minute || o.Settle != 200*time.Millisecond {
		t.Errorf("timeout %s poll %s grace %s settle %s", o.Timeout, o.PollInterval, o.WebhookGrace, o.Settle)
	}
	if o.Request.Endpoint != sail.Responses || o.Request.Model != "moonshotai/Kimi-K2.5" || o.Model != o.Request.Model {
		t.Errorf("endpoint %q model %q", o.Request.Endpoint, o.Request.Model)
	}
	if o.Request.Temperature != nil || o.Request.TopP != nil || len(o.Request.Metadata) != 0 || o.CancelOnInterrupt {
		t.Errorf("unset flags reached the request: %+v", o.Request)
	}
	if o.IO != p.f.IO || o.HTTPClient != p.f.HTTPClient || o.Now == nil || o.Interrupts == nil || o.Config == nil || o.Env == nil {
		t.Error("the options do not hold the factory's dependencies")
	}
	if o.Tunnel.Addr != "127.0.0.1:0" || o.Store.Keep != 1000 || o.Batch.Concurrency != 8 {
		t.Errorf("addr %q keep %d concurrency %d", o.Tunnel.Addr, o.Store.Keep, o.Batch.Concurrency)
	}
}

func TestRunFlagsMakeTheRequest(t *testing.T) {
	t.Parallel()
	schema := writeTemp(t, "s.json", `{"type":"object","properties":{"answer":{"type":"string"}}}`)
	o := parseRun(t, nil, "--webhook", "-m", "zai-org/GLM-5", "-e", "messages", "--instructions", "be brief",
		"--max-output-tokens", "64", "--metadata", "team=evals", "--metadata", "run=7", "--completion-window", "flex",
		"--temperature", "0.2", "--top-p", "0.9", "--reasoning-effort", "high", "--json-schema", schema, "--user", "u-1",
		"--token", "a-long-enough-token-1", "--cancel-on-interrupt", "--json", "--no-tui", "--url-file", "u.txt", "hi").ok(t)
	r := o.Request
	if r.Endpoint != sail.Messages || r.Model != "zai-org/GLM-5" || r.Instructions != "be brief" || r.MaxOutputTokens != 64 {
		t.Errorf("request %+v", r)
	}
	if r.Metadata["team"] != "evals" || r.Metadata["run"] != "7" || len(r.Metadata) != 2 || r.CompletionWindow != "flex" {
		t.Errorf("metadata %v window %q", r.Metadata, r.CompletionWindow)
	}
	if r.Temperature == nil || *r.Temperature != 0.2 || r.TopP == nil || *r.TopP != 0.9 || r.ReasoningEffort != "high" || r.User != "u-1" || r.JSONSchema == nil {
		t.Errorf("generation parameters %+v", r)
	}
	if o.Token != "a-long-enough-token-1" || !o.CancelOnInterrupt || !o.JSON || !o.NoTUI || o.URLFile != "u.txt" {
		t.Errorf("token %q cancel %v json %v no-tui %v url-file %q", o.Token, o.CancelOnInterrupt, o.JSON, o.NoTUI, o.URLFile)
	}
}

func TestRunFlagsPromptSources(t *testing.T) {
	t.Parallel()
	file := writeTemp(t, "p.txt", "from a file\n")
	if o := parseRun(t, nil, "@"+file).ok(t); o.Prompt != "from a file" {
		t.Errorf("@FILE: %q", o.Prompt)
	}
	msgs := writeTemp(t, "m.json", `[{"role":"user","content":"hi"}]`)
	if o := parseRun(t, nil, "@"+msgs).ok(t); o.Request.Input != "" || len(o.Request.Messages) != 1 {
		t.Errorf("messages prompt: input %q messages %v", o.Request.Input, o.Request.Messages)
	}
}

func TestRunFlagsConfigUnderFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SAIL_MODEL": "env-model", "SAIL_TIMEOUT": "90s", "SAIL_API_URL": "http://127.0.0.1:1/v1", "NGROK_AUTHTOKEN": "tok"}
	o := parseRun(t, env, "hi").ok(t)
	if o.Model != "env-model" || o.Timeout != 90*time.Second || o.APIURL != "http://127.0.0.1:1/v1" || o.Tunnel.Authtoken != "tok" {
		t.Errorf("from the environment: model %q timeout %s api %q", o.Model, o.Timeout, o.APIURL)
	}
	o = parseRun(t, env, "-m", "flag-model", "--timeout", "5s", "--api-url", "http://x/v1", "hi").ok(t)
	if o.Model != "flag-model" || o.Timeout != 5*time.Second || o.APIURL != "http://x/v1" {
		t.Errorf("flags must win: model %q timeout %s api %q", o.Model, o.Timeout, o.APIURL)
	}
}

func TestRunFlagsBatch(t *testing.T) {
	t.Parallel()
	o := parseRun(t, nil, "--webhook", "-f", "items.jsonl", "-o", "out.jsonl", "--resume", "out.jsonl", "--concurrency", "3",
		"--item-timeout", "30s", "--strict", "--skip-invalid").ok(t)
	b := o.Batch
	if !b.enabled() || b.File != "items.jsonl" || b.Out != "out.jsonl" || b.Resume != "out.jsonl" || b.Concurrency != 3 ||
		b.ItemTimeout != 30*time.Second || !b.Strict || !b.SkipInvalid {
		t.Errorf("batch %+v", b)
	}
	if b.Sail.Enabled {
		t.Errorf("sail batch without --sail-batch: %+v", b.Sail)
	}
	s := parseRun(t, nil, "--webhook", "-f", "items.jsonl", "--sail-batch", "--sail-batch-label", "nightly_1",
		"--sail-batch-max-requests", "10", "--sail-batch-max-bytes", "1000").ok(t).Batch.Sail
	if !s.Enabled || s.Label != "nightly_1" || s.MaxRequests != 10 || s.MaxBytes != 1000 {
		t.Errorf("sail batch %+v", s)
	}
	if o.Prompt != "" || o.Request.Input != "" {
		t.Errorf("a batch has no prompt of its own: %q", o.Prompt)
	}
}

// Every conflict and usage error of run is refused while parsing, with
// its exit code and message, before anything starts.
func TestRunFlagsRefused(t *testing.T) {
	t.Parallel()
	schemaDir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no prompt", nil, nil, exitcode.Usage, "a prompt is required"},
		{"prompt and -f", nil, []string{"-f", "x.jsonl", "hi"}, exitcode.Usage, "not both"},
		{"- and more words", nil, []string{"-", "more"}, exitcode.Usage, "reads the whole prompt"},
		{"empty prompt", nil, []string{" "}, exitcode.Usage, "the prompt is empty"},
		{"missing @FILE", nil, []string{"@" + filepath.Join(schemaDir, "nope.txt")}, exitcode.Usage, "read prompt"},
		{"unknown flag", nil, []string{"--bogus", "hi"}, exitcode.Usage, "unknown flag: --bogus"},
		{"bad flag value", nil, []string{"--concurrency", "many", "hi"}, exitcode.Usage, "invalid argument"},
		{"timeout from config", map[string]string{"SAIL_TIMEOUT": "soon"}, []string{"hi"}, exitcode.Config, `timeout "soon" (from env`},
		{"unknown endpoint", nil, []string{"-e", "embeddings", "hi"}, exitcode.Usage, `unknown endpoint "embeddings"`},
		{"--json with --output text", nil, []string{"--json", "--output", "text", "hi"}, exitcode.Usage, "--json and --output text ask for different things"},
		{"unknown --output", nil, []string{"--output", "xml", "hi"}, exitcode.Usage, `unknown --output "xml"`},
		{"empty token", nil, []string{"--token", "", "hi"}, exitcode.Usage, "--token is empty"},
		{"short token", nil, []string{"--token", "short", "hi"}, exitcode.Usage, "webhook tokens need at least"},
		{"token with a space", nil, []string{"--token", "has a space in it 123", "hi"}, exitcode.Usage, "an Authorization header cannot carry"},
		{"fault without --webhook", nil, []string{"--emulator", "--emulator-drop-webhook", "hi"}, exitcode.Usage, "webhook options given without --webhook"},
		{"--forward-to without --webhook", nil, []string{"--forward-to", "http://localhost:3000/", "hi"}, exitcode.Usage, "add --webhook"},
		{"zero timeout", nil, []string{"--timeout", "0s", "hi"}, exitcode.Usage, "--timeout must be positive"},
		{"relative --forward-to", nil, []string{"--webhook", "--forward-to", "localhost:3000", "hi"}, exitcode.Usage, "is not an absolute http(s) URL"},
		{"metadata without =", nil, []string{"--metadata", "novalue", "hi"}, exitcode.Usage, "want key=value"},
		{"reserved metadata", nil, []string{"--metadata", "webhook_token=x", "hi"}, exitcode.Usage, "set by sail itself"},
		{"temperature out of range", nil, []string{"--temperature", "5", "hi"}, exitcode.Usage, "temperature"},
		{"missing --json-schema", nil, []string{"--json-schema", filepath.Join(schemaDir, "nope.json"), "hi"}, exitcode.Usage, "--json-schema"},
		{"--sail-batch without -f", nil, []string{"--sail-batch", "hi"}, exitcode.Usage, "--sail-batch applies to a batch"},
		{"--concurrency without -f", nil, []string{"--concurrency", "4", "hi"}, exitcode.Usage, "--concurrency applies to a batch"},
		{"--item-timeout without -f", nil, []string{"--item-timeout", "5s", "hi"}, exitcode.Usage, "--item-timeout applies to a batch"},
		{"-o without -f", nil, []string{"-o", "out.jsonl", "hi"}, exitcode.Usage, "--out applies to a batch"},
		{"--item-timeout with --sail-batch", nil, []string{"-f", "x.jsonl", "--sail-batch", "--item-timeout", "5s"}, exitcode.Usage, "--item-timeout does not apply to --sail-batch"},
		{"--output with -f", nil, []string{"-f", "x.jsonl", "--output", "text"}, exitcode.Usage, "--output applies to a single run"},
		{"negative sail batch limit", nil, []string{"-f", "x.jsonl", "--sail-batch", "--sail-batch-max-requests", "-1"}, exitcode.Usage, "must not be negative"},
		{"bad sail batch label", nil, []string{"-f", "x.jsonl", "--sail-batch", "--sail-batch-label", "no spaces"}, exitcode.Usage, "label"},
		{"sail batch on chat", nil, []string{"-f", "x.jsonl", "--sail-batch", "-e", "chat"}, exitcode.Usage, "--sail-batch sends responses requests only, not chat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parseRun(t, tc.env, tc.args...).refused(t, tc.code, tc.want)
		})
	}
}
