package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
)

// microPackages hold the Go microbenchmarks the report includes.
var microPackages = []string{"./internal/webhook", "./internal/payload", "./internal/jsondiff", "./internal/emulator", "./ui"}

// microExpected are the benchmarks the project asked for; any not found is
// listed in the report.
var microExpected = []string{"BenchmarkHandler", "BenchmarkCheckToken", "BenchmarkRedact", "BenchmarkCompare", "BenchmarkDeliveries", "BenchmarkFlood"}

// Micro is one `go test -bench` result line.
type Micro struct {
	Package string            `json:"package"`
	Name    string            `json:"name"`
	N       string            `json:"n"`
	Metrics map[string]string `json:"metrics"` // unit → value, e.g. "ns/op" → "1234"
	Order   []string          `json:"-"`       // units in the order printed
}

// micro runs the packages' benchmarks once each with a short benchtime.
func (c *config) micro(ctx context.Context, res *Results) error {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1",
		"-benchtime", c.microTime}, microPackages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = c.root
	out, err := cmd.CombinedOutput()
	res.MicroCommand = "go " + strings.Join(args, " ")
	res.Micro = parseBench(out)
	if err != nil {
		res.Problems = append(res.Problems, "microbenchmarks: "+err.Error()+": "+tail(out, 1500))
	}
	found := map[string]bool{}
	for _, m := range res.Micro {
		found[strings.SplitN(m.Name, "/", 2)[0]] = true
	}
	for _, want := range microExpected {
		if !found[want] {
			res.MicroMissing = append(res.MicroMissing, want)
		}
	}
	return nil
}

// parseBench reads `go test -bench` output: "pkg: …" lines name the
// package of the result lines that follow.
func parseBench(out []byte) []Micro {
	var ms []Micro
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "github.com/sailresearch/sail/")
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		m := Micro{Package: pkg, Name: trimProcs(f[0]), N: f[1], Metrics: map[string]string{}}
		for i := 2; i+1 < len(f); i += 2 {
			m.Metrics[f[i+1]] = f[i]
			m.Order = append(m.Order, f[i+1])
		}
		ms = append(ms, m)
	}
	return ms
}

// trimProcs drops the -GOMAXPROCS suffix go test appends to names.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return name
		}
	}
	return name[:i]
}
