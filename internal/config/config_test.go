package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
)

func envOf(m map[string]string) Env { return func(k string) string { return m[k] } }

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte("model = \"file-model\"\nendpoint = \"chat\"\ntunnel = \"local\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(envOf(map[string]string{"SAIL_ENDPOINT": "messages", "SAIL_TUNNEL": "ngrok"}), path)
	if err != nil {
		t.Fatal(err)
	}
	c.Set("tunnel", "public")
	cases := []struct {
		key, want string
		src       Source
	}{
		{"api_url", "https://api.sailresearch.com/v1", SourceDefault},
		{"model", "file-model", SourceFile},
		{"endpoint", "messages", SourceEnv},
		{"tunnel", "public", SourceFlag},
	}
	for _, cs := range cases {
		v, _ := c.Lookup(cs.key)
		if v.Value != cs.want || v.Source != cs.src {
			t.Errorf("%s = %q from %s, want %q from %s", cs.key, v.Value, v.Source, cs.want, cs.src)
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	c, err := Load(envOf(map[string]string{"SAIL_API_KEY": "sk-live-0123456789abcdef", "NGROK_AUTHTOKEN": "short"}), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range c.All() {
		d := v.Display()
		if v.Key.Secret && len(v.Value) >= 8 && strings.Contains(d, v.Value[:8]) {
			t.Errorf("%s shown as %q leaks the secret", v.Key.Name, d)
		}
	}
	v, _ := c.Lookup("api_key")
	if v.Display() != "•••cdef" {
		t.Errorf("api_key display %q", v.Display())
	}
	v, _ = c.Lookup("ngrok_authtoken")
	if v.Display() != "•••" {
		t.Errorf("short secret display %q", v.Display())
	}
}

func TestBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("model = = 3"), 0o600)
	_, err := Load(envOf(nil), path)
	if exitcode.Of(err) != exitcode.Config || exitcode.Hint(err) == "" {
		t.Fatalf("want config error with hint, got %v", err)
	}
}

func TestFileWarnings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("api_key = \"sk-0123456789abcdef\"\nbogus = 1\nmodels = [\"a\", \"b\"]\n"), 0o644)
	c, err := Load(envOf(nil), path)
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(c.Warnings(), "\n")
	if !strings.Contains(w, `unknown key "bogus"`) || !strings.Contains(w, "chmod 600") {
		t.Fatalf("warnings: %s", w)
	}
	if got := c.Models(); len(got) != 2 || got[1] != "b" {
		t.Fatalf("models from array: %v", got)
	}
}

func TestPaths(t *testing.T) {
	if p := DefaultPath(envOf(map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"})); p != "/x/sail/config.toml" {
		t.Error(p)
	}
	if p := DefaultPath(envOf(map[string]string{"HOME": "/h"})); p != "/h/.config/sail/config.toml" {
		t.Error(p)
	}
	if p := DefaultPath(envOf(map[string]string{"SAIL_CONFIG": "/c.toml", "HOME": "/h"})); p != "/c.toml" {
		t.Error(p)
	}
	if p := StateDir(envOf(map[string]string{"XDG_STATE_HOME": "/s"})); p != "/s/sail" {
		t.Error(p)
	}
}
