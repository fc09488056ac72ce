package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sailresearch/sail/internal/exitcode"
	"github.com/sailresearch/sail/internal/iostreams"
)

// parsed is what one command line produced: the options runF received
// (nil when the line was refused before it), the exit code and stderr.
type parsed[O any] struct {
	opts   *O
	code   int
	stderr string
	f      *Factory // the factory the command was built with
}

// parseLine runs args (the whole line, e.g. "responses", "create", "hi")
// through a sail root holding only the command newCmd builds, under the
// groups named before it. runF records the options and returns: nothing
// runs, no port opens. env is the process environment (HOME defaults to a
// temporary directory).
func parseLine[O any](t *testing.T, env map[string]string, newCmd func(*Factory, func(context.Context, *O) error) *cobra.Command, args ...string) parsed[O] {
	t.Helper()
	f := flagsFactory(t, env)
	p := parsed[O]{f: f}
	cmd := newCmd(f, func(_ context.Context, o *O) error {
		p.opts = o
		return nil
	})
	parent := newRootCmd(f)
	root := parent
	for _, a := range args {
		if a == cmd.Name() {
			break
		}
		group := &cobra.Command{Use: a, Args: usageArgs(cobra.NoArgs)}
		parent.AddCommand(group)
		parent = group
	}
	parent.AddCommand(cmd)
	var errOut strings.Builder
	f.IO.ErrOut = &errOut
	root.SetErr(&errOut)
	p.code = execute(context.Background(), f, root, args)
	p.stderr = errOut.String()
	if p.code != 0 && p.opts != nil {
		t.Fatalf("%v: exit %d after runF was called", args, p.code)
	}
	return p
}

func flagsFactory(t *testing.T, env map[string]string) *Factory {
	t.Helper()
	streams, _, _, _ := iostreams.Test()
	all := map[string]string{"HOME": t.TempDir()}
	for k, v := range env {
		all[k] = v
	}
	return NewFactory(streams, func(k string) string { return all[k] })
}

// ok fails the test unless the line was accepted, and returns its options.
func (p parsed[O]) ok(t *testing.T) *O {
	t.Helper()
	if p.code != 0 || p.opts == nil {
		t.Fatalf("exit %d (runF called: %v), stderr %q", p.code, p.opts != nil, p.stderr)
	}
	return p.opts
}

// refused fails the test unless the line was refused before runF with
// code and a message holding want.
func (p parsed[O]) refused(t *testing.T, code int, want string) {
	t.Helper()
	if p.opts != nil || p.code != code || !strings.Contains(p.stderr, want) {
		t.Errorf("exit %d (runF called: %v), want exit %d with %q; stderr %q", p.code, p.opts != nil, code, want, p.stderr)
	}
}

func TestRootUsageErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `unknown command "nope" for "sail"`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"responses", "bogus"}, `unknown command "bogus" for "sail responses"`},
		{[]string{"batches", "lsit"}, `did you mean "list"?`},
		{[]string{"config", "sho"}, `unknown command "sho" for "sail config"`},
		{[]string{"help", "nope"}, "Unknown help topic"},
	} {
		code, out, errOut := runCLI(t, nil, c.args...)
		if c.args[0] == "help" {
			// cobra answers an unknown topic on stdout, exit 0, as git does.
			if code != exitcode.OK || !strings.Contains(out, c.want) {
				t.Errorf("%v: exit %d, stdout %q", c.args, code, out)
			}
			continue
		}
		if code != exitcode.Usage || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "--help") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q and a hint", c.args, code, errOut, c.want)
		}
	}
}
