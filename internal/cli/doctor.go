package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/doctor"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/sail"
	"github.com/sailresearch/sail/internal/tunnel"
)

// NewCmdDoctor builds `sail doctor`.
func NewCmdDoctor(f *Factory) *cobra.Command {
	var asJSON bool
	var timeout time.Duration
	var tf tunnelFlags
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that sail run --webhook can work here, and say how to fix what cannot",
		Long: `Check the API key (with GET /v1/models), the API URL, ngrok (a real, short
session), proxy variables, the history directory and the terminal. Each line
is ✓ or ✗ with the fix. Every check has a deadline, so doctor finishes in a
few seconds even offline.

The tunnel is judged as sail run --webhook would choose it: --public-url when
given, a local one when the API is on this machine (an emulator), else ngrok.

Exits 0 only when everything sail run --webhook needs against the configured
API is in place (an accepted key, and a tunnel it can reach); otherwise 4.`,
		Example: `  sail doctor
  sail doctor --tunnel ngrok        # check ngrok even for an API on this machine
  sail doctor --json | jq -r '.[] | select(.ok|not) | .fix'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			applyFlags(cmd, cfg, map[string]string{"api-url": "api_url", "tunnel": "tunnel", "public-url": "public_url", "domain": "ngrok_domain"})
			tf.resolve(cfg, f.Env)
			// The ngrok check must give up (and say why) before doctor's own
			// deadline cuts it off with nothing to show.
			tf.Timeout = timeout * 4 / 5
			checks := doctor.Run(cmd.Context(), timeout, doctorProbes(f, cfg, &tf))
			if asJSON {
				b, err := json.Marshal(checks)
				if err != nil {
					return err
				}
				fmt.Fprintln(f.IO.Out, string(b))
			} else {
				printChecks(f, checks)
			}
			if !doctor.Healthy(checks) {
				return exitcode.Silent{Err: exitcode.New(exitcode.Config, "sail run --webhook cannot work over the real API yet")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the checks as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "deadline of each network check")
	cmd.Flags().String("api-url", "", "Sail API base URL to check")
	cmd.Flags().String("tunnel", "", "tunnel to check, as sail run --tunnel: auto, local, ngrok or public (default auto)")
	cmd.Flags().StringVar(&tf.PublicURL, "public-url", "", "your own tunnel URL, instead of ngrok")
	cmd.Flags().StringVar(&tf.Server, "ngrok-server-addr", "", "ngrok connect address host:port")
	_ = cmd.Flags().MarkHidden("ngrok-server-addr")
	return cmd
}

func printChecks(f *Factory, checks []doctor.Check) {
	paint := func(sgr, s string) string {
		if f.IO.ColorDisabled || !f.IO.StdoutTTY {
			return s
		}
		return "\x1b[" + sgr + "m" + s + "\x1b[0m"
	}
	for _, c := range checks {
		mark := paint("32", "✓")
		switch {
		case c.Skipped:
			mark = paint("2", "-")
		case !c.OK && c.Required:
			mark = paint("31", "✗")
		case !c.OK:
			mark = paint("33", "!")
		}
		fmt.Fprintf(f.IO.Out, "%s %-16s %s\n", mark, c.Name, c.Detail)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(f.IO.Out, "  %s %s\n", paint("2", "→"), c.Fix)
		}
	}
	if doctor.Healthy(checks) {
		fmt.Fprintln(f.IO.Out, "\nReady: sail run --webhook \"…\" can reach Sail and receive its webhook.")
	} else {
		fmt.Fprintln(f.IO.Out, "\nNot ready for the real API. Offline, this works now: sail run --webhook --emulator \"hi\"")
	}
}

func doctorProbes(f *Factory, cfg *config.Config, tf *tunnelFlags) []doctor.Probe {
	apiKey := cfg.Get("api_key")
	apiURL := cfg.Get("api_url")
	return []doctor.Probe{
		{Name: "SAIL_API_KEY", Required: true, Run: func(ctx context.Context) doctor.Check {
			if apiKey == "" {
				return doctor.Check{Detail: "not set", Fix: "export SAIL_API_KEY=… (your Sail API key)"}
			}
			v, _ := cfg.Lookup("api_key")
			return doctor.Check{OK: true, Detail: fmt.Sprintf("set (%s, from %s)", v.Display(), v.Source)}
		}},
		{Name: "API", Required: true, Run: func(ctx context.Context) doctor.Check {
			base, err := sail.NormalizeBaseURL(apiURL)
			if err != nil {
				return doctor.Check{Detail: err.Error(), Fix: "fix SAIL_API_URL, e.g. https://api.sailresearch.com/v1"}
			}
			if apiKey == "" {
				return doctor.Check{Skipped: true, Detail: base + " (not checked without a key)", Fix: "set SAIL_API_KEY first"}
			}
			c, err := sail.New(sail.Options{BaseURL: base, APIKey: apiKey, HTTPClient: f.HTTPClient, MaxRetries: -1})
			if err == nil {
				var models []sail.Model
				models, err = c.Models(ctx)
				if err == nil {
					return doctor.Check{OK: true, Detail: fmt.Sprintf("%s accepted the key (%d models)", base, len(models))}
				}
			}
			fix := exitcode.Hint(err)
			if fix == "" {
				fix = "check your network and SAIL_API_URL"
			}
			return doctor.Check{Detail: base + ": " + firstLine(err.Error()), Fix: fix}
		}},
		{Name: "webhook tunnel", Required: true, Run: func(ctx context.Context) doctor.Check {
			// Judge the tunnel sail run would choose for this API, by the
			// same rule: a loopback API (an emulator) is reached locally.
			loopback := sail.IsLoopback(apiURL)
			if tf.PublicURL == "" && tf.Authtoken == "" && !loopback && isAuto(tf.Provider) {
				return doctor.Check{Detail: "NGROK_AUTHTOKEN not set and no --public-url",
					Fix: "export NGROK_AUTHTOKEN=… (https://dashboard.ngrok.com/get-started/your-authtoken), or pass --public-url URL of your own tunnel"}
			}
			provider, err := tunnel.ChooseForRun(tf.Provider, loopback, tf.Authtoken != "", tf.PublicURL)
			if err != nil {
				return doctor.Check{Detail: firstLine(err.Error()), Fix: exitcode.Hint(err)}
			}
			switch provider {
			case tunnel.Local:
				return doctor.Check{OK: true, Detail: "local: the API is on this machine, so a loopback URL reaches it"}
			case tunnel.Public:
				u, _ := tunnel.ValidatePublicURL(tf.PublicURL) // ChooseForRun validated it
				return doctor.Check{OK: true, Detail: "your own tunnel at " + u + " (not checked: make sure it forwards to --addr)"}
			}
			t, err := tunnel.Open(ctx, tf.options(tunnel.Ngrok, quietLogger()))
			if err != nil {
				fix := exitcode.Hint(err)
				if fix == "" {
					fix = "check your network, or use --public-url"
				}
				return doctor.Check{Detail: "ngrok: " + firstLine(err.Error()), Fix: fix}
			}
			url := t.URL()
			_ = t.Close()
			return doctor.Check{OK: true, Detail: "ngrok session opened (" + url + ")"}
		}},
		{Name: "proxy", Run: func(context.Context) doctor.Check {
			var set []string
			for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "NO_PROXY", "no_proxy"} {
				if f.Env(k) != "" {
					set = append(set, k)
				}
			}
			if len(set) == 0 {
				return doctor.Check{OK: true, Detail: "no proxy variables set"}
			}
			return doctor.Check{OK: true, Detail: "using " + strings.Join(set, ", ") + " (values not shown: they may hold credentials)"}
		}},
		{Name: "history", Run: func(context.Context) doctor.Check {
			var h historyFlags
			h.resolve(cfg)
			dir := h.dir(f)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return doctor.Check{Detail: dir + ": " + err.Error(), Fix: "set SAIL_HISTORY_DIR to a writable directory, or use --no-history"}
			}
			probe, err := os.CreateTemp(dir, ".doctor-*")
			if err != nil {
				return doctor.Check{Detail: dir + " is not writable: " + err.Error(), Fix: "set SAIL_HISTORY_DIR to a writable directory, or use --no-history"}
			}
			probe.Close()
			os.Remove(probe.Name())
			return doctor.Check{OK: true, Detail: filepath.Clean(dir) + " is writable"}
		}},
		{Name: "terminal", Run: func(context.Context) doctor.Check {
			var parts []string
			switch {
			case f.IO.StderrTTY:
				parts = append(parts, "stderr is a terminal (interactive view)")
			default:
				parts = append(parts, "stderr is not a terminal (plain output)")
			}
			if !f.IO.StdoutTTY {
				parts = append(parts, "stdout is not a terminal (NDJSON events)")
			}
			if f.IO.ColorDisabled {
				parts = append(parts, "no colour (NO_COLOR or TERM=dumb)")
			}
			if w, h, ok := f.IO.Size(); ok {
				parts = append(parts, fmt.Sprintf("%d×%d", w, h))
				if w < 60 || h < 15 {
					return doctor.Check{Detail: strings.Join(parts, "; "), Fix: "the interactive view wants at least 60×15; --no-tui gives plain lines"}
				}
			}
			return doctor.Check{OK: true, Detail: strings.Join(parts, "; ")}
		}},
	}
}

func isAuto(provider string) bool {
	p := strings.ToLower(strings.TrimSpace(provider))
	return p == "" || p == tunnel.Auto
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
