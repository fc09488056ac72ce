package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// FuzzHeader checks the hand-written header encoder against encoding/json:
// valid JSON that decodes to the same record, whatever the strings hold.
func FuzzHeader(f *testing.F) {
	f.Add("d_0", "1.2.3.4:5", "/h/x", "ok", 200, false, true, "resp_1\x00completed\x00ab-1", "m<&>\u2028", "Bearer •••", "X-A\"b", int64(5), 1, int64(1700000000123456789))
	f.Add("", "", "", "", 0, true, false, "", "\xff\xfe", "", "", int64(0), 0, int64(0))
	f.Fuzz(func(t *testing.T, id, addr, path, verdict string, status int, rejected, dup bool, key, text, hv, hk string, n int64, attempt int, nanos int64) {
		rec := &Record{
			Summary: Summary{
				ID: id, ReceivedAt: time.Unix(0, nanos).UTC(), RemoteAddr: addr, Path: path, Verdict: verdict,
				HTTPStatus: status, Rejected: rejected, Duplicate: dup, DedupeKey: key, ResponseID: text,
				ResponseStatus: verdict, Object: path, Model: text, Bytes: n, Attempt: attempt, Excerpt: text,
				Error: key, Truncated: dup,
			},
			Headers: map[string]string{"Content-Type": hv, hk: text},
		}
		if rec.ReceivedAt.Year() > 9999 {
			return // encoding/json refuses such times; a receiver's clock does not reach them
		}
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		got := appendHeader(nil, rec)
		var a, b Record
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("appendHeader gave invalid JSON %q: %v", got, err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("appendHeader decodes to\n%+v\nencoding/json to\n%+v", a, b)
		}
		var fields, wantFields map[string]json.RawMessage
		json.Unmarshal(got, &fields)
		json.Unmarshal(want, &wantFields)
		if len(fields) != len(wantFields) {
			t.Fatalf("fields %s, encoding/json writes %s", got, want)
		}
	})
}

// TestFrameLine: the first line is what readFrame parses, whatever the
// lengths, with the checksums zero-padded to eight digits.
func TestFrameLine(t *testing.T) {
	for _, c := range []struct {
		h, b int
		crc  uint32
		want string
	}{{2, 0, 0, "SAIL1 2 0 00000000 "}, {123, 1 << 40, 0xabc, "SAIL1 123 1099511627776 00000abc "}, {1, 1, 0xffffffff, "SAIL1 1 1 ffffffff "}} {
		if got := string(appendLine(nil, c.h, c.b, c.crc)); got != c.want {
			t.Errorf("appendLine(%d, %d, %#x) = %q, want %q", c.h, c.b, c.crc, got, c.want)
		}
	}
}
