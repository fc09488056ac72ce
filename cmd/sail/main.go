// Command sail shows Sail's completion webhooks arrive, from one command.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sailresearch/sail/internal/cli"
	"github.com/sailresearch/sail/internal/iostreams"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default so a second Ctrl-C
		// kills at once even if shutdown were ever to hang.
		<-ctx.Done()
		stop()
	}()
	code := cli.Execute(ctx, cli.NewFactory(iostreams.System(os.Getenv), os.Getenv), os.Args[1:])
	stop()
	os.Exit(code)
}
