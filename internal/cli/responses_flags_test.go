package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestResponsesCreateFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SAIL_MODEL": "zai-org/GLM-5", "SAIL_API_KEY": "sk-test"}
	o := parseLine(t, env, NewCmdResponsesCreate, "responses", "create", "What is 2+2?").ok(t)
	if o.Prompt != "What is 2+2?" || o.Request.Background || o.Request.Temperature != nil || o.Endpoint != "" || o.Metadata != nil {
		t.Errorf("defaults: %+v", o)
	}
	if cfg, err := o.Config(); err != nil || cfg.Get("model") != "zai-org/GLM-5" || cfg.Get("endpoint") != "responses" {
		t.Errorf("config: %v", err)
	}

	schema := filepath.Join(t.TempDir(), "answer.schema.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","properties":{"answer":{"type":"string"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	o = parseLine(t, env, NewCmdResponsesCreate, "responses", "create", "-e", "messages", "-m", "m1", "--instructions", "be brief",
		"--max-output-tokens", "64", "--background", "--webhook-url", "http://127.0.0.1:8765/sail", "--webhook-token", "s3cret-webhook-token-0123",
		"--metadata", "team=evals", "--completion-window", "flex", "--temperature", "0", "--top-p", "0.5", "--reasoning-effort", "low",
		"--json-schema", schema, "--prompt-cache-key", "k", "--user", "u1", "--api-url", "http://127.0.0.1:9/v1", "@prompt.txt").ok(t)
	r := o.Request
	if o.Prompt != "@prompt.txt" || o.Endpoint != "messages" || r.Model != "m1" || r.Instructions != "be brief" || r.MaxOutputTokens != 64 || !r.Background ||
		r.WebhookURL != "http://127.0.0.1:8765/sail" || r.WebhookToken != "s3cret-webhook-token-0123" || len(o.Metadata) != 1 || r.CompletionWindow != "flex" ||
		r.Temperature == nil || *r.Temperature != 0 || r.TopP == nil || *r.TopP != 0.5 || r.ReasoningEffort != "low" || r.JSONSchema == nil ||
		r.PromptCacheKey != "k" || r.User != "u1" || o.API.URL != "http://127.0.0.1:9/v1" {
		t.Errorf("every flag: %+v", o)
	}
	cfg, _ := o.Config()
	if cfg.Get("model") != "m1" || cfg.Get("endpoint") != "messages" || cfg.Get("api_url") != "http://127.0.0.1:9/v1" {
		t.Errorf("flags must win over the environment: model %q endpoint %q", cfg.Get("model"), cfg.Get("endpoint"))
	}
	// --background is judged against the endpoint the configuration
	// resolves, when the command runs.
	if _, _, err := createRequest(o, cfg, "hi"); err == nil || exitcode.Of(err) != exitcode.Usage {
		t.Errorf("--background on messages: %v", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "accepts 1 arg(s), received 0"},
		{[]string{"a", "b"}, "accepts 1 arg(s), received 2"},
		{[]string{"hi", "--json-schema", filepath.Join(t.TempDir(), "none.json")}, "--json-schema"},
		{[]string{"hi", "--temperature", "warm"}, `invalid argument "warm" for "--temperature"`},
		{[]string{"hi", "--max-output-tokens", "x"}, `invalid argument "x"`},
	} {
		parseLine(t, env, NewCmdResponsesCreate, append([]string{"responses", "create"}, c.args...)...).refused(t, exitcode.Usage, c.want)
	}
}

func TestResponsesIDFlags(t *testing.T) {
	t.Parallel()
	for _, newCmd := range []func(*Factory, func(context.Context, *ResponseIDOptions) error) *cobra.Command{NewCmdResponsesGet, NewCmdResponsesCancel} {
		name := newCmd(flagsFactory(t, nil), nil).Name()
		o := parseLine(t, nil, newCmd, "responses", name, "resp_1", "--api-url", "http://127.0.0.1:9/v1").ok(t)
		if o.ID != "resp_1" || o.API.URL != "http://127.0.0.1:9/v1" {
			t.Errorf("%s: %+v", name, o)
		}
		parseLine(t, nil, newCmd, "responses", name).refused(t, exitcode.Usage, "accepts 1 arg(s), received 0")
		parseLine(t, nil, newCmd, "responses", name, "a", "b").refused(t, exitcode.Usage, "run 'sail responses "+name+" --help'")
	}
}

func TestResponsesWaitFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, nil, NewCmdResponsesWait, "responses", "wait", "resp_1").ok(t)
	if o.ID != "resp_1" || o.Timeout != 10*time.Minute || o.Interval != 500*time.Millisecond {
		t.Errorf("defaults: %+v", o)
	}
	o = parseLine(t, nil, NewCmdResponsesWait, "responses", "wait", "resp_1", "--timeout", "5m", "--interval", "1s").ok(t)
	if o.Timeout != 5*time.Minute || o.Interval != time.Second {
		t.Errorf("flags: %+v", o)
	}
	parseLine(t, nil, NewCmdResponsesWait, "responses", "wait").refused(t, exitcode.Usage, "accepts 1 arg(s), received 0")
	parseLine(t, nil, NewCmdResponsesWait, "responses", "wait", "r", "--timeout", "soon").refused(t, exitcode.Usage, `invalid argument "soon"`)
}
