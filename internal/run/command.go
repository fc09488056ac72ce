package run

import (
	"context"
	"os"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/session"
	"github.com/sailresearch/sail/ui"
)

// CommandOptions are `sail run` for one prompt.
type CommandOptions struct {
	// Session is what the run runs on, with session.RunRules.
	Session session.Options
	// Run is the orchestration; API, Inbox and Sink come from the session.
	Run     Options
	Timeout time.Duration // the whole run, from the first create on
	// URLFile gets the webhook URL once it is ready.
	URLFile string
	// View configures the interactive view (mode, replay, rows); the
	// session fills in the terminal.
	View ui.Options
}

// Command runs `sail run` for one prompt: it opens the session, runs beside
// the interactive view when there is one, and leaves the answer on stdout.
func Command(ctx context.Context, o CommandOptions) error {
	// The view outlives the run (it stays until q): it gets the process
	// context, not the --timeout one.
	viewCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	s, err := session.Open(ctx, o.Session)
	if err != nil {
		return err
	}
	defer s.Close()

	ro := o.Run
	ro.API, ro.Inbox, ro.Sink = s.Client, s.Inbox, s.Sink
	if o.URLFile != "" {
		ro.Sink = event.Multi(s.Sink, urlFileSink(o.URLFile))
	}
	o.View.Mode = ui.ModeRun
	res, err := runBeside(ctx, s.StartView(viewCtx, o.View), ro)
	// The view is gone with the alternate screen: what happened stays in
	// the scrollback, as plain lines.
	s.Scrollback(exitcode.Of(err))
	if res != nil {
		writeResult(o.Session, s.Output.Stdout, res)
	}
	if werr := s.EventsErr(); werr != nil && err == nil {
		err = werr
	}
	return s.Shown(err)
}

// runBeside runs the orchestration beside the view: quitting the view
// before the run ends interrupts the run (exit 130); after the run ends,
// the view stays until the user quits.
func runBeside(ctx context.Context, prog *ui.Program, o Options) (*Result, error) {
	if prog == nil {
		return Run(ctx, o)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := Run(runCtx, o)
		done <- outcome{r, err}
	}()
	uiRes, uiErr := prog.Wait()
	if uiRes.QuitBeforeDone {
		cancel()
	}
	out := <-done
	if out.err == nil && uiErr != nil {
		out.err = uiErr
	}
	return out.res, out.err
}

// writeResult puts the answer (or the payload) on stdout: it is data, and
// people read stderr.
func writeResult(so session.Options, stdout string, res *Result) {
	io := so.IO
	switch stdout {
	case session.Text:
		_ = session.WriteData(io, []byte(res.OutputText+"\n"))
	case session.Payload:
		session.WritePayload(io.Out, res.Payload, io.StdoutTTY)
	}
}

// urlFileSink writes the webhook URL to path when the Ready event comes.
func urlFileSink(path string) event.Sink {
	return event.SinkFunc(func(e event.Event) {
		if r, ok := e.(event.Ready); ok {
			_ = os.WriteFile(path, []byte(r.WebhookURL+"\n"), 0o600)
		}
	})
}
