package cli

import (
	"path/filepath"
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestConfigShowFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HOME": "/home/u", "XDG_STATE_HOME": "/state", "SAIL_MODEL": "zai-org/GLM-5"}
	o := parseLine(t, env, newCmdConfigShow, "config", "show").ok(t)
	if o.JSON || o.HistoryDir != filepath.Join("/state", "sail", "history") || o.Env("HOME") != "/home/u" {
		t.Errorf("config show: JSON %v, HistoryDir %q", o.JSON, o.HistoryDir)
	}
	cfg, err := o.Config()
	if err != nil || cfg.Get("model") != "zai-org/GLM-5" {
		t.Errorf("config: %v, model %q", err, cfg.Get("model"))
	}
	if o := parseLine(t, nil, newCmdConfigShow, "config", "show", "--json").ok(t); !o.JSON {
		t.Error("--json not set")
	}
	parseLine(t, nil, newCmdConfigShow, "config", "show", "model").refused(t, exitcode.Usage, "run 'sail config show --help'")
}
