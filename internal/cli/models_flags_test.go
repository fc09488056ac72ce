package cli

import (
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestModelsFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, map[string]string{"SAIL_API_KEY": "sk-test"}, NewCmdModels, "models", "-l", "--api-url", "http://127.0.0.1:9/v1").ok(t)
	if !o.Long || o.JSON || o.API.URL != "http://127.0.0.1:9/v1" {
		t.Errorf("models -l --api-url: %+v", o)
	}
	if c, err := o.Client(); err != nil || c == nil {
		t.Errorf("client from --api-url and SAIL_API_KEY: %v", err)
	}
	if o := parseLine(t, nil, NewCmdModels, "models", "--json").ok(t); !o.JSON || o.Long {
		t.Errorf("--json: %+v", o)
	}
	parseLine(t, nil, NewCmdModels, "models", "--json", "--long").refused(t, exitcode.Usage, "--json and --long are mutually exclusive")
	parseLine(t, nil, NewCmdModels, "models", "gpt").refused(t, exitcode.Usage, "run 'sail models --help'")
}

// TestAPIClientNeedsAKey: the client factory, not the flag parsing, reports
// a missing key, so a line is judged before any configuration is needed.
func TestAPIClientNeedsAKey(t *testing.T) {
	t.Parallel()
	o := parseLine(t, nil, NewCmdModels, "models").ok(t)
	if _, err := o.Client(); exitcode.Of(err) != exitcode.Config {
		t.Errorf("client without SAIL_API_KEY: %v (exit %d), want exit 4", err, exitcode.Of(err))
	}
}
