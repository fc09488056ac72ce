package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestMarshalRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ms := int64(42)
	yes := true
	events := []Event{
		Ready{WebhookURL: "http://127.0.0.1:1/h/x", Tunnel: "local", ListenAddr: "127.0.0.1:1"},
		Created{ID: "resp_1", Endpoint: "responses", Model: "m", Status: "queued"},
		Status{ID: "resp_1", Status: "in_progress"},
		Delivery{Attempt: 1, Verdict: VerdictOK, HTTPStatus: 200, Bytes: 10, ReceivedAt: now, Body: json.RawMessage(`{"secret":1}`)},
		Forwarded{URL: "http://app", StatusCode: 204, LatencyMS: 1.5},
		Verified{ID: "resp_1", Matches: true},
		Completed{ID: "resp_1", Status: "completed", OutputText: "4", CreateToWebhookMS: &ms, WebhookMatchesGet: &yes, Source: "webhook"},
		Notice{Level: "info", Message: "hi"},
		Error{ExitCode: 3, Message: "token mismatch"},
	}
	for _, e := range events {
		line, err := Marshal(e, now)
		if err != nil {
			t.Fatal(err)
		}
		prefix := `{"type":"` + string(e.Kind()) + `","v":1,"time":"2026-11-25T10:00:00Z",`
		if !strings.HasPrefix(string(line), prefix) {
			t.Errorf("%s: line %s lacks prefix %s", e.Kind(), line, prefix)
		}
		back, err := Decode(line)
		if err != nil {
			t.Fatalf("%s: %v", e.Kind(), err)
		}
		got := reflect.ValueOf(back).Elem().Interface()
		want := e
		if d, ok := e.(Delivery); ok {
			d.Body = nil // the payload never goes on the event stream
			want = d
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip\n got %#v\nwant %#v", e.Kind(), got, want)
		}
	}
}

func TestDeliveryBodyNotEncoded(t *testing.T) {
	line, err := Marshal(Delivery{Body: json.RawMessage(`{"k":"SECRETBODY"}`), Headers: map[string]string{"X": "SECRETHDR"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(line), "SECRET") {
		t.Fatalf("body or headers leaked into the event: %s", line)
	}
}

func TestDecodeUnknown(t *testing.T) {
	if _, err := Decode([]byte(`{"type":"nope"}`)); err == nil {
		t.Fatal("want error for unknown type")
	}
	if _, err := Decode([]byte(`not json`)); err == nil {
		t.Fatal("want error for bad json")
	}
}

func TestSinks(t *testing.T) {
	var a, b Recorder
	s := Serial(Multi(&a, nil, &b))
	s.Emit(Status{ID: "x"})
	s.Emit(Notice{})
	if !reflect.DeepEqual(a.Kinds(), []Kind{KindStatus, KindNotice}) || len(b.Events()) != 2 {
		t.Fatalf("fan-out wrong: %v %v", a.Kinds(), b.Kinds())
	}
	Discard.Emit(Status{})
}

// FuzzEncode checks that whatever text ends up in an event's strings, the
// NDJSON line is one valid JSON line that decodes back to the same event.
func FuzzEncode(f *testing.F) {
	f.Add("ok", "resp_1", "line\nbreak", int64(12))
	f.Add("\x00\xff", "\u2028", `"quoted"`, int64(-1))
	f.Add("\xef", "\xbf\xbd", "0", int64(-1)) // halves of U+FFFD split across fields
	f.Fuzz(func(t *testing.T, verdict, id, text string, n int64) {
		now := time.Unix(1764000000, 0)
		for _, e := range []Event{
			Delivery{Verdict: verdict, ResponseID: id, Excerpt: text, Bytes: n, ReceivedAt: now},
			Completed{ID: id, Status: verdict, OutputText: text},
			Error{Message: text, Hint: verdict, ID: id},
		} {
			line, err := Marshal(e, now)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(string(line), "\n\r") {
				t.Fatalf("line break inside an NDJSON line: %q", line)
			}
			back, err := Decode(line)
			if err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if back.Kind() != e.Kind() {
				t.Fatalf("kind %s != %s", back.Kind(), e.Kind())
			}
			// Invalid UTF-8 is replaced on the first encoding; from then on
			// encoding must be stable.
			again, _ := Marshal(reflect.ValueOf(back).Elem().Interface().(Event), now)
			back2, err := Decode(again)
			if err != nil {
				t.Fatal(err)
			}
			third, _ := Marshal(reflect.ValueOf(back2).Elem().Interface().(Event), now)
			if string(again) != string(third) {
				t.Fatalf("encoding is not stable:\n%s\n%s", again, third)
			}
			// Each field separately: two invalid halves can concatenate into a
			// valid rune (a crasher the fuzzer found).
			if utf8.ValidString(verdict) && utf8.ValidString(id) && utf8.ValidString(text) && string(again) != string(line) {
				t.Fatalf("round trip changed valid text:\n%s\n%s", line, again)
			}
		}
	})
}
