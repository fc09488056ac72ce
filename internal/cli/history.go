package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/store"
)

// NewCmdHistory builds `sail history` and `sail history show`.
func NewCmdHistory(f *Factory) *cobra.Command {
	var h historyFlags
	var n int
	var asJSON bool
	var q historyQuery
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List received webhook deliveries, newest first",
		Long: `List the deliveries that sail listen and sail run received, newest first.

Filters narrow the list before --limit applies: --response ID (one
response's deliveries, retries and duplicates included), --verdict (ok,
mismatch, missing or none), --since (a duration such as 1h, or a time such as
2026-03-01 or 2026-03-01T15:04:05Z). --limit (-n) must be at least 1; --all
lists everything.

KIND is accepted (verified and answered by sail: the last 1000 are kept)
or rejected (wrong or missing token, not JSON, too large, or refused while
busy: the last 100 are kept, apart, so they never push accepted ones out).

History lives in $XDG_STATE_HOME/sail/history (directory 0700, files 0600);
docs/history-format.md describes the files.
Authorization headers and metadata.webhook_token values are redacted before
anything is written.`,
		Example: `  sail history
  sail history -n 5 --json | jq -r .response_id
  sail history --verdict mismatch --since 1h
  sail history --response resp_01J... --all
  sail history show --last
  sail history show d_01J... --raw | jq .output
  sail history show d_01J... --json | jq .headers`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := q.parse(cmd, f.Now(), n); err != nil {
				return err
			}
			st, err := openHistoryForRead(f, cmd, &h)
			if err != nil {
				return err
			}
			list, err := q.list(st)
			if err != nil {
				return fmt.Errorf("read history: %w", err)
			}
			if asJSON {
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				for _, s := range list {
					if err := enc.Encode(listed{s, kind(s)}); err != nil {
						return err
					}
				}
				return writeData(f, buf.Bytes())
			}
			if len(list) == 0 && q.filtered() {
				fmt.Fprintf(f.IO.ErrOut, "No deliveries in %s match these filters.\n", h.dir(f))
				return nil
			}
			if len(list) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "No deliveries yet in %s.\nStart one with: sail run --webhook --emulator \"hi\"\n", h.dir(f))
				return nil
			}
			tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tRECEIVED\tKIND\tANSWERED\tTOKEN\tRESPONSE\tSTATUS\tSIZE\t")
			for _, s := range list {
				dup := ""
				if s.Duplicate {
					dup = "duplicate"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", render.Sanitize(s.ID), s.ReceivedAt.Local().Format("2006-01-02 15:04:05"),
					kind(s), s.HTTPStatus, render.Sanitize(s.Verdict), render.OrDash(render.Sanitize(s.ResponseID)), render.OrDash(render.Sanitize(s.ResponseStatus)), render.HumanBytes(s.Bytes), dup)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVarP(&n, "limit", "n", 20, "how many to list, newest first (at least 1)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	q.register(cmd, f)
	h.registerDir(cmd)
	cmd.AddCommand(newCmdHistoryShow(f))
	return cmd
}

func newCmdHistoryShow(f *Factory) *cobra.Command {
	var h historyFlags
	var last, raw, asJSON bool
	cmd := &cobra.Command{
		Use:   "show [ID | --last]",
		Short: "Show one delivery: metadata, headers and payload",
		Example: `  sail history show --last
  sail history show d_01J... --raw > payload.json
  sail history show --last --json | jq .headers`,
		Args:              usageArgs(cobra.MaximumNArgs(1)),
		ValidArgsFunction: completeHistoryIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openHistoryForRead(f, cmd, &h)
			if err != nil {
				return err
			}
			rec, err := pickRecord(st, args, last)
			if err != nil {
				return err
			}
			if raw && asJSON {
				return usageError(cmd, errors.New("--raw and --json are mutually exclusive"))
			}
			if raw {
				return writeData(f, append(rec.Body, '\n'))
			}
			if asJSON {
				return writeData(f, append(recordJSON(rec), '\n'))
			}
			// Everything below comes from a sender, through the history file.
			san := render.Sanitize
			fmt.Fprintf(f.IO.Out, "id:          %s\nkind:        %s\nreceived:    %s from %s\npath:        %s\nanswered:    %d\ntoken:       %s\nduplicate:   %v\nresponse:    %s (%s, %s)\nsize:        %s\n",
				san(rec.ID), kind(rec.Summary), rec.ReceivedAt.Local().Format("2006-01-02 15:04:05.000"), render.OrDash(san(rec.RemoteAddr)), san(rec.Path), rec.HTTPStatus,
				san(rec.Verdict), rec.Duplicate, render.OrDash(san(rec.ResponseID)), render.OrDash(san(rec.ResponseStatus)), render.OrDash(san(rec.Model)), render.HumanBytes(rec.Bytes))
			if rec.Excerpt != "" {
				fmt.Fprintf(f.IO.Out, "excerpt:     %s\n", san(rec.Excerpt))
			}
			if rec.Error != "" {
				fmt.Fprintf(f.IO.Out, "error:       %s\n", san(rec.Error))
			}
			fmt.Fprintln(f.IO.Out, "\nheaders:")
			keys := make([]string, 0, len(rec.Headers))
			for k := range rec.Headers {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(f.IO.Out, "  %s: %s\n", san(k), san(rec.Headers[k]))
			}
			fmt.Fprintln(f.IO.Out, "\npayload:")
			writePayload(f.IO.Out, rec.Body, true)
			return nil
		},
	}
	cmd.Flags().BoolVar(&last, "last", false, "the newest accepted delivery")
	cmd.Flags().BoolVar(&raw, "raw", false, "print only the payload, as received (token redacted; escaped when stdout is a terminal)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole record as one JSON object (payload under \"body\", byte for byte; escaped when stdout is a terminal)")
	h.registerDir(cmd)
	return cmd
}

// writeData writes data meant for programs (JSON, a payload) to stdout:
// byte for byte into a pipe or file, but sanitised line by line when
// stdout is a terminal, which would otherwise act on escape sequences a
// sender put in the payload. Sanitize keeps JSON valid and equivalent.
func writeData(f *Factory, data []byte) error {
	if f.IO.StdoutTTY {
		data = []byte(sanitizeLines(string(data)))
	}
	_, err := f.IO.Out.Write(data)
	return err
}

// dataWriter is stdout for a stream of data (NDJSON events), sanitised
// like writeData when it is a terminal.
func dataWriter(f *Factory) io.Writer {
	if !f.IO.StdoutTTY {
		return f.IO.Out
	}
	return sanitizingWriter{f.IO.Out}
}

type sanitizingWriter struct{ w io.Writer }

func (s sanitizingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, sanitizeLines(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sanitizeLines sanitises each line of s, keeping the line breaks.
func sanitizeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = render.Sanitize(l)
	}
	return strings.Join(lines, "\n")
}

// listed is a summary as `sail history --json` prints it: kind is always
// present, "accepted" or "rejected".
type listed struct {
	store.Summary
	Kind string `json:"kind"`
}

func kind(s store.Summary) string {
	if s.Rejected {
		return "rejected"
	}
	return "accepted"
}

// recordJSON is one stored record as a JSON object: the header fields,
// "kind", and the payload under "body" byte for byte when it is JSON, or
// as a string under "body_text" when it is not (a rejected body, or a
// truncated prefix).
func recordJSON(rec *store.Record) []byte {
	out, _ := json.Marshal(struct {
		store.Record
		Kind string `json:"kind"`
	}{*rec, kind(rec.Summary)})
	out = out[:len(out)-1]
	switch {
	case len(rec.Body) == 0:
	case json.Valid(rec.Body):
		out = append(append(out, `,"body":`...), rec.Body...)
	default:
		text, _ := json.Marshal(string(rec.Body))
		out = append(append(out, `,"body_text":`...), text...)
	}
	return append(out, '}')
}

func (h *historyFlags) registerDir(cmd *cobra.Command) {
	cmd.Flags().StringVar(&h.Dir, "history-dir", "", "delivery history directory (default $XDG_STATE_HOME/sail/history)")
}

func openHistoryForRead(f *Factory, cmd *cobra.Command, h *historyFlags) (*store.Store, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	applyFlags(cmd, cfg, map[string]string{"history-dir": "history_dir"})
	h.resolve(cfg)
	return h.open(f)
}

// pickRecord resolves ID or --last.
func pickRecord(st *store.Store, args []string, last bool) (*store.Record, error) {
	switch {
	case len(args) == 1 && last:
		return nil, exitcode.New(exitcode.Usage, "give an ID or --last, not both")
	case len(args) == 1:
		rec, err := st.Get(args[0])
		if errors.Is(err, store.ErrNotFound) {
			return nil, exitcode.WithHint(exitcode.Error, fmt.Errorf("no delivery %s in %s", args[0], st.Dir()), "list ids with: sail history")
		}
		if err != nil {
			return nil, exitcode.WithHint(exitcode.Error, fmt.Errorf("delivery %s: %w", args[0], err), "list ids with: sail history")
		}
		return rec, nil
	case last:
		rec, err := st.Last()
		if errors.Is(err, store.ErrNotFound) {
			if some, _ := st.List(1); len(some) > 0 {
				return nil, exitcode.WithHint(exitcode.Error, fmt.Errorf("no accepted delivery in %s, only rejected ones", st.Dir()), "--last takes accepted ones only: give the ID of a rejected one (see sail history)")
			}
			return nil, exitcode.WithHint(exitcode.Error, fmt.Errorf("no deliveries yet in %s", st.Dir()), `receive one first, e.g. sail run --webhook --emulator "hi"`)
		}
		if err != nil {
			return nil, exitcode.WithHint(exitcode.Error, fmt.Errorf("latest delivery: %w", err), "no deliveries yet? try: sail run --webhook --emulator \"hi\"")
		}
		return rec, nil
	}
	return nil, exitcode.WithHint(exitcode.Usage, errors.New("which delivery?"), "give an ID (see sail history) or --last")
}

func completeHistoryIDs(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var h historyFlags
		if d, _ := cmd.Flags().GetString("history-dir"); d != "" {
			h.Dir = d
		} else if cfg, err := f.Config(); err == nil {
			h.resolve(cfg)
		}
		st, err := h.open(f)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		list, err := st.List(50)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		out := make([]string, 0, len(list))
		for _, s := range list {
			out = append(out, render.Sanitize(s.ID)+"\t"+render.Sanitize(fmt.Sprintf("%s %s %s", s.ReceivedAt.Local().Format("15:04:05"), render.OrDash(s.ResponseID), s.Verdict)))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
