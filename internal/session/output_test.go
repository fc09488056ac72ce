package session

import (
	"testing"

	"github.com/sailresearch/sail/internal/iostreams"
)

// The output each command gets for each terminal: the table is the
// behaviour run and listen had before their rules became data.
func TestChoose(t *testing.T) {
	type term struct{ stdout, stderr, dumb bool }
	for _, tc := range []struct {
		name  string
		rules Rules
		term  term
		flags Flags
		want  Output
	}{
		{"run in a pipe", RunRules, term{}, Flags{}, Output{Stdout: Events}},
		{"run on a terminal", RunRules, term{true, true, false}, Flags{}, Output{Stdout: Text, View: true}},
		{"run --no-tui", RunRules, term{true, true, false}, Flags{NoTUI: true}, Output{Stdout: Text, Lines: Stderr}},
		{"run on TERM=dumb", RunRules, term{true, true, true}, Flags{}, Output{Stdout: Text, Lines: Stderr}},
		{"run --json on a terminal", RunRules, term{true, true, false}, Flags{JSON: true}, Output{Stdout: Events}},
		{"run piped with stderr on a terminal", RunRules, term{false, true, false}, Flags{}, Output{Stdout: Events, View: true}},
		{"run piped, stderr on TERM=dumb", RunRules, term{false, true, true}, Flags{}, Output{Stdout: Events, Lines: Stderr}},
		{"run stdout on a terminal, stderr not", RunRules, term{true, false, false}, Flags{}, Output{Stdout: Text}},
		{"run --output payload", RunRules, term{}, Flags{Out: Payload}, Output{Stdout: Payload}},
		{"listen in a pipe", ListenRules, term{}, Flags{}, Output{Stdout: Events}},
		{"listen on a terminal", ListenRules, term{true, true, false}, Flags{}, Output{View: true}},
		{"listen --no-tui", ListenRules, term{true, true, false}, Flags{NoTUI: true}, Output{Lines: Stdout}},
		{"listen on TERM=dumb", ListenRules, term{true, true, true}, Flags{}, Output{Lines: Stdout}},
		{"listen --json on a terminal", ListenRules, term{true, true, false}, Flags{JSON: true}, Output{Stdout: Events}},
		{"listen piped with stderr on a terminal", ListenRules, term{false, true, false}, Flags{}, Output{Stdout: Events, View: true}},
		{"listen piped, stderr on TERM=dumb", ListenRules, term{false, true, true}, Flags{}, Output{Stdout: Events}},
		{"listen stdout on a terminal, stderr not", ListenRules, term{true, false, false}, Flags{}, Output{Lines: Stdout}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _, _ := iostreams.Test()
			s.StdoutTTY, s.StderrTTY, s.NoCursor = tc.term.stdout, tc.term.stderr, tc.term.dumb
			if got := Choose(tc.rules, s, tc.flags); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
