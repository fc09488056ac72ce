package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
pkg: github.com/sailresearch/sail/internal/webhook
BenchmarkHandler/2KB-2         	   10000	     51234 ns/op	  40.00 MB/s	    4096 B/op	      12 allocs/op
BenchmarkCheckToken-2          	 1000000	       312 ns/op
PASS
pkg: github.com/sailresearch/sail/internal/emulator
BenchmarkDeliveries-2   	    5000	    201000 ns/op	      4975 deliveries/s
ok  	github.com/sailresearch/sail/internal/emulator	2.1s
`)
	ms := parseBench(out)
	if len(ms) != 3 {
		t.Fatalf("got %d results, want 3: %+v", len(ms), ms)
	}
	if ms[0].Package != "internal/webhook" || ms[0].Name != "BenchmarkHandler/2KB" || ms[0].Metrics["allocs/op"] != "12" {
		t.Errorf("first: %+v", ms[0])
	}
	if strings.Join(ms[0].Order, ",") != "ns/op,MB/s,B/op,allocs/op" {
		t.Errorf("order %v", ms[0].Order)
	}
	if ms[2].Package != "internal/emulator" || ms[2].Metrics["deliveries/s"] != "4975" {
		t.Errorf("last: %+v", ms[2])
	}
}

func TestUpdateFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "B.md")
	orig := "# Title\n\nprose\n\n" + beginMarker + "\nold table\n" + endMarker + "\n\nmore prose\n"
	if err := os.WriteFile(p, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateFile(p, "new table\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	got := string(b)
	if strings.Contains(got, "old table") || !strings.Contains(got, beginMarker+"\n\nnew table\n\n"+endMarker) ||
		!strings.HasPrefix(got, "# Title\n\nprose") || !strings.HasSuffix(got, "more prose\n") {
		t.Fatalf("got:\n%s", got)
	}
	if err := os.WriteFile(p, []byte("no markers"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateFile(p, "x"); err == nil {
		t.Error("want an error without markers")
	}
}

func TestReceiverCheck(t *testing.T) {
	ok := ReceiverCheck{Answered2xx: 5, Delivered: 5, VerifiedOK: 5, Stored: 5}
	if !ok.OK() {
		t.Error("consistent counts reported inconsistent")
	}
	for _, bad := range []ReceiverCheck{
		{Answered2xx: 5, Delivered: 5, VerifiedOK: 4, Stored: 5},
		{Answered2xx: 5, Delivered: 5, VerifiedOK: 5, Stored: 4},
		{Answered2xx: 5, Delivered: 5, VerifiedOK: 5, Stored: 5, Duplicates: 1},
	} {
		if bad.OK() {
			t.Errorf("%+v reported consistent", bad)
		}
	}
}

// TestBaselineReport checks what -baseline adds to the report: a target
// row on the worst cell's CPU per request against the baseline revision,
// judged without slack, and the cell-by-cell table.
func TestBaselineReport(t *testing.T) {
	r := &Results{Baseline: "abc1234"}
	for _, size := range payloadSizes {
		for _, conc := range concurrency {
			r.Receiver = append(r.Receiver,
				Cell{Target: "bare", Payload: size, Concurrency: conc, RPS: 1000, ServerCPUus: 40},
				Cell{Target: "receiver", Payload: size, Concurrency: conc, RPS: 500, ServerCPUus: 80},
				Cell{Target: "baseline", Payload: size, Concurrency: conc, RPS: 500, ServerCPUus: 80})
		}
	}
	md := r.Markdown()
	if !strings.Contains(md, "vs the receiver at `abc1234`") || !strings.Contains(md, "| **1.00×** | no worse (≤ 1.00×) | met |") {
		t.Fatalf("equal CPU should meet the row:\n%s", md)
	}
	if !strings.Contains(md, "| 2 KB | 50 | 80 | 80 | 1.00× | 2.00× | 2.00× | 1.00× |") {
		t.Errorf("table row missing:\n%s", md)
	}
	r.Receiver[4].ServerCPUus = 88 // receiver, 2 KB, concurrency 50
	if md := r.Markdown(); !strings.Contains(md, "(2 KB, conc. 50) | 88 µs | `abc1234` 80 µs | **1.10×** | no worse (≤ 1.00×) | **missed** |") {
		t.Errorf("a 10%% worse cell should miss the row:\n%s", md)
	}
	r.Baseline = ""
	for i := range r.Receiver {
		if r.Receiver[i].Target == "baseline" {
			r.Receiver[i].Target = "other"
		}
	}
	if md := r.Markdown(); strings.Contains(md, "vs the receiver at") || strings.Contains(md, "-baseline") {
		t.Errorf("no baseline cells, yet a baseline row or table:\n%s", md)
	}
}
