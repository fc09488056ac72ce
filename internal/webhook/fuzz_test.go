package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/store"
)

// FuzzReceiver throws arbitrary bodies and Authorization headers at the
// handler with a real history behind it. Properties: no panic; a 2xx only
// for a JSON object sent with the right token; every 2xx is in the store
// with the body as sent, minus the token; the answer is always JSON.
// Seeds live in testdata/fuzz/FuzzReceiver.
func FuzzReceiver(f *testing.F) {
	f.Add(responseBody("resp_1", "completed", 10), "Bearer "+testToken)
	f.Add([]byte(`{"id":"x","metadata":{"webhook_token":"`+testToken+`"}}`), "bearer "+testToken)
	f.Add([]byte(`[1,2]`), "Bearer "+testToken)
	f.Add([]byte(`{"a":`), "")
	f.Add([]byte(`"str"`), "Basic "+testToken)
	f.Add([]byte(` {"id":"\u0000"} `), "Bearer "+testToken+" ")

	dir := filepath.Join(f.TempDir(), "history")
	st, err := store.Open(dir, store.Options{Keep: 100})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	var rec event.Recorder
	r := NewReceiver(Options{Store: st, Sink: event.Discard, MaxBody: 1 << 16})
	r.Handle(Route{Path: "/h/a", Token: testToken, OnDelivery: func(d event.Delivery) { rec.Emit(d) }})

	f.Fuzz(func(t *testing.T, body []byte, auth string) {
		sent := bytes.Clone(body)
		req := httptest.NewRequest("POST", "http://127.0.0.1/h/a", bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if err := r.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(w.Body.Bytes()) && w.Code != http.StatusNoContent {
			t.Fatalf("answer %q is not JSON", w.Body)
		}
		evs := rec.Events()
		d := evs[len(evs)-1].(event.Delivery)
		if d.HTTPStatus != w.Code {
			t.Fatalf("event says %d, sender got %d", d.HTTPStatus, w.Code)
		}
		if w.Code < 200 || w.Code >= 300 {
			return
		}
		trimmed := bytes.TrimLeft(sent, " \t\r\n")
		if !json.Valid(sent) || len(trimmed) == 0 || trimmed[0] != '{' {
			t.Fatalf("accepted a body that is not a JSON object: %q", sent)
		}
		if CheckToken(auth, testToken) != event.VerdictOK {
			t.Fatalf("accepted auth %q", auth)
		}
		got, err := st.Get(d.RecordID)
		if err != nil {
			t.Fatalf("acknowledged delivery not in the store: %v", err)
		}
		if bytes.Contains(got.Body, []byte(testToken)) {
			t.Fatalf("stored body contains the token: %q", got.Body)
		}
		if !json.Valid(got.Body) || got.HTTPStatus != w.Code {
			t.Fatalf("stored record %+v body %q", got.Summary, got.Body)
		}
	})
}
