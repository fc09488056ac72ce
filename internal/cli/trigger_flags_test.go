package cli

import (
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/emulator"
	"github.com/sailresearch/sail/internal/exitcode"
)

func TestTriggerFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, map[string]string{"SAIL_MODEL": "zai-org/GLM-5"}, NewCmdTrigger, "trigger", "--to", "http://127.0.0.1:3000/hook").ok(t)
	if o.Status != "completed" || o.Endpoint != "responses" || o.Model != "" || o.Payload != "" || o.JSON ||
		o.MaxAttempts != emulator.DefaultSendAttempts || o.RetryBackoff != emulator.DefaultRetryBackoff || o.AttemptTimeout != emulator.DefaultDeliveryTimeout {
		t.Errorf("defaults: %+v", o)
	}
	if cfg, err := o.Config(); err != nil || cfg.Get("model") != "zai-org/GLM-5" {
		t.Errorf("the payload's default model comes from the configuration: %v", err)
	}

	// Status and endpoint are spelled as the payload spells them.
	o = parseLine(t, nil, NewCmdTrigger, "trigger", "--to", "http://h/x", "--status", "Canceled", "-e", "/v1/chat/completions",
		"-m", "m1", "--prompt", "hi", "--token", "s3cret", "--max-attempts", "1", "--retry-backoff", "0s", "--attempt-timeout", "2s", "--json").ok(t)
	if o.Status != "cancelled" || o.Endpoint != "chat" || o.Model != "m1" || o.Prompt != "hi" || o.Token != "s3cret" ||
		o.MaxAttempts != 1 || o.RetryBackoff != 0 || o.AttemptTimeout != 2*time.Second || !o.JSON {
		t.Errorf("every flag: %+v", o)
	}
	if o := parseLine(t, nil, NewCmdTrigger, "trigger", "--to", "http://h/x", "--payload", "resp.json").ok(t); o.Payload != "resp.json" {
		t.Errorf("--payload: %+v", o)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--to URL is required: where should the webhook go?"},
		{[]string{"--to", "h/x"}, `--to "h/x" is not an absolute http(s) URL`},
		{[]string{"--to", "http://h/x", "--max-attempts", "0"}, "--max-attempts 0: must be at least 1"},
		{[]string{"--to", "http://h/x", "--retry-backoff", "-1s"}, "--retry-backoff must not be negative"},
		{[]string{"--to", "http://h/x", "--attempt-timeout", "0s"}, "--attempt-timeout must be positive"},
		{[]string{"--to", "http://h/x", "--payload", "p.json", "--status", "failed"}, "--status describes the generated payload: it cannot be combined with --payload"},
		{[]string{"--to", "http://h/x", "--payload", "-", "-m", "m1"}, "--model describes the generated payload"},
		{[]string{"--to", "http://h/x", "--payload", "-", "--prompt", "hi"}, "--prompt describes the generated payload"},
		{[]string{"--to", "http://h/x", "--payload", "-", "-e", "chat"}, "--endpoint describes the generated payload"},
		{[]string{"--to", "http://h/x", "--status", "in_progress"}, `--status "in_progress": webhooks fire on completed, failed, cancelled or incomplete`},
		{[]string{"--to", "http://h/x", "--endpoint", "embeddings"}, `unknown endpoint "embeddings"`},
		{[]string{"--to", "http://h/x", "now"}, "run 'sail trigger --help'"},
	} {
		parseLine(t, nil, NewCmdTrigger, append([]string{"trigger"}, c.args...)...).refused(t, exitcode.Usage, c.want)
	}
}
