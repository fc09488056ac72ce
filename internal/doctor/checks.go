package doctor

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/tunnel"
)

// Setup is what the checks look at: the configuration as sail run would
// resolve it, and the terminal doctor runs in.
type Setup struct {
	APIKey string
	// APIKeySource names the key for the report without showing it, e.g.
	// "•••1234, from env".
	APIKeySource string
	APIURL       string
	HTTPClient   *http.Client
	// Tunnel is the tunnel as configured: Provider is what the user asked
	// for (auto, local, ngrok, public), not yet chosen.
	Tunnel     tunnel.Options
	Env        func(string) string
	HistoryDir string
	Terminal   Terminal
}

// Terminal describes the standard streams.
type Terminal struct {
	StdoutTTY, StderrTTY, ColorDisabled bool
	Size                                func() (width, height int, ok bool)
}

// Probes are the checks of `sail doctor`, in report order.
func Probes(s Setup) []Probe {
	return []Probe{
		{Name: "SAIL_API_KEY", Required: true, Run: s.apiKey},
		{Name: "API", Required: true, Run: s.api},
		{Name: "webhook tunnel", Required: true, Run: s.tunnel},
		{Name: "proxy", Run: s.proxy},
		{Name: "history", Run: s.history},
		{Name: "terminal", Run: s.terminal},
	}
}

func (s Setup) apiKey(context.Context) Check {
	if s.APIKey == "" {
		return Check{Detail: "not set", Fix: "export SAIL_API_KEY=… (your Sail API key)"}
	}
	return Check{OK: true, Detail: "set (" + s.APIKeySource + ")"}
}

// api asks GET /v1/models, once: a retry would outlast the deadline.
func (s Setup) api(ctx context.Context) Check {
	base, err := sail.NormalizeBaseURL(s.APIURL)
	if err != nil {
		return Check{Detail: err.Error(), Fix: "fix SAIL_API_URL, e.g. https://api.sailresearch.com/v1"}
	}
	if s.APIKey == "" {
		return Check{Skipped: true, Detail: base + " (not checked without a key)", Fix: "set SAIL_API_KEY first"}
	}
	c, err := sail.New(sail.Options{BaseURL: base, APIKey: s.APIKey, HTTPClient: s.HTTPClient, MaxRetries: -1})
	if err == nil {
		var models []sail.Model
		if models, err = c.Models(ctx); err == nil {
			return Check{OK: true, Detail: fmt.Sprintf("%s accepted the key (%d models)", base, len(models))}
		}
	}
	return Check{Detail: base + ": " + firstLine(err.Error()), Fix: hintOr(err, "check your network and SAIL_API_URL")}
}

// tunnel judges the tunnel sail run would choose for this API, by the
// same rule: a loopback API (an emulator) is reached locally.
func (s Setup) tunnel(ctx context.Context) Check {
	t := s.Tunnel
	loopback := sail.IsLoopback(s.APIURL)
	if t.PublicURL == "" && t.Authtoken == "" && !loopback && isAuto(t.Provider) {
		return Check{Detail: "NGROK_AUTHTOKEN not set and no --public-url",
			Fix: "export NGROK_AUTHTOKEN=… (https://dashboard.ngrok.com/get-started/your-authtoken), or pass --public-url URL of your own tunnel"}
	}
	provider, err := tunnel.ChooseForRun(t.Provider, loopback, t.Authtoken != "", t.PublicURL)
	if err != nil {
		return Check{Detail: firstLine(err.Error()), Fix: exitcode.Hint(err)}
	}
	switch provider {
	case tunnel.Local:
		return Check{OK: true, Detail: "local: the API is on this machine, so a loopback URL reaches it"}
	case tunnel.Public:
		u, _ := tunnel.ValidatePublicURL(t.PublicURL) // ChooseForRun validated it
		return Check{OK: true, Detail: "your own tunnel at " + u + " (not checked: make sure it forwards to --addr)"}
	}
	t.Provider = tunnel.Ngrok
	if t.Logger == nil {
		t.Logger = slog.New(slog.DiscardHandler) // the SDK must not write into the report
	}
	tun, err := tunnel.Open(ctx, t)
	if err != nil {
		return Check{Detail: "ngrok: " + firstLine(err.Error()), Fix: hintOr(err, "check your network, or use --public-url")}
	}
	url := tun.URL()
	_ = tun.Close()
	return Check{OK: true, Detail: "ngrok session opened (" + url + ")"}
}

func (s Setup) proxy(context.Context) Check {
	var set []string
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "NO_PROXY", "no_proxy"} {
		if s.Env(k) != "" {
			set = append(set, k)
		}
	}
	if len(set) == 0 {
		return Check{OK: true, Detail: "no proxy variables set"}
	}
	return Check{OK: true, Detail: "using " + strings.Join(set, ", ") + " (values not shown: they may hold credentials)"}
}

// history writes and removes a file, as the receiver would.
func (s Setup) history(context.Context) Check {
	dir := s.HistoryDir
	const fix = "set SAIL_HISTORY_DIR to a writable directory, or use --no-history"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Check{Detail: dir + ": " + err.Error(), Fix: fix}
	}
	probe, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		return Check{Detail: dir + " is not writable: " + err.Error(), Fix: fix}
	}
	probe.Close()
	os.Remove(probe.Name())
	return Check{OK: true, Detail: filepath.Clean(dir) + " is writable"}
}

func (s Setup) terminal(context.Context) Check {
	t := s.Terminal
	parts := []string{"stderr is not a terminal (plain output)"}
	if t.StderrTTY {
		parts[0] = "stderr is a terminal (interactive view)"
	}
	if !t.StdoutTTY {
		parts = append(parts, "stdout is not a terminal (NDJSON events)")
	}
	if t.ColorDisabled {
		parts = append(parts, "no colour (NO_COLOR or TERM=dumb)")
	}
	if t.Size == nil {
		return Check{OK: true, Detail: strings.Join(parts, "; ")}
	}
	if w, h, ok := t.Size(); ok {
		parts = append(parts, fmt.Sprintf("%d×%d", w, h))
		if w < 60 || h < 15 {
			return Check{Detail: strings.Join(parts, "; "), Fix: "the interactive view wants at least 60×15; --no-tui gives plain lines"}
		}
	}
	return Check{OK: true, Detail: strings.Join(parts, "; ")}
}

func isAuto(provider string) bool {
	p := strings.ToLower(strings.TrimSpace(provider))
	return p == "" || p == tunnel.Auto
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// hintOr is err's own advice, or fallback when it has none.
func hintOr(err error, fallback string) string {
	if h := exitcode.Hint(err); h != "" {
		return h
	}
	return fallback
}
