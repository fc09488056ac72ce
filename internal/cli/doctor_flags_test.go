package cli

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestDoctorFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"XDG_STATE_HOME": "/state", "SAIL_TUNNEL": "ngrok"}
	o := parseLine(t, env, NewCmdDoctor, "doctor").ok(t)
	if o.JSON || o.Timeout != 5*time.Second || o.Tunnel.Provider != "" {
		t.Errorf("defaults: %+v", o)
	}
	cfg, err := o.Config()
	if err != nil || cfg.Get("tunnel") != "ngrok" || o.HistoryDir(cfg) != filepath.Join("/state", "sail", "history") {
		t.Errorf("config: %v, tunnel %q, history %q", err, cfg.Get("tunnel"), o.HistoryDir(cfg))
	}

	o = parseLine(t, env, NewCmdDoctor, "doctor", "--json", "--timeout", "2s", "--tunnel", "local",
		"--api-url", "http://127.0.0.1:4010/v1", "--public-url", "https://hooks.example.com", "--ngrok-server-addr", "127.0.0.1:1").ok(t)
	if !o.JSON || o.Timeout != 2*time.Second || o.Tunnel.Provider != "local" || o.Tunnel.PublicURL != "https://hooks.example.com" || o.Tunnel.Server != "127.0.0.1:1" || o.APIURL != "http://127.0.0.1:4010/v1" {
		t.Errorf("flags: %+v", o)
	}
	cfg, _ = o.Config()
	if cfg.Get("tunnel") != "local" || cfg.Get("api_url") != "http://127.0.0.1:4010/v1" || cfg.Get("public_url") != "https://hooks.example.com" {
		t.Errorf("flags must win over the environment: tunnel %q api_url %q public_url %q", cfg.Get("tunnel"), cfg.Get("api_url"), cfg.Get("public_url"))
	}

	parseLine(t, nil, NewCmdDoctor, "doctor", "--timeout", "soon").refused(t, exitcode.Usage, `invalid argument "soon" for "--timeout"`)
	parseLine(t, nil, NewCmdDoctor, "doctor", "now").refused(t, exitcode.Usage, "run 'sail doctor --help'")
}
