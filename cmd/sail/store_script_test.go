package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// flood URL N: POST N small JSON bodies ({"id":"junk_<i>"}) without a
// token, one after another, and require every answer to be 401, as a
// stranger who learnt the URL would.
func cmdFlood(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: flood URL N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	c := &http.Client{Timeout: 10 * time.Second}
	for i := range n {
		resp, err := c.Post(args[0], "application/json", strings.NewReader(fmt.Sprintf(`{"id":"junk_%d"}`, i)))
		if err != nil {
			ts.Fatalf("flood %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			ts.Fatalf("flood %d answered %d, want 401", i, resp.StatusCode)
		}
	}
}

// mode FILE MODE: FILE's permission bits are MODE (octal, e.g. 644).
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: mode FILE MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fi.Mode().Perm(); uint64(got) != want {
		ts.Fatalf("%s has mode %#o, want %#o", args[0], got, want)
	}
}
