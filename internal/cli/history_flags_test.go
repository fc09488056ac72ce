package cli

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestHistoryFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, nil, NewCmdHistory, "history").ok(t)
	if o.Limit != 20 || o.Query.limit != 20 || o.JSON || o.Query.filtered() {
		t.Errorf("defaults: %+v", o)
	}

	o = parseLine(t, nil, NewCmdHistory, "history", "-n", "5", "--json", "--verdict", "MISMATCH", "--response", "resp_1", "--since", "1h").ok(t)
	if o.Query.limit != 5 || !o.JSON || o.Query.Verdict != "mismatch" || o.Query.Response != "resp_1" {
		t.Errorf("filters: %+v", o.Query)
	}
	if back := o.Now().Sub(o.Query.since); back < time.Hour || back > time.Hour+time.Minute {
		t.Errorf("--since 1h resolved to %v before now", back)
	}

	o = parseLine(t, nil, NewCmdHistory, "history", "--all", "--since", "2026-03-01").ok(t)
	if o.Query.limit != 0 || !o.Query.since.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)) {
		t.Errorf("--all --since: limit %d since %v", o.Query.limit, o.Query.since)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--all", "-n", "3"}, "--all and --limit are mutually exclusive"},
		{[]string{"-n", "0"}, "--limit 0: must be at least 1"},
		{[]string{"--verdict", "bad"}, `--verdict "bad": use ok, mismatch, missing or none`},
		{[]string{"--since", "-1h"}, "give a positive duration"},
		{[]string{"--since", "yesterday"}, `--since "yesterday": want a duration`},
		{[]string{"--limit", "many"}, `invalid argument "many"`},
		{[]string{"extra"}, "run 'sail history --help'"},
	} {
		parseLine(t, nil, NewCmdHistory, append([]string{"history"}, c.args...)...).refused(t, exitcode.Usage, c.want)
	}
}

// TestHistoryDirFlag: --history-dir wins over SAIL_HISTORY_DIR, which
// wins over the default under XDG_STATE_HOME.
func TestHistoryDirFlag(t *testing.T) {
	t.Parallel()
	flagDir, envDir := t.TempDir(), t.TempDir()
	o := parseLine(t, map[string]string{"SAIL_HISTORY_DIR": envDir}, NewCmdHistory, "history", "--history-dir", flagDir).ok(t)
	st, err := o.OpenHistory()
	if err != nil || st.Dir() != flagDir {
		t.Fatalf("--history-dir: %v, opened %q", err, st.Dir())
	}
	st.Close()
	o = parseLine(t, map[string]string{"SAIL_HISTORY_DIR": envDir}, NewCmdHistory, "history").ok(t)
	if st, err := o.OpenHistory(); err != nil || st.Dir() != envDir {
		t.Fatalf("SAIL_HISTORY_DIR: %v", err)
	} else {
		st.Close()
	}
	state := t.TempDir()
	o = parseLine(t, map[string]string{"XDG_STATE_HOME": state}, NewCmdHistory, "history").ok(t)
	if st, err := o.OpenHistory(); err != nil || st.Dir() != filepath.Join(state, "sail", "history") {
		t.Fatalf("default: %v", err)
	} else {
		st.Close()
	}
}

func TestHistoryShowFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, nil, NewCmdHistoryShow, "history", "show", "d_1", "--raw", "--history-dir", "/h").ok(t)
	if o.ID != "d_1" || o.Last || !o.Raw || o.JSON || o.Store.Dir != "/h" {
		t.Errorf("show d_1 --raw: %+v", o)
	}
	if o := parseLine(t, nil, NewCmdHistoryShow, "history", "show", "--last", "--json").ok(t); !o.Last || o.ID != "" || !o.JSON {
		t.Errorf("show --last --json: %+v", o)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"d_1", "--last"}, "give an ID or --last, not both"},
		{nil, "which delivery?"},
		{[]string{"--last", "--raw", "--json"}, "--raw and --json are mutually exclusive"},
		{[]string{"d_1", "d_2"}, "accepts at most 1 arg(s), received 2"},
	} {
		parseLine(t, nil, NewCmdHistoryShow, append([]string{"history", "show"}, c.args...)...).refused(t, exitcode.Usage, c.want)
	}
}
