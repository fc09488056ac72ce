package doctor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/tunnel"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// offline is a setup whose checks touch neither the network nor ngrok.
func offline(t *testing.T) Setup {
	t.Helper()
	return Setup{
		APIURL: "http://127.0.0.1:1/v1", Tunnel: tunnel.Options{Provider: "auto"}, Env: env(nil), HistoryDir: t.TempDir(),
		Terminal: Terminal{Size: func() (int, int, bool) { return 0, 0, false }},
	}
}

func check(t *testing.T, s Setup, name string) Check {
	t.Helper()
	for _, c := range Run(context.Background(), testTimeout, Probes(s)) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q", name)
	return Check{}
}

const testTimeout = 10 * time.Second

func TestNoKeySkipsTheAPI(t *testing.T) {
	s := offline(t)
	if c := check(t, s, "SAIL_API_KEY"); c.OK || !c.Required || !strings.Contains(c.Fix, "SAIL_API_KEY") {
		t.Errorf("key: %+v", c)
	}
	if c := check(t, s, "API"); !c.Skipped || c.OK {
		t.Errorf("API without a key: %+v", c)
	}
	s.APIKey, s.APIKeySource = "sk", "•••1234, from env"
	if c := check(t, s, "SAIL_API_KEY"); !c.OK || c.Detail != "set (•••1234, from env)" {
		t.Errorf("key set: %+v", c)
	}
}

func TestTunnelIsJudgedAsRunWouldChooseIt(t *testing.T) {
	s := offline(t)
	if c := check(t, s, "webhook tunnel"); !c.OK || !strings.HasPrefix(c.Detail, "local:") {
		t.Errorf("loopback API: %+v", c)
	}
	s.APIURL = "https://api.sailresearch.com/v1"
	if c := check(t, s, "webhook tunnel"); c.OK || !strings.Contains(c.Fix, "NGROK_AUTHTOKEN") {
		t.Errorf("remote API without ngrok: %+v", c)
	}
	s.Tunnel.PublicURL = "https://hooks.example.com"
	if c := check(t, s, "webhook tunnel"); !c.OK || !strings.Contains(c.Detail, "https://hooks.example.com") {
		t.Errorf("--public-url: %+v", c)
	}
}

func TestProxyNamesNoValue(t *testing.T) {
	s := offline(t)
	s.Env = env(map[string]string{"HTTPS_PROXY": "http://user:pw@proxy:3128"})
	c := check(t, s, "proxy")
	if !c.OK || !strings.Contains(c.Detail, "HTTPS_PROXY") || strings.Contains(c.Detail, "pw") {
		t.Errorf("proxy: %+v", c)
	}
}

func TestHistoryMustBeWritable(t *testing.T) {
	s := offline(t)
	if c := check(t, s, "history"); !c.OK {
		t.Errorf("temp dir: %+v", c)
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s.HistoryDir = filepath.Join(file, "history") // under a file: cannot be made
	if c := check(t, s, "history"); c.OK || !strings.Contains(c.Fix, "SAIL_HISTORY_DIR") {
		t.Errorf("under a file: %+v", c)
	}
}

func TestTerminalTooSmall(t *testing.T) {
	s := offline(t)
	s.Terminal = Terminal{StderrTTY: true, StdoutTTY: true, Size: func() (int, int, bool) { return 40, 10, true }}
	if c := check(t, s, "terminal"); c.OK || !strings.Contains(c.Detail, "40×10") || !strings.Contains(c.Fix, "--no-tui") {
		t.Errorf("40×10: %+v", c)
	}
}

func TestWriteSaysWhatIsMissing(t *testing.T) {
	var b bytes.Buffer
	Write(&b, []Check{{Name: "SAIL_API_KEY", Required: true, Detail: "not set", Fix: "export SAIL_API_KEY=…"}, {Name: "proxy", OK: true, Detail: "none"}}, false)
	want := "✗ SAIL_API_KEY     not set\n  → export SAIL_API_KEY=…\n✓ proxy            none\n\nNot ready for the real API."
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("report:\n%s\nwant it to start with:\n%s", b.String(), want)
	}
	b.Reset()
	Write(&b, []Check{{Name: "proxy", OK: true}}, true)
	if !strings.Contains(b.String(), "\x1b[32m✓\x1b[0m") || !strings.Contains(b.String(), "Ready:") {
		t.Errorf("coloured report: %q", b.String())
	}
}
