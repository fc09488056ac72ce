// Command loadgen drives one webhook endpoint with the benchmark's load
// generator, for profiling a single cell by hand:
//
//	go build -o /tmp/bs ./bench/cmd/benchserver
//	/tmp/bs -mode receiver -token T -history /tmp/h -cpuprofile /tmp/cpu.out   # prints its URL
//	go run ./bench/cmd/loadgen -url URL -token T -size 204800 -c 50 -d 5s
//	# close the benchserver's stdin (Ctrl-D), then: go tool pprof /tmp/bs /tmp/cpu.out
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sailresearch/sail/bench/internal/fixture"
	"github.com/sailresearch/sail/bench/internal/loadgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", "", "endpoint to POST to (required)")
	token := flag.String("token", "", "bearer token, also written into the payload's metadata")
	size := flag.Int("size", 2<<10, "payload size in bytes")
	conc := flag.Int("c", 50, "concurrent workers")
	n := flag.Int("n", 1_000_000, "at most this many requests")
	d := flag.Duration("d", 5*time.Second, "at most this long")
	flag.Parse()
	if *url == "" {
		return fmt.Errorf("-url is required")
	}
	tpl, err := fixture.NewResponse(*size, *url, *token)
	if err != nil {
		return err
	}
	client := loadgen.NewClient(*conc)
	r, err := loadgen.Run(context.Background(), client, loadgen.Config{
		URL: *url, Token: *token, Concurrency: *conc, MaxRequests: *n, MaxDuration: *d,
		Body: tpl.Build, SeqBase: uint64(time.Now().UnixNano()),
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d ok, %d failed, %d cut off in %v: %.0f req/s, p50 %v, p99 %v, max %v\n",
		r.OK, r.Failed, r.Unfinished, r.Elapsed.Round(time.Millisecond), r.Throughput(),
		r.Percentile(50), r.Percentile(99), r.Percentile(100))
	if r.FirstError != "" {
		fmt.Println("first error:", r.FirstError)
	}
	return nil
}
