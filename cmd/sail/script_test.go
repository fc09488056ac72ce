package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sailresearch/sail/internal/event"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"sail": main})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: the real
// sail binary against its own emulator and receivers, on loopback only.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			// A clean, private environment: no real keys, no user config.
			for _, k := range []string{"SAIL_API_KEY", "SAIL_API_URL", "NGROK_AUTHTOKEN", "SAIL_MODEL", "NO_COLOR"} {
				env.Setenv(k, "")
			}
			env.Setenv("HOME", env.WorkDir+"/home")
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/home/.config")
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/home/.state")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": cmdWaitFile,
			"envfile":  cmdEnvFile,
			"post":     cmdPost,
			"exits":    cmdExits,
			"setjson":  cmdSetJSON,
			"events":   cmdEvents,
			"count":    cmdCount,
			"httpget":  cmdHTTPGet,
			"sleep":    cmdSleep,
		},
	})
}

// waitfile FILE: wait (up to 20s) until FILE exists and is not empty.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: waitfile FILE")
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("%s did not appear within 20s", args[0])
}

// envfile VAR FILE [SUFFIX]: set VAR to FILE's trimmed content plus SUFFIX.
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 || neg {
		ts.Fatalf("usage: envfile VAR FILE [SUFFIX]")
	}
	b, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	v := strings.TrimSpace(string(b))
	if len(args) == 3 {
		v += args[2]
	}
	ts.Setenv(args[0], v)
}

// post URL FILE [TOKEN]: POST FILE's content as JSON and print "status N"
// and the answer body on stdout, like a minimal curl.
func cmdPost(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: post URL FILE [TOKEN]")
	}
	body, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	req, err := http.NewRequest(http.MethodPost, args[0], bytes.NewReader(body))
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json")
	if len(args) == 3 {
		req.Header.Set("Authorization", "Bearer "+args[2])
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(ts.Stdout(), "status %d\n%s\n", resp.StatusCode, answer)
	if ok := resp.StatusCode < 300; ok == neg {
		ts.Fatalf("post answered %d", resp.StatusCode)
	}
}

// exits N COMMAND ARGS...: run COMMAND and require exit code N; its stdout
// and stderr are then checked with the stdout and stderr commands.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: exits N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exec %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// setjson VAR KEY: set VAR to the string at top-level KEY of the JSON object
// the last command printed on stdout.
func cmdSetJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: setjson VAR KEY")
	}
	var m map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile("stdout")), &m))
	v, ok := m[args[1]].(string)
	if !ok {
		ts.Fatalf("stdout has no string %q", args[1])
	}
	ts.Setenv(args[0], v)
}

// events FILE KIND...: FILE (or stdout) holds NDJSON events that decode
// under the published contract, and their types, leaving out status and
// notice events, are exactly KIND... in order.
func cmdEvents(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || neg {
		ts.Fatalf("usage: events FILE KIND...")
	}
	var got []string
	for i, line := range strings.Split(strings.TrimSpace(ts.ReadFile(args[0])), "\n") {
		if line == "" {
			continue
		}
		e, err := event.Decode([]byte(line))
		if err != nil {
			ts.Fatalf("line %d: %v", i+1, err)
		}
		if k := e.Kind(); k != event.KindStatus && k != event.KindNotice {
			got = append(got, string(k))
		}
	}
	if strings.Join(got, " ") != strings.Join(args[1:], " ") {
		ts.Fatalf("event kinds\n got: %s\nwant: %s", strings.Join(got, " "), strings.Join(args[1:], " "))
	}
}

// count FILE: print the number of non-empty lines in FILE.
func cmdCount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: count FILE")
	}
	n := 0
	for _, l := range strings.Split(ts.ReadFile(args[0]), "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	fmt.Fprintf(ts.Stdout(), "%d\n", n)
}

// httpget URL: GET URL and print the body on stdout.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: httpget URL")
	}
	u, err := url.Parse(args[0])
	ts.Check(err)
	u.Path = path.Clean(u.Path)
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u.String())
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "status %d\n%s\n", resp.StatusCode, b)
}

// sleep DURATION: give a background command time to get somewhere the
// script cannot observe (e.g. past a create call).
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}
