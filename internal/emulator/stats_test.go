package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/testutil"
)

func TestStatsPeakActive(t *testing.T) {
	e, err := New(Options{Latency: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer e.Close(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/responses", strings.NewReader(`{"model":"moonshotai/Kimi-K2.5","input":"hi","background":true}`))
			req.Header.Set("Authorization", "Bearer k")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	resp, err := http.Get(srv.URL + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Created != 5 || st.PeakActive != 5 || st.Active != 5 {
		t.Fatalf("stats while all are queued: %+v", st)
	}
	testutil.WaitUntil(t, 10*time.Second, "every response to finish", func() bool { return e.Stats().Active == 0 })
	if got := e.Stats(); got.Active != 0 || got.PeakActive != 5 {
		t.Fatalf("stats after all finished: %+v", got)
	}
}
