package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/doctor"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
)

// DoctorOptions are the inputs of `sail doctor`.
type DoctorOptions struct {
	IO         *iostreams.IOStreams
	Config     func() (*config.Config, error) // with this command line's flags applied
	Env        config.Env
	HTTPClient *http.Client
	// HistoryDir is the history directory cfg names, after defaults.
	HistoryDir func(cfg *config.Config) string

	JSON    bool
	Timeout time.Duration
	APIURL  string
	Tunnel  tunnelFlags
}

const doctorLong = `Check the API key (with GET /v1/models), the API URL, ngrok (a real, short
session), proxy variables, the history directory and the terminal. Each line
is ✓ or ✗ with the fix. Every check has a deadline, so doctor finishes in a
few seconds even offline.

The tunnel is judged as sail run --webhook would choose it: --public-url when
given, a local one when the API is on this machine (an emulator), else ngrok.

Exits 0 only when everything sail run --webhook needs against the configured
API is in place (an accepted key, and a tunnel it can reach); otherwise 4.`

// NewCmdDoctor builds `sail doctor`.
func NewCmdDoctor(f *Factory, runF func(context.Context, *DoctorOptions) error) *cobra.Command {
	o := &DoctorOptions{IO: f.IO, Env: f.Env, HTTPClient: f.HTTPClient, HistoryDir: func(cfg *config.Config) string {
		var h historyFlags
		h.resolve(cfg)
		return h.dir(f)
	}}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that sail run --webhook can work here, and say how to fix what cannot",
		Long:  doctorLong,
		Example: `  sail doctor
  sail doctor --tunnel ngrok        # check ngrok even for an API on this machine
  sail doctor --json | jq -r '.[] | select(.ok|not) | .fix'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return doctorRun(cmd.Context(), o)
		},
	}
	o.Config = f.configFor(cmd, map[string]string{"api-url": "api_url", "tunnel": "tunnel", "public-url": "public_url", "domain": "ngrok_domain"})
	fl := cmd.Flags()
	fl.BoolVar(&o.JSON, "json", false, "print the checks as JSON")
	fl.DurationVar(&o.Timeout, "timeout", 5*time.Second, "deadline of each network check")
	fl.StringVar(&o.APIURL, "api-url", "", "Sail API base URL to check")
	fl.StringVar(&o.Tunnel.Provider, "tunnel", "", "tunnel to check, as sail run --tunnel: auto, local, ngrok or public (default auto)")
	fl.StringVar(&o.Tunnel.PublicURL, "public-url", "", "your own tunnel URL, instead of ngrok")
	fl.StringVar(&o.Tunnel.Server, "ngrok-server-addr", "", "ngrok connect address host:port")
	_ = fl.MarkHidden("ngrok-server-addr")
	return cmd
}

func doctorRun(ctx context.Context, o *DoctorOptions) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	tf := o.Tunnel
	tf.resolve(cfg, o.Env)
	// The ngrok check must give up (and say why) before doctor's own
	// deadline cuts it off with nothing to show.
	tf.Timeout = o.Timeout * 4 / 5
	key, _ := cfg.Lookup("api_key")
	checks := doctor.Run(ctx, o.Timeout, doctor.Probes(doctor.Setup{
		APIKey: cfg.Get("api_key"), APIKeySource: fmt.Sprintf("%s, from %s", key.Display(), key.Source),
		APIURL: cfg.Get("api_url"), HTTPClient: o.HTTPClient, Tunnel: tf.options(tf.Provider, nil),
		Env: o.Env, HistoryDir: o.HistoryDir(cfg),
		Terminal: doctor.Terminal{StdoutTTY: o.IO.StdoutTTY, StderrTTY: o.IO.StderrTTY, ColorDisabled: o.IO.ColorDisabled, Size: o.IO.Size},
	}))
	if o.JSON {
		b, err := json.Marshal(checks)
		if err != nil {
			return err
		}
		fmt.Fprintln(o.IO.Out, string(b))
	} else {
		doctor.Write(o.IO.Out, checks, o.IO.StdoutTTY && !o.IO.ColorDisabled)
	}
	if !doctor.Healthy(checks) {
		return exitcode.Silent{Err: exitcode.New(exitcode.Config, "sail run --webhook cannot work over the real API yet")}
	}
	return nil
}
