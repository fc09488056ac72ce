package cli

import (
	"github.com/spf13/cobra"
)

// ExitCodesHelp is the table printed by `sail help exit-codes`; the README
// carries the same table.
const ExitCodesHelp = `sail exits with one of these codes:

  0    success: the response completed and, with --webhook, the webhook
       arrived and verified (for listen: stopped by Ctrl-C or --max-deliveries)
  1    other error
  2    usage error: bad flag or argument
  3    webhook verification failed: token missing or wrong, payload differs
       from GET /v1/responses/{id}, or the webhook was never delivered
  4    auth or configuration: no or invalid SAIL_API_KEY, no way to get a
       public URL (set NGROK_AUTHTOKEN or pass --public-url)
  5    tunnel could not start (ngrok authtoken, network, deadline)
  6    the response ended failed, cancelled or incomplete
  124  timed out waiting (--timeout)
  130  interrupted (Ctrl-C / SIGINT); sail listen exits 0 on Ctrl-C, its
       normal end

In scripts:

  sail run --webhook --json "…" > events.ndjson
  case $? in
    0) echo verified ;;
    3) echo "webhook problem" ;;
    6) echo "response failed" ;;
  esac`

func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "What sail's exit codes mean",
		Long:  ExitCodesHelp,
	}
}
