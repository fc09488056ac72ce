package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/render"
	"github.com/sailresearch/sail/internal/store"
)

// historyQuery is what `sail history` filters on.
type historyQuery struct {
	Response string
	Verdict  string
	Since    string
	All      bool

	limit int       // resolved --limit; 0 with --all
	since time.Time // resolved --since; zero when not given
}

var historyVerdicts = []string{
	event.VerdictOK + "\tthe expected token",
	event.VerdictMismatch + "\ta wrong token (401)",
	event.VerdictMissing + "\tno token where one was expected (401)",
	event.VerdictNone + "\tno token expected",
}

func (q *historyQuery) register(cmd *cobra.Command, f *Factory) {
	fl := cmd.Flags()
	fl.StringVar(&q.Response, "response", "", "only deliveries of this response `ID`")
	fl.StringVar(&q.Verdict, "verdict", "", "only this token verdict: ok, mismatch, missing or none")
	fl.StringVar(&q.Since, "since", "", "only deliveries received since a `DURATION` ago (1h) or a time (2026-03-01T15:04:05Z)")
	fl.BoolVar(&q.All, "all", false, "list every match (no --limit)")
	_ = cmd.RegisterFlagCompletionFunc("verdict", cobra.FixedCompletions(historyVerdicts, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("response", completeHistoryResponses(f))
	_ = cmd.RegisterFlagCompletionFunc("since", cobra.FixedCompletions([]string{"15m", "1h", "24h", "168h"}, cobra.ShellCompDirectiveNoFileComp))
}

// parse checks the flags; limit is --limit as given.
func (q *historyQuery) parse(cmd *cobra.Command, now time.Time, limit int) error {
	switch {
	case q.All && cmd.Flags().Changed("limit"):
		return usageError(cmd, errors.New("--all and --limit are mutually exclusive"))
	case q.All:
		q.limit = 0
	case limit < 1:
		return usageError(cmd, fmt.Errorf("--limit %d: must be at least 1 (use --all for every delivery)", limit))
	default:
		q.limit = limit
	}
	if q.Verdict != "" {
		switch q.Verdict = strings.ToLower(q.Verdict); q.Verdict {
		case event.VerdictOK, event.VerdictMismatch, event.VerdictMissing, event.VerdictNone:
		default:
			return usageError(cmd, fmt.Errorf("--verdict %q: use ok, mismatch, missing or none", q.Verdict))
		}
	}
	if q.Since != "" {
		t, err := parseSince(q.Since, now)
		if err != nil {
			return usageError(cmd, err)
		}
		q.since = t
	}
	return nil
}

// parseSince accepts a duration back from now, or an absolute time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %s: give a positive duration, e.g. 1h", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (30m, 1h, 48h) or a time (2026-03-01, 2026-03-01T15:04:05Z)", s)
}

func (q *historyQuery) filtered() bool {
	return q.Response != "" || q.Verdict != "" || !q.since.IsZero()
}

// list returns the newest matches, at most q.limit (all with 0).
func (q *historyQuery) list(st *store.Store) ([]store.Summary, error) {
	if !q.filtered() {
		return st.List(q.limit)
	}
	all, err := st.List(0)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, s := range all {
		if q.limit > 0 && len(out) == q.limit {
			break
		}
		// Newest first: everything after the first one too old is older.
		if !q.since.IsZero() && s.ReceivedAt.Before(q.since) {
			break
		}
		if (q.Response == "" || s.ResponseID == q.Response) && (q.Verdict == "" || s.Verdict == q.Verdict) {
			out = append(out, s)
		}
	}
	return out, nil
}

// completeHistoryResponses offers the response ids in the history, newest
// first, each once.
func completeHistoryResponses(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		list, err := completionHistory(f, cmd, 500)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		seen := map[string]bool{}
		var out []string
		for _, s := range list {
			if s.ResponseID == "" || seen[s.ResponseID] {
				continue
			}
			seen[s.ResponseID] = true
			out = append(out, render.Sanitize(s.ResponseID)+"\t"+render.Sanitize(s.ResponseStatus)+" "+s.ReceivedAt.Local().Format("15:04:05"))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
