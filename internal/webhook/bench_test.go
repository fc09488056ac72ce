package webhook

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/store"
)

// stamp writes n into the 8 digits after "resp_" so that every delivery
// has its own id (and is not a duplicate).
func stamp(body []byte, n int) {
	i := bytes.Index(body, []byte(`"resp_`)) + len(`"resp_`)
	copy(body[i:i+8], fmt.Sprintf("%08d", n%1e8))
}

// writes counts write(2) calls into the history, to see group commit work.
var writes atomic.Int64

type countingWriter struct{ w io.Writer }

func (c countingWriter) Write(p []byte) (int, error) { writes.Add(1); return c.w.Write(p) }

func benchStore(b *testing.B) *store.Store {
	st, err := store.Open(filepath.Join(b.TempDir(), "h"), store.Options{
		WrapWriter: func(w io.Writer) io.Writer { return countingWriter{w} },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkHandler measures the handler alone (no network): token check,
// JSON walk, redaction, dedupe hash, history write and event hand-off.
func BenchmarkHandler(b *testing.B) {
	for _, size := range []int{2 << 10, 200 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			r := NewReceiver(Options{Store: benchStore(b), Sink: event.Discard})
			r.Handle(Route{Path: "/h/a", Token: testToken})
			src := responseBody("resp_00000000", "completed", size-600)
			b.SetBytes(int64(len(src)))
			w := &discardWriter{h: http.Header{}}
			for i := 0; b.Loop(); i++ {
				stamp(src, i)
				req, _ := http.NewRequest("POST", "http://127.0.0.1/h/a", bytes.NewReader(src))
				req.Header.Set("Authorization", "Bearer "+testToken)
				req.Header.Set("Content-Type", "application/json")
				clear(w.h)
				r.ServeHTTP(w, req)
				if w.code != 200 {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

// BenchmarkThroughput compares, over loopback HTTP at concurrency 50 with
// 2 KB bodies, a bare net/http handler that reads the body and answers
// {"ok":true} with the receiver writing history. Compare the req/s
// metrics (or, on a busy machine, cpu-µs/req): the receiver is meant to
// reach at least 0.8× the bare handler's throughput.
func BenchmarkThroughput(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(okBody)
	})
	for _, tt := range []struct {
		name    string
		handler func(b *testing.B) http.Handler
	}{
		{"bare", func(*testing.B) http.Handler { return bare }},
		{"receiver", func(b *testing.B) http.Handler {
			r := NewReceiver(Options{Store: benchStore(b), Sink: event.Discard})
			r.Handle(Route{Path: "/h/a", Token: testToken})
			return r
		}},
		{"receiver-no-history", func(b *testing.B) http.Handler {
			r := NewReceiver(Options{Sink: event.Discard})
			r.Handle(Route{Path: "/h/a", Token: testToken})
			return r
		}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			base, stop := serve(b, tt.handler(b))
			defer stop()
			const conc = 50
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
			defer client.CloseIdleConnections()
			src := responseBody("resp_00000000", "completed", 2<<10-600)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0, writes0 := cpuTime(), writes.Load()
			for range conc {
				wg.Go(func() {
					body := bytes.Clone(src)
					for {
						n := next.Add(1)
						if n > int64(b.N) {
							return
						}
						stamp(body, int(n))
						req, _ := http.NewRequest("POST", base+"/h/a", bytes.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+testToken)
						req.Header.Set("Content-Type", "application/json")
						resp, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Error("status " + strconv.Itoa(resp.StatusCode))
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			// Client and server share the process: this is the CPU one
			// request costs both sides, the fairer number on a busy machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
			if w := writes.Load() - writes0; w > 0 {
				b.ReportMetric(float64(b.N)/float64(w), "records/write")
			}
		})
	}
}
