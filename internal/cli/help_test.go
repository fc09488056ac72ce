package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/iostreams"
)

// helpRoot is the command tree as a user's shell sees it, with the
// commands cobra adds lazily at Execute (completion and its shells).
func helpRoot(t *testing.T) *cobra.Command {
	t.Helper()
	io, _, _, _ := iostreams.Test()
	root := NewRootCmd(NewFactory(io, func(string) string { return "" }))
	root.InitDefaultCompletionCmd()
	return root
}

// walkCommands calls fn on c and every command below it.
func walkCommands(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walkCommands(sub, fn)
	}
}

// TestEveryCommandHasExamples: `sail X --help` always shows how X is used.
func TestEveryCommandHasExamples(t *testing.T) {
	t.Parallel()
	var missing []string
	n := 0
	walkCommands(helpRoot(t), func(c *cobra.Command) {
		if !c.Runnable() || c.Hidden || !c.IsAvailableCommand() && c.HasParent() {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			missing = append(missing, c.CommandPath())
		}
	})
	if n < 15 {
		t.Fatalf("walked only %d runnable commands; is the tree wired?", n)
	}
	if len(missing) > 0 {
		t.Fatalf("%d commands have no Example in --help:\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
}

// TestExamplesAreIndented: cobra prints Example verbatim under "Examples:";
// every line of every command's examples is indented like sail's own
// (two spaces), so the help reads as one block.
func TestExamplesAreIndented(t *testing.T) {
	t.Parallel()
	walkCommands(helpRoot(t), func(c *cobra.Command) {
		for _, l := range strings.Split(c.Example, "\n") {
			if l != "" && !strings.HasPrefix(l, "  ") {
				t.Errorf("%s: example line %q is not indented by two spaces", c.CommandPath(), l)
			}
		}
	})
}

// TestHelpShowsExamples runs --help through Execute for each command with
// examples, as a user would, and checks the section is printed.
func TestHelpShowsExamples(t *testing.T) {
	t.Parallel()
	var paths [][]string
	walkCommands(helpRoot(t), func(c *cobra.Command) {
		if c.Example != "" && c.IsAvailableCommand() {
			paths = append(paths, strings.Fields(c.CommandPath())[1:])
		}
	})
	for _, p := range paths {
		code, out, errOut := runCLI(t, nil, append(p, "--help")...)
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("sail %s --help: exit %d, no Examples section (stderr %q)", strings.Join(p, " "), code, errOut)
		}
	}
}

// complete asks sail for completions the way the shell scripts do
// (`sail __complete ARGS… PARTIAL`) and returns the candidates (without
// descriptions) and the directive line.
func complete(t *testing.T, env map[string]string, args ...string) ([]string, string) {
	t.Helper()
	code, out, errOut := runCLI(t, env, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d, stderr %q", args, code, errOut)
	}
	var got []string
	directive := ""
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.HasPrefix(l, ":") {
			directive = l
			continue
		}
		if l != "" {
			v, _, _ := strings.Cut(l, "\t")
			got = append(got, v)
		}
	}
	return got, directive
}

func TestCompleteFixedFlagValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--endpoint", ""}, "responses chat messages"},
		{[]string{"run", "-e", ""}, "responses chat messages"},
		{[]string{"responses", "create", "--endpoint", ""}, "responses chat messages"},
		{[]string{"run", "--tunnel", ""}, "auto local ngrok public"},
		{[]string{"listen", "--tunnel", ""}, "auto local ngrok public"},
		{[]string{"run", "--output", ""}, "events text payload"},
		{[]string{"run", "--emulator-outcome", ""}, "completed failed incomplete cancelled"},
		{[]string{"emulator", "--outcome", ""}, "completed failed incomplete cancelled"},
		{[]string{"emulator", "--status-names", ""}, "sail openai"},
		{[]string{"run", "--emulator-status-names", ""}, "sail openai"},
		{[]string{"run", "--completion-window", ""}, "asap priority standard flex"},
		{[]string{"responses", "create", "--completion-window", ""}, "asap priority standard flex"},
		{[]string{"run", "--reasoning-effort", ""}, "none minimal low medium high xhigh max"},
		{[]string{"responses", "create", "--reasoning-effort", ""}, "none minimal low medium high xhigh max"},
	} {
		got, dir := complete(t, nil, tc.args...)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%v: got %q, want %q", tc.args, got, tc.want)
		}
		// Value flags never fall back to file names.
		if dir != ":4" {
			t.Errorf("%v: directive %q, want :4 (no file completion)", tc.args, dir)
		}
	}
}

func TestCompleteModels(t *testing.T) {
	t.Parallel()
	got, _ := complete(t, nil, "run", "--model", "")
	if len(got) < 6 || got[0] != "moonshotai/Kimi-K2.5" || !contains(got, "zai-org/GLM-5") {
		t.Errorf("default models: %q", got)
	}
	env := map[string]string{"SAIL_MODELS": "acme/small, acme/large"}
	for _, args := range [][]string{{"run", "--model", ""}, {"run", "-m", ""}, {"responses", "create", "--model", ""}} {
		got, dir := complete(t, env, args...)
		if strings.Join(got, " ") != "acme/small acme/large" || dir != ":4" {
			t.Errorf("%v with SAIL_MODELS: got %q %s", args, got, dir)
		}
	}
}

// TestCompleteHistoryIDs records a real delivery (sail run --webhook
// against the embedded emulator) and expects its id to be offered by
// replay and history show.
func TestCompleteHistoryIDs(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	env := map[string]string{"XDG_STATE_HOME": state}
	if code, _, errOut := runCLI(t, env, "run", "--webhook", "--emulator", "--json", "What is 2+2?"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	code, out, _ := runCLI(t, env, "history", "--json")
	var id string
	if code == 0 {
		if _, rest, ok := strings.Cut(out, `"id":"`); ok {
			id, _, _ = strings.Cut(rest, `"`)
		}
	}
	if id == "" {
		t.Fatalf("no id in history --json: %q", out)
	}
	for _, args := range [][]string{{"replay", ""}, {"history", "show", ""}, {"replay", "--to", "http://127.0.0.1:1/", ""}} {
		got, dir := complete(t, env, args...)
		if len(got) != 1 || got[0] != id || dir != ":4" {
			t.Errorf("%v: got %q %s, want [%s] :4", args, got, dir, id)
		}
	}
	// Only one ID is taken: nothing more after it.
	if got, _ := complete(t, env, "replay", id, ""); len(got) != 0 {
		t.Errorf("second argument offered %q", got)
	}
	// --history-dir points completion elsewhere.
	if got, _ := complete(t, env, "replay", "--history-dir", t.TempDir(), ""); len(got) != 0 {
		t.Errorf("empty --history-dir offered %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestUnknownSubcommandOfGroup: a typo under a command group is a usage
// error (exit 2) naming the group, not its help with exit 0.
func TestUnknownSubcommandOfGroup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"responses", "gte", "resp_1"}, `unknown command "gte" for "sail responses"; did you mean "get"?`},
		{[]string{"r", "bogus"}, `unknown command "bogus" for "sail responses"`},
		{[]string{"config", "shw"}, `did you mean "show"?`},
		{[]string{"completion", "zhs"}, `unknown command "zhs" for "sail completion"`},
	} {
		code, out, errOut := runCLI(t, nil, tc.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "--help") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
	// The group alone, or with --help, still shows its help.
	for _, args := range [][]string{{"responses"}, {"responses", "--help"}, {"help", "responses"}} {
		if code, out, _ := runCLI(t, nil, args...); code != 0 || !strings.Contains(out, "Available Commands:") {
			t.Errorf("%v: exit %d, out %q", args, code, out)
		}
	}
}
