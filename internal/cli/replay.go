package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/config"
	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/secret"
	"github.com/sailresearch/sail/internal/store"
	"github.com/sailresearch/sail/internal/webhook"
)

// ReplayOptions are the inputs of `sail replay`.
type ReplayOptions struct {
	IO          *iostreams.IOStreams
	HTTPClient  *http.Client
	Env         config.Env // VISUAL and EDITOR, for --edit
	OpenHistory func() (*store.Store, error)

	ID      string
	Last    bool
	To      string
	Token   string
	Timeout time.Duration
	Store   historyFlags
	Edit    bool     // open $EDITOR on the body before sending
	Set     []string // PATH=VALUE edits, applied after --edit
}

const replayLong = `POST a delivery from the history to URL again, with its body and
Content-Type, and a bearer token when --token is given. Prints the app's
status, latency and the start of its answer; exits 1 when the app does not
answer 2xx.

The stored payload has metadata.webhook_token redacted; pass --token to send
the Authorization header your app expects.

--last takes the newest accepted delivery, never one sail rejected (wrong or
missing token, not JSON, too large). A rejected delivery is replayed only when
named by its ID, with a warning: it came from a sender that was not verified.

The request also carries the original User-Agent, X-Sail-Delivery-Id (the
delivery's history id) and X-Sail-Attempt (its attempt number).

To change the payload first: --edit opens $VISUAL or $EDITOR (default vi)
on it, --set PATH=VALUE sets one field for scripts (PATH is dot-separated
keys and array indexes; VALUE is taken as JSON when it is valid JSON,
otherwise as a string). The history keeps the delivery as received.`

const replayExample = `  sail replay --last --to http://localhost:3000/webhooks/sail
  sail replay d_01J... --to http://localhost:3000/webhooks/sail --token "$WEBHOOK_TOKEN"

  # The same delivery as if the response had failed:
  sail replay --last --to http://localhost:3000/webhooks/sail --set status=failed --set output=[]

  # Edit the payload in your editor, then send it:
  EDITOR=nano sail replay --last --to http://localhost:3000/webhooks/sail --edit`

// NewCmdReplay builds `sail replay`.
func NewCmdReplay(f *Factory, runF func(context.Context, *ReplayOptions) error) *cobra.Command {
	o := &ReplayOptions{IO: f.IO, HTTPClient: f.HTTPClient, Env: f.Env}
	cmd := &cobra.Command{
		Use:               "replay [ID | --last] --to URL",
		Short:             "Re-send a stored delivery to your app",
		Long:              replayLong,
		Example:           replayExample,
		Args:              usageArgs(cobra.MaximumNArgs(1)),
		ValidArgsFunction: completeHistoryIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.ID = args[0]
			}
			if o.To == "" {
				return usageError(cmd, errors.New("--to URL is required"))
			}
			if err := checkHTTPURL("--to", o.To); err != nil {
				return err
			}
			if err := checkDeliveryChoice(o.ID, o.Last); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return replayRun(cmd.Context(), o)
		},
	}
	o.OpenHistory = historyOpener(f, cmd, &o.Store)
	cmd.Flags().BoolVar(&o.Last, "last", false, "replay the newest accepted delivery")
	cmd.Flags().StringVar(&o.To, "to", "", "URL to POST the delivery to")
	cmd.Flags().StringVar(&o.Token, "token", "", "bearer token to send")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "give up after this long")
	cmd.Flags().BoolVar(&o.Edit, "edit", false, "edit the payload in $VISUAL or $EDITOR before sending")
	cmd.Flags().StringArrayVar(&o.Set, "set", nil, "set a field before sending: `PATH=VALUE` (repeatable; VALUE is JSON or a string)")
	o.Store.registerDir(cmd)
	return cmd
}

func replayRun(ctx context.Context, o *ReplayOptions) error {
	rec, err := replayRecord(o)
	if err != nil {
		return err
	}
	// Before the --timeout starts: the editor takes the user's time.
	body, err := editBody(ctx, o.IO, o.Env, rec.Body, o.Edit, o.Set)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	fw := &webhook.Forwarder{URL: o.To, Token: o.Token, Client: noRedirectClient(o.HTTPClient), Timeout: o.Timeout}
	ct := rec.Headers["Content-Type"]
	if ct == "" {
		ct = "application/json"
	}
	res := fw.ForwardDelivery(ctx, body, webhook.Meta{ContentType: ct, UserAgent: rec.Headers["User-Agent"], DeliveryID: rec.ID, Attempt: rec.Attempt})
	if res.Error != "" {
		return exitcode.WithHint(exitcode.Error, fmt.Errorf("replay %s: %s", rec.ID, res.Error), "start your app, or fix the URL given to --to")
	}
	to := secret.URL(o.To) // never print the URL's credentials
	fmt.Fprintf(o.IO.Out, "%s → %s: %d in %.0fms\n", render.Sanitize(rec.ID), render.Sanitize(to), res.StatusCode, res.LatencyMS)
	if res.Excerpt != "" {
		fmt.Fprintf(o.IO.Out, "  %s\n", render.Sanitize(res.Excerpt))
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return exitcode.New(exitcode.Error, "%s answered %d", to, res.StatusCode)
	}
	return nil
}

// replayRecord finds the delivery to replay, and warns when it is one
// sail did not accept or did not keep whole.
func replayRecord(o *ReplayOptions) (*store.Record, error) {
	st, err := o.OpenHistory()
	if err != nil {
		return nil, err
	}
	rec, err := pickRecord(st, o.ID, o.Last)
	if err != nil {
		return nil, err
	}
	if rec.Rejected {
		fmt.Fprintf(o.IO.ErrOut, "warning: %s was rejected when it arrived (answered %d, token %s): replaying it anyway\n", rec.ID, rec.HTTPStatus, rec.Verdict)
	}
	if rec.Truncated {
		fmt.Fprintf(o.IO.ErrOut, "warning: only the first %d of %d bytes of %s were kept; replaying those\n", len(rec.Body), rec.Bytes, rec.ID)
	}
	return rec, nil
}
