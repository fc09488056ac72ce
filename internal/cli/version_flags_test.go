package cli

import (
	"testing"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestVersionFlags(t *testing.T) {
	t.Parallel()
	if o := parseLine(t, nil, NewCmdVersion, "version").ok(t); o.JSON || o.IO == nil {
		t.Errorf("version: %+v", o)
	}
	if o := parseLine(t, nil, NewCmdVersion, "version", "--json").ok(t); !o.JSON {
		t.Error("--json not set")
	}
	parseLine(t, nil, NewCmdVersion, "version", "extra").refused(t, exitcode.Usage, `unknown command "extra" for "sail version"`)
	parseLine(t, nil, NewCmdVersion, "version", "--bogus").refused(t, exitcode.Usage, "unknown flag: --bogus")
}
