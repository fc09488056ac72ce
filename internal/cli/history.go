package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/session"
	"github.com/sailresearch/sail/internal/store"
)

// HistoryOptions are the inputs of `sail history`.
type HistoryOptions struct {
	IO  *iostreams.IOStreams
	Now func() time.Time // --since DURATION counts back from it
	// OpenHistory opens the history this command line names: its
	// --history-dir, else the configured one.
	OpenHistory func() (*store.Store, error)

	Limit int
	JSON  bool
	Query historyQuery
	Store historyFlags
}

const historyLong = `List the deliveries that sail listen and sail run received, newest first.

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
anything is written.`

const historyExample = `  sail history
  sail history -n 5 --json | jq -r .response_id
  sail history --verdict mismatch --since 1h
  sail history --response resp_01J... --all
  sail history show --last
  sail history show d_01J... --raw | jq .output
  sail history show d_01J... --json | jq .headers`

// NewCmdHistory builds `sail history` and `sail history show`.
func NewCmdHistory(f *Factory, runF func(context.Context, *HistoryOptions) error) *cobra.Command {
	o := &HistoryOptions{IO: f.IO, Now: f.Now}
	cmd := &cobra.Command{
		Use:     "history",
		Short:   "List received webhook deliveries, newest first",
		Long:    historyLong,
		Example: historyExample,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Query.parse(cmd, o.Now(), o.Limit); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return historyRun(o)
		},
	}
	o.OpenHistory = historyOpener(f, cmd, &o.Store)
	cmd.Flags().IntVarP(&o.Limit, "limit", "n", 20, "how many to list, newest first (at least 1)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "one JSON object per line")
	o.Query.register(cmd, f)
	o.Store.registerDir(cmd)
	cmd.AddCommand(NewCmdHistoryShow(f, nil))
	return cmd
}

func historyRun(o *HistoryOptions) error {
	st, err := o.OpenHistory()
	if err != nil {
		return err
	}
	list, err := o.Query.list(st)
	if err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	switch {
	case o.JSON:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for _, s := range list {
			if err := enc.Encode(listed{s, kind(s)}); err != nil {
				return err
			}
		}
		return session.WriteData(o.IO, buf.Bytes())
	case len(list) == 0 && o.Query.filtered():
		fmt.Fprintf(o.IO.ErrOut, "No deliveries in %s match these filters.\n", st.Dir())
		return nil
	case len(list) == 0:
		fmt.Fprintf(o.IO.ErrOut, "No deliveries yet in %s.\nStart one with: sail run --webhook --emulator \"hi\"\n", st.Dir())
		return nil
	}
	return printHistory(o.IO.Out, list)
}

// printHistory is the table of `sail history`.
func printHistory(w io.Writer, list []store.Summary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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
}

// HistoryShowOptions are the inputs of `sail history show`.
type HistoryShowOptions struct {
	IO          *iostreams.IOStreams
	OpenHistory func() (*store.Store, error)

	ID    string
	Last  bool
	Raw   bool
	JSON  bool
	Store historyFlags
}

// NewCmdHistoryShow builds `sail history show`.
func NewCmdHistoryShow(f *Factory, runF func(context.Context, *HistoryShowOptions) error) *cobra.Command {
	o := &HistoryShowOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "show [ID | --last]",
		Short: "Show one delivery: metadata, headers and payload",
		Example: `  sail history show --last
  sail history show d_01J... --raw > payload.json
  sail history show --last --json | jq .headers`,
		Args:              usageArgs(cobra.MaximumNArgs(1)),
		ValidArgsFunction: completeHistoryIDs(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.ID = args[0]
			}
			if err := checkDeliveryChoice(o.ID, o.Last); err != nil {
				return err
			}
			if o.Raw && o.JSON {
				return usageError(cmd, errors.New("--raw and --json are mutually exclusive"))
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return historyShowRun(o)
		},
	}
	o.OpenHistory = historyOpener(f, cmd, &o.Store)
	cmd.Flags().BoolVar(&o.Last, "last", false, "the newest accepted delivery")
	cmd.Flags().BoolVar(&o.Raw, "raw", false, "print only the payload, as received (token redacted; escaped when stdout is a terminal)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the whole record as one JSON object (payload under \"body\", byte for byte; escaped when stdout is a terminal)")
	o.Store.registerDir(cmd)
	return cmd
}

func historyShowRun(o *HistoryShowOptions) error {
	st, err := o.OpenHistory()
	if err != nil {
		return err
	}
	rec, err := pickRecord(st, o.ID, o.Last)
	if err != nil {
		return err
	}
	switch {
	case o.Raw:
		return session.WriteData(o.IO, append(rec.Body, '\n'))
	case o.JSON:
		return session.WriteData(o.IO, append(recordJSON(rec), '\n'))
	}
	printRecord(o.IO.Out, rec)
	return nil
}

// printRecord shows a record for a person. Everything in it comes from a
// sender, through the history file: each field is sanitised.
func printRecord(w io.Writer, rec *store.Record) {
	san := render.Sanitize
	fmt.Fprintf(w, "id:          %s\nkind:        %s\nreceived:    %s from %s\npath:        %s\nanswered:    %d\ntoken:       %s\nduplicate:   %v\nresponse:    %s (%s, %s)\nsize:        %s\n",
		san(rec.ID), kind(rec.Summary), rec.ReceivedAt.Local().Format("2006-01-02 15:04:05.000"), render.OrDash(san(rec.RemoteAddr)), san(rec.Path), rec.HTTPStatus,
		san(rec.Verdict), rec.Duplicate, render.OrDash(san(rec.ResponseID)), render.OrDash(san(rec.ResponseStatus)), render.OrDash(san(rec.Model)), render.HumanBytes(rec.Bytes))
	if rec.Excerpt != "" {
		fmt.Fprintf(w, "excerpt:     %s\n", san(rec.Excerpt))
	}
	if rec.Error != "" {
		fmt.Fprintf(w, "error:       %s\n", san(rec.Error))
	}
	fmt.Fprintln(w, "\nheaders:")
	keys := make([]string, 0, len(rec.Headers))
	for k := range rec.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", san(k), san(rec.Headers[k]))
	}
	fmt.Fprintln(w, "\npayload:")
	session.WritePayload(w, rec.Body, true)
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

// historyOpener opens the history a command line names: its
// --history-dir, else the configured one.
func historyOpener(f *Factory, cmd *cobra.Command, h *historyFlags) func() (*store.Store, error) {
	return func() (*store.Store, error) {
		cfg, err := f.configFor(cmd, map[string]string{"history-dir": "history_dir"})()
		if err != nil {
			return nil, err
		}
		h.resolve(cfg)
		return h.open(f)
	}
}

// checkDeliveryChoice is the usage error of a command line that names no
// delivery, or both an ID and --last.
func checkDeliveryChoice(id string, last bool) error {
	switch {
	case id != "" && last:
		return exitcode.New(exitcode.Usage, "give an ID or --last, not both")
	case id == "" && !last:
		return exitcode.WithHint(exitcode.Usage, errors.New("which delivery?"), "give an ID (see sail history) or --last")
	}
	return nil
}

// pickRecord resolves ID or --last (checkDeliveryChoice has passed).
func pickRecord(st *store.Store, id string, last bool) (*store.Record, error) {
	if !last {
		rec, err := st.Get(id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, exitcode.WithHint(exitcode.Error, fmt.Errorf("no delivery %s in %s", id, st.Dir()), "list ids with: sail history")
		}
		if err != nil {
			return nil, exitcode.WithHint(exitcode.Error, fmt.Errorf("delivery %s: %w", id, err), "list ids with: sail history")
		}
		return rec, nil
	}
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

// completionHistory lists the newest n deliveries of the history the
// command line being completed points at (its --history-dir, else the
// configured one).
func completionHistory(f *Factory, cmd *cobra.Command, n int) ([]store.Summary, error) {
	var h historyFlags
	if d, _ := cmd.Flags().GetString("history-dir"); d != "" {
		h.Dir = d
	} else if cfg, err := f.Config(); err == nil {
		h.resolve(cfg)
	}
	st, err := h.open(f)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.List(n)
}

func completeHistoryIDs(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err := completionHistory(f, cmd, 50)
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
