package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sailresearch/sail/internal/testutil"
	"go.uber.org/goleak"

	"github.com/sailresearch/sail/internal/event"
)

// scriptDir holds the end-to-end scripts.
const scriptDir = "../../testdata/script"

func TestMain(m *testing.M) {
	testscript.Main(scriptsM{m}, map[string]func(){"sail": main})
}

// scriptsM runs every script at once, and fails the run if the harness
// (its proxies and apps) leaves a goroutine running.
//
// A script spends most of its time waiting: for an emulator's latency, a
// poll interval, an SDK's retry backoff. With go test's default of one
// parallel test per CPU, the scripts took turns at waiting, and the longest
// ones, which sort late, waited for a turn first. An explicit -parallel
// still wins.
type scriptsM struct{ m *testing.M }

func (s scriptsM) Run() int {
	scripts, err := filepath.Glob(filepath.Join(scriptDir, "*.txtar"))
	if err != nil {
		panic(err)
	}
	testutil.DefaultParallel(max(len(scripts), runtime.GOMAXPROCS(0)))
	code := s.m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	return code
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: the real
// sail binary against its own emulator and receivers, on loopback only.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: scriptDir,
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
			"posth":    cmdPostHeaders,
			"exits":    cmdExits,
			"setjson":  cmdSetJSON,
			"events":   cmdEvents,
			"count":    cmdCount,
			"httpget":  cmdHTTPGet,
			"sleep":    cmdSleep,
			// Fault and secret tests (faults_*.txtar, secrets_*.txtar).
			"freeport":  cmdFreePort,
			"proxy":     cmdProxy,
			"waitmatch": cmdWaitMatch,
			"jsonget":   cmdJSONGet,
			"perms":     cmdPerms,
			"noleak":    cmdNoLeak,
			// The history under attack (history_*.txtar).
			"flood": cmdFlood,
			"mode":  cmdMode,
			// Sail batches (sail_batch*.txtar).
			"genjsonl": cmdGenJSONL,
			"sameids":  cmdSameIDs,
			"setmatch": cmdSetMatch,
			// A stand-in for the user's app (trigger, forwarding, replay).
			"app": cmdApp,
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

// posth URL FILE NAME=VALUE...: like post, with these request headers
// (Authorization among them, if wanted).
func cmdPostHeaders(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: posth URL FILE NAME=VALUE...")
	}
	body, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	req, err := http.NewRequest(http.MethodPost, args[0], bytes.NewReader(body))
	ts.Check(err)
	for _, h := range args[2:] {
		name, value, ok := strings.Cut(h, "=")
		if !ok {
			ts.Fatalf("posth: %q is not NAME=VALUE", h)
		}
		req.Header.Set(name, value)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(ts.Stdout(), "status %d\n%s\n", resp.StatusCode, answer)
	if ok := resp.StatusCode < 300; ok == neg {
		ts.Fatalf("posth answered %d", resp.StatusCode)
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

// freeport VAR: set VAR to 127.0.0.1:PORT for a loopback port that was free
// a moment ago, for a receiver that must come back on the same address.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := ln.Addr().String()
	ts.Check(ln.Close())
	ts.Setenv(args[0], addr)
}

// proxy URLFILE TARGET [-lose N] [-log FILE] [-bodies FILE]: serve a
// loopback reverse proxy to TARGET until the script ends and write its URL
// (TARGET's path on the proxy's address) to URLFILE. Each request is passed
// on as it came (method, path, headers, body). -lose N forwards the first N
// requests and then answers the client 502 whatever the target said: the
// acknowledgement lost on the way back that makes a sender retry a delivery
// the receiver already stored. -log appends "N STATUS" per request once the
// target answered (STATUS is "error" when it could not be reached), -bodies
// each request body on one line.
func cmdProxy(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: proxy URLFILE TARGET [-lose N] [-log FILE] [-bodies FILE]")
	}
	target, err := url.Parse(args[1])
	ts.Check(err)
	lose := 0
	var logFile, bodiesFile string
	for rest := args[2:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 {
			ts.Fatalf("proxy: %s needs a value", rest[0])
		}
		switch rest[0] {
		case "-lose":
			lose, err = strconv.Atoi(rest[1])
			ts.Check(err)
		case "-log":
			logFile = ts.MkAbs(rest[1])
		case "-bodies":
			bodiesFile = ts.MkAbs(rest[1])
		default:
			ts.Fatalf("proxy: unknown option %s", rest[0])
		}
	}
	appendLine := func(file, line string) {
		if file == "" {
			return
		}
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return
		}
		defer f.Close()
		f.WriteString(line + "\n")
	}
	var mu sync.Mutex // one request at a time: numbered, logged in order
	n := 0
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		appendLine(bodiesFile, string(bytes.ReplaceAll(body, []byte("\n"), nil)))
		u := *target
		u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
		req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			appendLine(logFile, fmt.Sprintf("%d error", n))
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		appendLine(logFile, fmt.Sprintf("%d %d", n, resp.StatusCode))
		if n <= lose {
			http.Error(w, "proxy: acknowledgement lost", http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte("http://"+ln.Addr().String()+target.Path+"\n"), 0o600))
}

// waitmatch FILE REGEXP: wait (up to 20s) until FILE's content matches
// REGEXP (multi-line mode: ^ and $ match at line breaks).
func cmdWaitMatch(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: waitmatch FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	deadline := time.Now().Add(20 * time.Second)
	var b []byte
	for time.Now().Before(deadline) {
		if b, err = os.ReadFile(ts.MkAbs(args[0])); err == nil && re.Match(b) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("%s did not match %q within 20s; it holds:\n%s", args[0], args[1], b)
}

// jsonget VAR FILE PATH [REGEXP]: set VAR to the string at the dotted PATH
// (e.g. metadata.webhook_token) of the first line of FILE, a file of JSON
// objects one per line, that has one; with REGEXP, the value must match it.
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 || len(args) > 4 || neg {
		ts.Fatalf("usage: jsonget VAR FILE PATH [REGEXP]")
	}
	for _, line := range strings.Split(ts.ReadFile(args[1]), "\n") {
		var v any
		if json.Unmarshal([]byte(line), &v) != nil {
			continue
		}
		for _, k := range strings.Split(args[2], ".") {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		s, ok := v.(string)
		if !ok {
			continue
		}
		if len(args) == 4 && !regexp.MustCompile(args[3]).MatchString(s) {
			ts.Fatalf("%s in %s is %d characters that do not match %s", args[2], args[1], len(s), args[3])
		}
		ts.Setenv(args[0], s)
		return
	}
	ts.Fatalf("no line of %s has a string at %s", args[1], args[2])
}

// perms DIR DIRMODE FILEMODE: DIR holds at least one file, and DIR and every
// directory under it have permission bits DIRMODE, every file FILEMODE
// (octal, e.g. 700 600).
func cmdPerms(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: perms DIR DIRMODE FILEMODE")
	}
	dirMode, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fileMode, err := strconv.ParseUint(args[2], 8, 32)
	ts.Check(err)
	files := 0
	ts.Check(filepath.WalkDir(ts.MkAbs(args[0]), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(fileMode)
		if d.IsDir() {
			want = os.FileMode(dirMode)
		} else {
			files++
		}
		if got := info.Mode().Perm(); got != want {
			ts.Fatalf("%s has mode %#o, want %#o", p, got, want)
		}
		return nil
	}))
	if files == 0 {
		ts.Fatalf("%s holds no files", args[0])
	}
}

// noleak PATH VALUE...: PATH (a file, or a directory searched recursively)
// exists and no file in it contains any VALUE. Hits are reported by file,
// never by printing the value.
func cmdNoLeak(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: noleak PATH VALUE...")
	}
	for i, v := range args[1:] {
		if len(v) < 8 {
			ts.Fatalf("noleak: value %d is only %d characters: too short to mean anything", i+1, len(v))
		}
	}
	files := 0
	ts.Check(filepath.WalkDir(ts.MkAbs(args[0]), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, v := range args[1:] {
			if bytes.Contains(b, []byte(v)) {
				ts.Fatalf("%s contains secret value %d in clear", p, i+1)
			}
		}
		return nil
	}))
	if files == 0 {
		ts.Fatalf("noleak: %s holds no files to search", args[0])
	}
}

// app URLFILE [-status N] [-log FILE]: serve a loopback app until the script
// ends and write its URL (path /hook) to URLFILE. Every request gets status
// N (default 200), the header X-App: recorded and the body "app says hi";
// -log appends one JSON object per request: {"n","method","headers","body"}
// (headers flattened to one value each).
func cmdApp(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || neg {
		ts.Fatalf("usage: app URLFILE [-status N] [-log FILE]")
	}
	status := http.StatusOK
	var logFile string
	for rest := args[1:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 {
			ts.Fatalf("app: %s needs a value", rest[0])
		}
		switch rest[0] {
		case "-status":
			var err error
			status, err = strconv.Atoi(rest[1])
			ts.Check(err)
		case "-log":
			logFile = ts.MkAbs(rest[1])
		default:
			ts.Fatalf("app: unknown option %s", rest[0])
		}
	}
	var mu sync.Mutex
	n := 0
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		mu.Lock()
		n++
		hdr := map[string]string{}
		for k, v := range r.Header {
			hdr[k] = strings.Join(v, ", ")
		}
		line, _ := json.Marshal(map[string]any{"n": n, "method": r.Method, "headers": hdr, "body": string(body)})
		if logFile != "" {
			if f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
				f.Write(append(line, '\n'))
				f.Close()
			}
		}
		mu.Unlock()
		w.Header().Set("X-App", "recorded")
		w.WriteHeader(status)
		io.WriteString(w, "app says hi")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte("http://"+ln.Addr().String()+"/hook\n"), 0o600))
}
