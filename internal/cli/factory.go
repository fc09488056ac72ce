package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/sail"
)

// Factory carries the dependencies every command shares. Tests build one
// with buffers for streams, a map for the environment and fakes for the rest.
type Factory struct {
	IO         *iostreams.IOStreams
	Env        config.Env
	Now        func() time.Time
	HTTPClient *http.Client
	// Interrupts subscribes to SIGINT and SIGTERM, every one of them, the
	// first included; stop unsubscribes. Batch runs count them: the second
	// aborts the items in flight. Tests send on a channel of their own.
	Interrupts func() (c <-chan os.Signal, stop func())
	// TUIInput is where the interactive view reads keys; nil means the
	// terminal. Tests drive the view through it.
	TUIInput io.Reader

	configOnce sync.Once
	config     *config.Config
	configErr  error
}

// NewFactory returns the dependencies of the running process.
func NewFactory(io *iostreams.IOStreams, env config.Env) *Factory {
	return &Factory{IO: io, Env: env, Now: time.Now, HTTPClient: &http.Client{}, Interrupts: processInterrupts}
}

func processInterrupts() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	return c, func() { signal.Stop(c) }
}

// Config loads the configuration once; flags are applied by each command.
func (f *Factory) Config() (*config.Config, error) {
	f.configOnce.Do(func() {
		f.config, f.configErr = config.Load(f.Env, config.DefaultPath(f.Env))
		// Every command shows them: an ignored key (api-key for api_key)
		// otherwise surfaces only as a puzzling "no Sail API key".
		if f.configErr == nil {
			for _, w := range f.config.Warnings() {
				fmt.Fprintf(f.IO.ErrOut, "warning: %s\n", w)
			}
		}
	})
	return f.config, f.configErr
}

// configFor is the configuration getter of one command line: f's
// configuration with the flags the user set on cmd recorded over it (flag
// name → config key), so precedence is decided in one place. Commands
// keep it in their options and call it when they run.
func (f *Factory) configFor(cmd *cobra.Command, flagToKey map[string]string) func() (*config.Config, error) {
	return func() (*config.Config, error) {
		cfg, err := f.Config()
		if err != nil {
			return nil, err
		}
		applyFlags(cmd, cfg, flagToKey)
		return cfg, nil
	}
}

// apiConfigKeys are the flags of the API commands that override the
// configuration.
var apiConfigKeys = map[string]string{"api-url": "api_url", "model": "model", "endpoint": "endpoint"}

// apiClientFor is the client factory of an API command: a client for the
// API that config names, over f's HTTP client.
func (f *Factory) apiClientFor(config func() (*config.Config, error)) func() (*sail.Client, error) {
	return func() (*sail.Client, error) {
		cfg, err := config()
		if err != nil {
			return nil, err
		}
		return sail.New(sail.Options{BaseURL: cfg.Get("api_url"), APIKey: cfg.Get("api_key"), HTTPClient: f.HTTPClient, UserAgent: "sail/" + versionShort()})
	}
}
