package webhook

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/secret"
	"github.com/sailresearch/sail/internal/testutil"
)

func TestHandlerOutcomes(t *testing.T) {
	good := responseBody("resp_1", "completed", 20)
	tests := []struct {
		name       string
		method     string
		path       string
		body       []byte
		chunked    bool
		auth       string
		routeToken string
		maxBody    int64
		storeFails bool
		closed     bool

		wantStatus  int
		wantHeader  map[string]string
		wantError   string // substring of the JSON error; "" expects {"ok":true} or no body
		wantVerdict string // "" expects no Delivery event
		wantStored  bool
	}{
		{name: "accepted with token", method: "POST", path: "/h/a", body: good, auth: "Bearer " + testToken, routeToken: testToken,
			wantStatus: 200, wantVerdict: event.VerdictOK, wantStored: true},
		{name: "accepted, no token expected", method: "POST", path: "/h/a", body: good, auth: "Bearer whatever",
			wantStatus: 200, wantVerdict: event.VerdictNone, wantStored: true},
		{name: "bearer scheme is case-insensitive", method: "POST", path: "/h/a", body: good, auth: "bearer " + testToken, routeToken: testToken,
			wantStatus: 200, wantVerdict: event.VerdictOK, wantStored: true},
		{name: "invalid JSON", method: "POST", path: "/h/a", body: []byte(`{"id":`),
			wantStatus: 400, wantError: "not a JSON object", wantVerdict: event.VerdictNone, wantStored: true},
		{name: "JSON array", method: "POST", path: "/h/a", body: []byte(`[{"id":"resp_1"}]`),
			wantStatus: 400, wantError: "JSON array", wantVerdict: event.VerdictNone, wantStored: true},
		{name: "empty body", method: "POST", path: "/h/a", body: nil,
			wantStatus: 400, wantError: "empty", wantVerdict: event.VerdictNone, wantStored: true},
		{name: "token missing", method: "POST", path: "/h/a", body: good, routeToken: testToken,
			wantStatus: 401, wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="sail webhook"`},
			wantError: "no bearer token", wantVerdict: event.VerdictMissing, wantStored: true},
		{name: "token wrong", method: "POST", path: "/h/a", body: good, auth: "Bearer nope", routeToken: testToken,
			wantStatus: 401, wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="sail webhook"`},
			wantError: "wrong bearer token", wantVerdict: event.VerdictMismatch, wantStored: true},
		{name: "token wins over bad JSON", method: "POST", path: "/h/a", body: []byte("nope"), auth: "Basic abc", routeToken: testToken,
			wantStatus: 401, wantError: "wrong bearer token", wantVerdict: event.VerdictMismatch, wantStored: true},
		{name: "unknown path", method: "POST", path: "/h/other", body: good,
			wantStatus: 404, wantError: "no webhook endpoint"},
		{name: "GET on a webhook path", method: "GET", path: "/h/a",
			wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}, wantError: "POST"},
		{name: "PUT on a webhook path", method: "PUT", path: "/h/a", body: good,
			wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}, wantError: "POST"},
		{name: "too large by Content-Length", method: "POST", path: "/h/a", body: good, maxBody: 100,
			wantStatus: 413, wantError: "limit", wantVerdict: event.VerdictNone, wantStored: true},
		{name: "too large, chunked", method: "POST", path: "/h/a", body: good, chunked: true, maxBody: 100,
			wantStatus: 413, wantError: "limit", wantVerdict: event.VerdictNone, wantStored: true},
		{name: "exactly at the limit", method: "POST", path: "/h/a", body: good, maxBody: int64(len(good)),
			wantStatus: 200, wantVerdict: event.VerdictNone, wantStored: true},
		{name: "chunked within the limit", method: "POST", path: "/h/a", body: good, chunked: true,
			wantStatus: 200, wantVerdict: event.VerdictNone, wantStored: true},
		{name: "store fails", method: "POST", path: "/h/a", body: good, storeFails: true,
			wantStatus: 500, wantError: "disk full", wantVerdict: event.VerdictNone},
		{name: "store fails on a rejected delivery", method: "POST", path: "/h/a", body: good, routeToken: testToken, storeFails: true,
			wantStatus: 401, wantError: "no bearer token", wantVerdict: event.VerdictMissing},
		{name: "health", method: "GET", path: HealthPath,
			wantStatus: 200},
		{name: "health HEAD", method: "HEAD", path: HealthPath,
			wantStatus: 200},
		{name: "POST on health", method: "POST", path: HealthPath, body: good,
			wantStatus: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}, wantError: "GET"},
		{name: "closed receiver", method: "POST", path: "/h/a", body: good, closed: true,
			wantStatus: 503, wantError: "shutting down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saver := &memSaver{}
			if tt.storeFails {
				saver.setFail(errDisk)
			}
			var rec event.Recorder
			r := NewReceiver(Options{Store: saver, Sink: &rec, MaxBody: tt.maxBody})
			r.Handle(Route{Path: "/h/a", Token: tt.routeToken})
			if tt.closed {
				r.Close(context.Background())
			}
			var body = bytes.NewReader(tt.body)
			req := httptest.NewRequest(tt.method, "http://127.0.0.1"+tt.path, body)
			if tt.chunked {
				req = httptest.NewRequest(tt.method, "http://127.0.0.1"+tt.path, chunked{body})
				req.ContentLength = -1
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if err := r.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}

			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", w.Code, tt.wantStatus, w.Body)
			}
			for k, v := range tt.wantHeader {
				if got := w.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			ans := jsonAnswer(t, w.Body.Bytes())
			switch {
			case tt.wantError != "":
				if msg, _ := ans["error"].(string); !strings.Contains(msg, tt.wantError) {
					t.Errorf("error %q, want it to mention %q", msg, tt.wantError)
				}
			case tt.method != "HEAD":
				if ans["ok"] != true {
					t.Errorf("answer %s, want {\"ok\":true}", w.Body)
				}
			}

			ds := testutil.EventsOf[event.Delivery](&rec)
			if tt.wantVerdict == "" {
				if len(ds) != 0 || len(saver.records()) != 0 {
					t.Fatalf("no delivery expected, got events %+v, records %d", ds, len(saver.records()))
				}
				return
			}
			if len(ds) != 1 {
				t.Fatalf("%d delivery events, want 1", len(ds))
			}
			d := ds[0]
			if d.Verdict != tt.wantVerdict || d.HTTPStatus != tt.wantStatus {
				t.Errorf("event verdict %s status %d, want %s %d", d.Verdict, d.HTTPStatus, tt.wantVerdict, tt.wantStatus)
			}
			if (tt.wantStatus >= 300) != (d.Error != "") {
				t.Errorf("event error %q for status %d", d.Error, d.HTTPStatus)
			}
			recs := saver.records()
			if !tt.wantStored {
				if len(recs) != 0 || d.RecordID != "" {
					t.Fatalf("stored %d records (event record id %q), want none", len(recs), d.RecordID)
				}
				return
			}
			if len(recs) != 1 || recs[0].ID != d.RecordID {
				t.Fatalf("stored %d records, event points at %q", len(recs), d.RecordID)
			}
			sr := recs[0]
			if sr.HTTPStatus != tt.wantStatus || sr.Verdict != tt.wantVerdict || sr.Path != "/h/a" {
				t.Errorf("record %+v", sr.Summary)
			}
			if tt.wantStatus == 200 {
				if sr.ResponseID != "resp_1" || sr.ResponseStatus != "completed" || sr.DedupeKey == "" || d.Excerpt == "" || d.Attempt != 1 {
					t.Errorf("accepted record %+v / event %+v", sr.Summary, d)
				}
				if !bytes.Contains(sr.Body, []byte(`"webhook_token":"`+secret.Mask+`"`)) || bytes.Contains(sr.Body, []byte(testToken)) {
					t.Errorf("stored body not redacted: %s", sr.Body)
				}
			} else if sr.DedupeKey != "" {
				t.Errorf("rejected record has a dedupe key")
			}
		})
	}
}

func TestRejectedBodiesKeepAPrefix(t *testing.T) {
	saver := &memSaver{}
	r := NewReceiver(Options{Store: saver})
	r.Handle(Route{Path: "/h/a", Token: testToken})
	junk := bytes.Repeat([]byte("x"), 1<<20)
	big := responseBody("resp_1", "completed", 1<<20)
	post(r, "POST", "/h/a", junk, "Bearer "+testToken)
	post(r, "POST", "/h/a", big, "Bearer wrong")
	recs := saver.records()
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	if len(recs[0].Body) != invalidPrefix || !recs[0].Truncated || recs[0].Bytes != 1<<20 {
		t.Errorf("invalid body: kept %d bytes, truncated %v, bytes %d", len(recs[0].Body), recs[0].Truncated, recs[0].Bytes)
	}
	// An unauthorised sender's body is not even read beyond the prefix.
	if n := len(recs[1].Body); n > rejectedPrefix || n < rejectedPrefix-100 || !recs[1].Truncated || recs[1].Bytes != int64(len(big)) || recs[1].HTTPStatus != 401 {
		t.Errorf("unauthorised body: kept %d bytes, truncated %v, bytes %d", len(recs[1].Body), recs[1].Truncated, recs[1].Bytes)
	}
	if bytes.Contains(recs[1].Body, []byte(testToken)) {
		t.Error("token stored in clear")
	}
}

func TestDuplicatesAndAttempts(t *testing.T) {
	saver := &memSaver{}
	var rec event.Recorder
	r := NewReceiver(Options{Store: saver, Sink: &rec})
	r.Handle(Route{Path: "/h/a", Token: testToken})
	auth := "Bearer " + testToken
	steps := []struct {
		body      []byte
		auth      string
		status    int
		duplicate bool
		attempt   int
	}{
		{responseBody("resp_1", "completed", 10), "Bearer wrong", 401, false, 1},
		{responseBody("resp_1", "completed", 10), auth, 200, false, 2}, // a rejected attempt does not make it a duplicate
		{responseBody("resp_1", "completed", 10), auth, 200, true, 3},
		{responseBody("resp_1", "failed", 10), auth, 200, false, 4},    // other status
		{responseBody("resp_1", "completed", 11), auth, 200, false, 5}, // other body
		{responseBody("resp_2", "completed", 10), auth, 200, false, 1},
	}
	for i, st := range steps {
		w := post(r, "POST", "/h/a", st.body, st.auth)
		if w.Code != st.status {
			t.Fatalf("step %d: status %d want %d", i, w.Code, st.status)
		}
	}
	r.Wait(context.Background())
	ds := testutil.EventsOf[event.Delivery](&rec)
	recs := saver.records()
	if len(ds) != len(steps) || len(recs) != len(steps) {
		t.Fatalf("%d events, %d records, want %d", len(ds), len(recs), len(steps))
	}
	for i, st := range steps {
		if ds[i].Duplicate != st.duplicate || ds[i].Attempt != st.attempt || recs[i].Duplicate != st.duplicate {
			t.Errorf("step %d: duplicate %v attempt %d (record dup %v), want %v %d", i, ds[i].Duplicate, ds[i].Attempt, recs[i].Duplicate, st.duplicate, st.attempt)
		}
	}
}

func TestNoHistoryStillDedupes(t *testing.T) {
	var rec event.Recorder
	r := NewReceiver(Options{Sink: &rec})
	r.Handle(Route{Path: "/h/a"})
	body := responseBody("resp_1", "completed", 10)
	post(r, "POST", "/h/a", body, "")
	post(r, "POST", "/h/a", body, "")
	r.Wait(context.Background())
	ds := testutil.EventsOf[event.Delivery](&rec)
	if len(ds) != 2 || ds[0].Duplicate || !ds[1].Duplicate || ds[1].RecordID != "" || ds[1].HTTPStatus != 200 {
		t.Fatalf("events %+v", ds)
	}
}

// TestStoreFailureIsRetried: a 500 must not reserve the dedupe key, or the
// retry that Sail sends would be flagged as a duplicate of nothing.
func TestStoreFailureIsRetried(t *testing.T) {
	saver := &memSaver{}
	var rec event.Recorder
	r := NewReceiver(Options{Store: saver, Sink: &rec})
	r.Handle(Route{Path: "/h/a"})
	body := responseBody("resp_1", "completed", 10)
	saver.setFail(errDisk)
	if w := post(r, "POST", "/h/a", body, ""); w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	saver.setFail(nil)
	if w := post(r, "POST", "/h/a", body, ""); w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	r.Wait(context.Background())
	ds := testutil.EventsOf[event.Delivery](&rec)
	if len(ds) != 2 || ds[1].Duplicate || ds[1].Attempt != 2 || !strings.Contains(ds[0].Error, "disk full") {
		t.Fatalf("events %+v", ds)
	}
	if len(saver.records()) != 1 {
		t.Fatalf("%d records", len(saver.records()))
	}
}

func TestRoutes(t *testing.T) {
	var rec event.Recorder
	r := NewReceiver(Options{Sink: &rec})
	var got []string
	remove := r.Handle(Route{Path: "h/one", Token: "tok-one-12345678", OnDelivery: func(d event.Delivery) { got = append(got, "one:"+d.Verdict) }})
	r.Handle(Route{Path: "/h/two", OnDelivery: func(d event.Delivery) { got = append(got, "two:"+d.Verdict) }})
	body := responseBody("resp_1", "completed", 10)
	post(r, "POST", "/h/one", body, "Bearer tok-one-12345678")
	post(r, "POST", "/h/two", body, "")
	remove()
	remove() // idempotent
	if w := post(r, "POST", "/h/one", body, ""); w.Code != 404 {
		t.Fatalf("removed route answered %d", w.Code)
	}
	// Replacing a path: the old remove function no longer removes it.
	removeOld := r.Handle(Route{Path: "/h/x"})
	r.Handle(Route{Path: "/h/x", Token: "tok-new-12345678"})
	removeOld()
	if w := post(r, "POST", "/h/x", body, ""); w.Code != 401 {
		t.Fatalf("replaced route answered %d", w.Code)
	}
	r.Wait(context.Background())
	if strings.Join(got, ",") != "one:ok,two:none" {
		t.Fatalf("OnDelivery calls %v", got)
	}
}

func TestEventsFollowAnswerOrder(t *testing.T) {
	var rec event.Recorder
	var order []string
	r := NewReceiver(Options{Sink: event.SinkFunc(func(e event.Event) {
		rec.Emit(e)
		if d, ok := e.(event.Delivery); ok {
			order = append(order, "event:"+d.ResponseID)
		}
	})})
	r.Handle(Route{Path: "/h/a", OnDelivery: func(d event.Delivery) { order = append(order, "cb:"+d.ResponseID) }})
	for i := range 20 {
		post(r, "POST", "/h/a", responseBody("resp_"+string(rune('a'+i)), "completed", 5), "")
	}
	r.Wait(context.Background())
	if len(order) != 40 {
		t.Fatalf("%d calls", len(order))
	}
	for i := range 20 {
		id := "resp_" + string(rune('a'+i))
		if order[2*i] != "event:"+id || order[2*i+1] != "cb:"+id {
			t.Fatalf("order %v", order)
		}
	}
}

func TestDeliveryEventFields(t *testing.T) {
	var rec event.Recorder
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r := NewReceiver(Options{Store: &memSaver{}, Sink: &rec, Now: func() time.Time { return now }})
	r.Handle(Route{Path: "/h/a", Token: testToken})
	body := responseBody("resp_9", "running", 300)
	post(r, "POST", "/h/a", body, "Bearer "+testToken)
	r.Wait(context.Background())
	d := testutil.EventsOf[event.Delivery](&rec)[0]
	if d.RecordID != "d_0001" || d.Attempt != 1 || d.Verdict != "ok" || d.HTTPStatus != 200 || d.Bytes != int64(len(body)) ||
		d.Duplicate || !d.ReceivedAt.Equal(now) || d.RemoteAddr != "127.0.0.1:40000" || d.ResponseID != "resp_9" ||
		d.ResponseStatus != "in_progress" || d.Object != "response" || d.Model != "moonshotai/Kimi-K2.5" || d.Error != "" {
		t.Fatalf("event %+v", d)
	}
	if n := len([]rune(d.Excerpt)); !strings.HasPrefix(d.Excerpt, "The answer is 4. The answer") || n > 100 || n < 90 || !strings.HasSuffix(d.Excerpt, "…") {
		t.Errorf("excerpt %q", d.Excerpt)
	}
	if d.Headers["Authorization"] != "Bearer "+secret.Mask || d.Headers["Content-Type"] != "application/json" {
		t.Errorf("headers %v", d.Headers)
	}
	if bytes.Contains(d.Body, []byte(testToken)) || !bytes.Contains(d.Body, []byte(`"resp_9"`)) {
		t.Errorf("body %s", d.Body)
	}
}

func TestCheckToken(t *testing.T) {
	tests := []struct{ header, want, verdict string }{
		{"", "", event.VerdictNone},
		{"Bearer x", "", event.VerdictNone},
		{"", "secret", event.VerdictMissing},
		{"   ", "secret", event.VerdictMissing},
		{"Bearer", "secret", event.VerdictMissing},
		{"Bearer   ", "secret", event.VerdictMissing},
		{"Bearer secret", "secret", event.VerdictOK},
		{"bearer  secret ", "secret", event.VerdictOK},
		{"BEARER secret", "secret", event.VerdictOK},
		{"Bearer secreT", "secret", event.VerdictMismatch},
		{"Bearer secret2", "secret", event.VerdictMismatch},
		{"Bearer secre", "secret", event.VerdictMismatch},
		{"Basic secret", "secret", event.VerdictMismatch},
		{"secret", "secret", event.VerdictMismatch},
	}
	for _, tt := range tests {
		if got := CheckToken(tt.header, tt.want); got != tt.verdict {
			t.Errorf("CheckToken(%q, %q) = %s, want %s", tt.header, tt.want, got, tt.verdict)
		}
	}
}

func TestRandomPathAndToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p, tok := RandomPath(), NewToken()
		if !strings.HasPrefix(p, "/h/") || len(p) != 3+26 || strings.ToLower(p) != p {
			t.Fatalf("RandomPath %q", p)
		}
		if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
			t.Fatalf("NewToken %q", tok)
		}
		if seen[p] || seen[tok] {
			t.Fatal("repeated value")
		}
		seen[p], seen[tok] = true, true
	}
}

func BenchmarkCheckToken(b *testing.B) {
	tok := NewToken()
	h := "Bearer " + tok
	for b.Loop() {
		if CheckToken(h, tok) != event.VerdictOK {
			b.Fatal("mismatch")
		}
	}
}
