package cli

import (
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/exitcode"
)

func TestReplayFlags(t *testing.T) {
	t.Parallel()
	o := parseLine(t, map[string]string{"EDITOR": "nano"}, NewCmdReplay, "replay", "--last", "--to", "http://127.0.0.1:3000/hook").ok(t)
	if !o.Last || o.ID != "" || o.To != "http://127.0.0.1:3000/hook" || o.Timeout != 30*time.Second || o.Edit || o.Set != nil || o.Env("EDITOR") != "nano" {
		t.Errorf("replay --last: %+v", o)
	}
	o = parseLine(t, nil, NewCmdReplay, "replay", "d_1", "--to", "https://app.example.com/h", "--token", "s3cret-webhook-token",
		"--timeout", "5s", "--edit", "--set", "status=failed", "--set", "output=[]", "--history-dir", "/h").ok(t)
	if o.ID != "d_1" || o.Token != "s3cret-webhook-token" || o.Timeout != 5*time.Second || !o.Edit || len(o.Set) != 2 || o.Set[1] != "output=[]" || o.Store.Dir != "/h" {
		t.Errorf("replay d_1 with every flag: %+v", o)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--last"}, "--to URL is required"},
		{[]string{"--last", "--to", "localhost:3000"}, `--to "localhost:3000" is not an absolute http(s) URL`},
		{[]string{"--last", "--to", "ftp://h/x"}, "is not an absolute http(s) URL"},
		{[]string{"d_1", "--last", "--to", "http://h/x"}, "give an ID or --last, not both"},
		{[]string{"--to", "http://h/x"}, "which delivery?"},
		{[]string{"d_1", "d_2", "--to", "http://h/x"}, "accepts at most 1 arg(s)"},
		{[]string{"--last", "--to", "http://h/x", "--timeout", "1"}, `invalid argument "1" for "--timeout"`},
	} {
		parseLine(t, nil, NewCmdReplay, append([]string{"replay"}, c.args...)...).refused(t, exitcode.Usage, c.want)
	}
}
