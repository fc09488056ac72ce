package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// genjsonl FILE N [SLOWFROM]: write N batch lines {"custom_id":"qI",
// "input":"What is I+I?"} for I = 1..N; lines from SLOWFROM on ask the
// emulator for an hour of latency, so they are still running when the
// script interrupts the run.
func cmdGenJSONL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 || neg {
		ts.Fatalf("usage: genjsonl FILE N [SLOWFROM]")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	slow := n + 1
	if len(args) == 3 {
		slow, err = strconv.Atoi(args[2])
		ts.Check(err)
	}
	f, err := os.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	w := bufio.NewWriter(f)
	for i := 1; i <= n; i++ {
		md := ""
		if i >= slow {
			md = `,"metadata":{"sail_emulator":"latency=1h"}`
		}
		fmt.Fprintf(w, `{"custom_id":"q%d","input":"What is %d+%d?"%s}`+"\n", i, i, i, md)
	}
	ts.Check(w.Flush())
	ts.Check(f.Close())
}

// sameids INPUT RESULTS... [-ok]: the custom_ids of the result lines (only
// those with exit_code 0 with -ok) are exactly INPUT's, each once.
func cmdSameIDs(ts *testscript.TestScript, neg bool, args []string) {
	onlyOK := len(args) > 0 && args[len(args)-1] == "-ok"
	if onlyOK {
		args = args[:len(args)-1]
	}
	if len(args) < 2 || neg {
		ts.Fatalf("usage: sameids INPUT RESULTS... [-ok]")
	}
	want := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSpace(ts.ReadFile(args[0])), "\n") {
		var v struct {
			CustomID string `json:"custom_id"`
		}
		ts.Check(json.Unmarshal([]byte(line), &v))
		if v.CustomID == "" {
			ts.Fatalf("%s line %d has no custom_id", args[0], i+1)
		}
		want[v.CustomID] = true
	}
	seen := map[string]string{}
	for _, file := range args[1:] {
		for i, line := range strings.Split(strings.TrimSpace(ts.ReadFile(file)), "\n") {
			if line == "" {
				continue
			}
			var v struct {
				CustomID string `json:"custom_id"`
				ExitCode int    `json:"exit_code"`
			}
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				ts.Fatalf("%s line %d: %v", file, i+1, err)
			}
			if onlyOK && v.ExitCode != 0 {
				continue
			}
			where := fmt.Sprintf("%s line %d", file, i+1)
			if !want[v.CustomID] {
				ts.Fatalf("%s: custom_id %q is not in %s", where, v.CustomID, args[0])
			}
			if prev, ok := seen[v.CustomID]; ok {
				ts.Fatalf("%s: custom_id %q doubled (first at %s)", where, v.CustomID, prev)
			}
			seen[v.CustomID] = where
		}
	}
	for id := range want {
		if _, ok := seen[id]; !ok {
			ts.Fatalf("custom_id %q is missing from the results", id)
		}
	}
	fmt.Fprintf(ts.Stdout(), "%d custom_ids, each once\n", len(want))
}

// setmatch VAR FILE REGEXP: set VAR to the first submatch of REGEXP in
// FILE (stdout and stderr name the last command's output).
func cmdSetMatch(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: setmatch VAR FILE REGEXP")
	}
	m := regexp.MustCompile(args[2]).FindStringSubmatch(ts.ReadFile(args[1]))
	if len(m) < 2 {
		ts.Fatalf("%s does not match %s", args[1], args[2])
	}
	ts.Setenv(args[0], m[1])
}
