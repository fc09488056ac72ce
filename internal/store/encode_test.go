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
