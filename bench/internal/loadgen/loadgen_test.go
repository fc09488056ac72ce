package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	s := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		p    float64
		want int64
	}{{50, 5}, {90, 9}, {95, 10}, {99, 10}, {100, 10}, {1, 1}, {10, 1}, {11, 2}} {
		if got := Percentile(s, c.p); got != c.want {
			t.Errorf("p%v = %d, want %d", c.p, got, c.want)
		}
	}
	if got := Percentile([]int64(nil), 50); got != 0 {
		t.Errorf("empty: %d", got)
	}
}

// server records the bodies and tokens it sees and answers with status.
func server(t *testing.T, status func(n int) int) (*httptest.Server, func() (bodies []string, auths map[string]int)) {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	auths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		auths[r.Header.Get("Authorization")]++
		n := len(bodies)
		mu.Unlock()
		w.WriteHeader(status(n))
	}))
	t.Cleanup(srv.Close)
	return srv, func() ([]string, map[string]int) {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bodies...), auths
	}
}

func seqBody(_ []byte, seq uint64) []byte { return []byte(strconv.FormatUint(seq, 10)) }

func TestRunBoundedByCount(t *testing.T) {
	srv, seen := server(t, func(int) int { return http.StatusOK })
	client := NewClient(4)
	defer client.CloseIdleConnections()
	r, err := Run(context.Background(), client, Config{
		URL: srv.URL, Token: "tok", Concurrency: 4, MaxRequests: 37, MaxDuration: 10 * time.Second,
		Body: seqBody, SeqBase: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	bodies, auths := seen()
	if r.OK != 37 || r.Failed != 0 || len(r.Latencies) != 37 || len(bodies) != 37 {
		t.Fatalf("ok %d failed %d latencies %d served %d, want 37 each", r.OK, r.Failed, len(r.Latencies), len(bodies))
	}
	if auths["Bearer tok"] != 37 {
		t.Errorf("authorization headers: %v", auths)
	}
	uniq := map[string]bool{}
	for _, b := range bodies {
		n, err := strconv.Atoi(b)
		if err != nil || n <= 1000 || n > 1037 {
			t.Errorf("body %q outside SeqBase+1..SeqBase+37", b)
		}
		uniq[b] = true
	}
	if len(uniq) != 37 {
		t.Errorf("%d distinct bodies, want 37", len(uniq))
	}
	for i := 1; i < len(r.Latencies); i++ {
		if r.Latencies[i] < r.Latencies[i-1] {
			t.Fatal("latencies not sorted")
		}
	}
	if r.Statuses[200] != 37 || r.Throughput() <= 0 {
		t.Errorf("statuses %v throughput %v", r.Statuses, r.Throughput())
	}
}

func TestRunCountsFailures(t *testing.T) {
	// Every third request fails.
	srv, _ := server(t, func(n int) int {
		if n%3 == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	r, err := Run(context.Background(), NewClient(1), Config{
		URL: srv.URL, Concurrency: 1, MaxRequests: 9, MaxDuration: 10 * time.Second, Body: seqBody,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != 6 || r.Failed != 3 || r.Statuses[500] != 3 || r.FirstError != "HTTP 500" {
		t.Fatalf("ok %d failed %d statuses %v first %q", r.OK, r.Failed, r.Statuses, r.FirstError)
	}
}

func TestRunCancelledInFlight(t *testing.T) {
	// A server that never answers: once both workers' requests arrived the
	// run is cancelled, and they count as unfinished, not as failures.
	arrived := make(chan struct{}, 2)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for handlers
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		<-arrived
		cancel()
	}()
	r, err := Run(ctx, NewClient(2), Config{
		URL: srv.URL, Concurrency: 2, MaxRequests: 1000, MaxDuration: time.Minute, Body: seqBody,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != 0 || r.Failed != 0 || r.Unfinished != 2 {
		t.Fatalf("ok %d failed %d unfinished %d, want 0/0/2", r.OK, r.Failed, r.Unfinished)
	}
}

func TestRunRejectsIncompleteConfig(t *testing.T) {
	if _, err := Run(context.Background(), NewClient(1), Config{URL: "http://127.0.0.1:1", Concurrency: 1}); err == nil {
		t.Fatal("want an error for a config without bounds and body")
	}
}

func TestRunOpenLoop(t *testing.T) {
	srv, seen := server(t, func(int) int { return http.StatusOK })
	r, err := Run(context.Background(), NewClient(3), Config{
		URL: srv.URL, Concurrency: 3, MaxRequests: 5, MaxDuration: time.Minute, Rate: 100, Body: seqBody,
	})
	if err != nil {
		t.Fatal(err)
	}
	bodies, _ := seen()
	if r.OK != 5 || len(bodies) != 5 || r.Failed+r.Unfinished != 0 {
		t.Fatalf("ok %d served %d failed %d unfinished %d, want 5 requests", r.OK, len(bodies), r.Failed, r.Unfinished)
	}
	if r.Latencies[0] <= 0 {
		t.Errorf("latency %v", r.Latencies[0])
	}
}
