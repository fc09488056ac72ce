package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestAppendHeaderMatchesJSON(t *testing.T) {
	recs := []*Record{
		{Summary: Summary{ID: "d_1", Verdict: "ok"}},
		{
			Summary: Summary{
				ID: "d_2", ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)),
				RemoteAddr: "[::1]:80", Path: "/h/\"x\"", Verdict: "mismatch", HTTPStatus: 401, Duplicate: true,
				DedupeKey: "a\x00b\x1f", ResponseID: "r\u2028", ResponseStatus: "completed", Object: "response",
				Model: "m/é", Bytes: 1 << 40, Attempt: 3, Excerpt: "tab\there \\ \n", Error: "bad \xff utf8", Truncated: true,
			},
			Headers: map[string]string{"B": "2", "A": "<&>", "Authorization": "Bearer •••"},
		},
	}
	for _, r := range recs {
		var got, want Record
		if err := json.Unmarshal(appendHeader(nil, r), &got); err != nil {
			t.Fatalf("appendHeader output does not parse: %v\n%s", err, appendHeader(nil, r))
		}
		std, _ := json.Marshal(r)
		json.Unmarshal(std, &want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("appendHeader:\n got %+v\nwant %+v", got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00\x1f\"\\", "é\xff\xfe", "\u2028<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("appendString(%q) does not parse: %v", s, err)
		}
		std, _ := json.Marshal(s)
		json.Unmarshal(std, &want)
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q, encoding/json gives %q", s, got, want)
		}
	})
}
