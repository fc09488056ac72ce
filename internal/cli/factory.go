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

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/iostreams"
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
