package cli

import (
	"fmt"
	"net/http"
	"sync"
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

	configOnce sync.Once
	config     *config.Config
	configErr  error
}

// NewFactory returns the dependencies of the running process.
func NewFactory(io *iostreams.IOStreams, env config.Env) *Factory {
	return &Factory{IO: io, Env: env, Now: time.Now, HTTPClient: &http.Client{}}
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
