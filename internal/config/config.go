// Package config resolves sail's settings with one precedence rule:
// flags > environment (SAIL_*, NGROK_AUTHTOKEN) > config file > default,
// and remembers where each value came from so `sail config show` can say.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/secret"
)

// Source says where a value came from.
type Source string

const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
	SourceFlag    Source = "flag"
)

// Key describes one setting.
type Key struct {
	Name    string // as in the config file and `sail config show`
	Env     string // environment variable
	Default string
	Secret  bool
	Help    string
}

// Keys lists every setting sail reads, in display order.
var Keys = []Key{
	{Name: "api_key", Env: "SAIL_API_KEY", Secret: true, Help: "Sail API key"},
	{Name: "api_url", Env: "SAIL_API_URL", Default: "https://api.sailresearch.com/v1", Help: "Sail API base URL (with or without /v1)"},
	{Name: "model", Env: "SAIL_MODEL", Default: "moonshotai/Kimi-K2.5", Help: "default model"},
	{Name: "endpoint", Env: "SAIL_ENDPOINT", Default: "responses", Help: "default endpoint: responses, chat or messages"},
	{Name: "tunnel", Env: "SAIL_TUNNEL", Default: "auto", Help: "tunnel provider: auto, local, ngrok or public"},
	{Name: "public_url", Env: "SAIL_PUBLIC_URL", Help: "URL of your own tunnel (for --tunnel public)"},
	{Name: "ngrok_authtoken", Env: "NGROK_AUTHTOKEN", Secret: true, Help: "ngrok authtoken (for --tunnel ngrok)"},
	{Name: "ngrok_domain", Env: "SAIL_NGROK_DOMAIN", Help: "reserved ngrok domain"},
	{Name: "history_dir", Env: "SAIL_HISTORY_DIR", Help: "delivery history directory (default $XDG_STATE_HOME/sail/history)"},
	{Name: "timeout", Env: "SAIL_TIMEOUT", Default: "10m", Help: "default --timeout of sail run"},
	{Name: "models", Env: "SAIL_MODELS", Default: "moonshotai/Kimi-K2.5,moonshotai/Kimi-K2.6,zai-org/GLM-5,openai/gpt-oss-20b,openai/gpt-oss-120b,deepseek-ai/DeepSeek-V3.2", Help: "comma-separated models offered by shell completion"},
}

// Value is one resolved setting.
type Value struct {
	Key    Key
	Value  string
	Source Source
}

// Config is the resolved configuration.
type Config struct {
	Path   string // config file consulted ("" when none could be located)
	values map[string]Value
	warn   []string
}

// Env reads an environment variable.
type Env func(string) string

// DefaultPath is $SAIL_CONFIG, else $XDG_CONFIG_HOME/sail/config.toml, else
// ~/.config/sail/config.toml.
func DefaultPath(env Env) string {
	if p := env("SAIL_CONFIG"); p != "" {
		return p
	}
	if x := env("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "sail", "config.toml")
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".config", "sail", "config.toml")
	}
	return ""
}

// StateDir is $XDG_STATE_HOME/sail, else ~/.local/state/sail.
func StateDir(env Env) string {
	if x := env("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "sail")
	}
	if h := env("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "sail")
	}
	return filepath.Join(os.TempDir(), "sail-state")
}

// Load resolves defaults, the config file at path (missing is fine) and the
// environment. Flags are applied afterwards with Set.
func Load(env Env, path string) (*Config, error) {
	c := &Config{Path: path, values: map[string]Value{}}
	for _, k := range Keys {
		c.values[k.Name] = Value{Key: k, Value: k.Default, Source: SourceDefault}
	}
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return nil, err
		}
	}
	for _, k := range Keys {
		if v := env(k.Env); v != "" {
			c.values[k.Name] = Value{Key: k, Value: v, Source: SourceEnv}
		}
	}
	return c, nil
}

func (c *Config) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return exitcode.WithHint(exitcode.Config, fmt.Errorf("read config file: %w", err), "fix the file's permissions or point SAIL_CONFIG elsewhere")
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return exitcode.WithHint(exitcode.Config, fmt.Errorf("parse config file %s: %w", path, err), "fix the TOML syntax, or move the file aside")
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		k, ok := lookup(name)
		if !ok {
			c.warn = append(c.warn, fmt.Sprintf("config file %s: unknown key %q ignored", path, name))
			continue
		}
		var s string
		switch v := raw[name].(type) {
		case string:
			s = v
		case []any:
			parts := make([]string, 0, len(v))
			for _, p := range v {
				parts = append(parts, fmt.Sprint(p))
			}
			s = strings.Join(parts, ",")
		default:
			s = fmt.Sprint(v)
		}
		c.values[name] = Value{Key: k, Value: s, Source: SourceFile}
		if k.Secret {
			if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
				c.warn = append(c.warn, fmt.Sprintf("config file %s holds %s but is readable by others: chmod 600 %s", path, name, path))
			}
		}
	}
	return nil
}

func lookup(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// Get returns the resolved value of a key ("" when unset).
func (c *Config) Get(name string) string { return c.values[name].Value }

// Lookup returns the resolved value with its source.
func (c *Config) Lookup(name string) (Value, bool) {
	v, ok := c.values[name]
	return v, ok
}

// Set records a value given by a flag; it wins over everything else.
func (c *Config) Set(name, value string) {
	k, ok := lookup(name)
	if !ok {
		return
	}
	c.values[name] = Value{Key: k, Value: value, Source: SourceFlag}
}

// Warnings are non-fatal problems found while loading.
func (c *Config) Warnings() []string { return c.warn }

// All returns every value in display order.
func (c *Config) All() []Value {
	out := make([]Value, 0, len(Keys))
	for _, k := range Keys {
		out = append(out, c.values[k.Name])
	}
	return out
}

// Display is the value as it may be shown: secrets masked, keeping only
// enough to tell two keys apart.
func (v Value) Display() string {
	if v.Value == "" {
		return ""
	}
	if !v.Key.Secret {
		return v.Value
	}
	return Mask(v.Value)
}

// Mask hides a secret: "sk-…abcd" shape for long values, "•••" otherwise.
func Mask(s string) string {
	if len(s) < 16 {
		return secret.Mask
	}
	return secret.Mask + s[len(s)-4:]
}

// Models returns the configured list of known models.
func (c *Config) Models() []string {
	var out []string
	for _, m := range strings.Split(c.Get("models"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}
