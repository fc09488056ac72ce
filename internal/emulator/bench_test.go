package emulator

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDeliveries measures webhook throughput to a local receiver:
// creates go straight to the handler, deliveries over loopback TCP.
// Reported as deliveries/s (Sail's CLI needs ≥ 2000).
func BenchmarkDeliveries(b *testing.B) {
	var got atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	var ok atomic.Int64
	e := newEmulator(b, Options{MaxResponses: b.N + 1, Log: func(a Attempt) {
		if a.OK() {
			ok.Add(1)
		}
	}})
	body := []byte(`{"model":"zai-org/GLM-5","input":"What is 2+2?","background":true,"metadata":{"completion_webhook":"` + rcv.URL + `","webhook_token":"t"}}`)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		req := httptest.NewRequest(http.MethodPost, "/v1/responses", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
	}
	settle(b, e)
	elapsed := time.Since(start)
	b.StopTimer()
	if ok.Load() != int64(b.N) || got.Load() != int64(b.N) {
		b.Fatalf("%d successful attempts, %d received, want %d", ok.Load(), got.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
}
