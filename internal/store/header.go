package store

import (
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Save encodes record headers by hand with jsontext's quoting, into a
// pooled buffer that then holds the whole frame: at 2 KB deliveries
// encoding/json's Marshal (3.5 µs and 13 allocations a header) and the
// frame buffer were the receiver's largest costs after the write itself.
// The output is what encoding/json produces for Record, but for
// encoding/json's escaping of <, > and & (FuzzHeader checks both decode
// to the same record).

// maxLine bounds a frame's first line: magic, two lengths, two CRCs.
const maxLine = len(magic) + 2*20 + 2*8 + 4

var frames = sync.Pool{New: func() any { return new([]byte) }}

// appendLine appends the start of a frame's first line, up to the header
// checksum, which covers it.
func appendLine(b []byte, hdrLen, bodyLen int, bodyCRC uint32) []byte {
	b = strconv.AppendInt(append(b, magic...), int64(hdrLen), 10)
	b = strconv.AppendInt(append(b, ' '), int64(bodyLen), 10)
	return append(appendHex(append(b, ' '), bodyCRC), ' ')
}

// appendHex appends v as eight hex digits ("%08x").
func appendHex(b []byte, v uint32) []byte {
	b = strconv.AppendUint(b, uint64(v)|1<<32, 16) // "1" and eight digits
	return append(b[:len(b)-9], b[len(b)-8:]...)
}

// appendHeader appends rec's header JSON: the Summary fields in order,
// the empty ones its tags omit left out, then the headers sorted by name.
func appendHeader(b []byte, rec *Record) []byte {
	s := &rec.Summary
	b = append(b, '{')
	name := func(k string) {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), k...), '"', ':')
	}
	str := func(k, v string, always bool) {
		if v != "" || always {
			name(k)
			b, _ = jsontext.AppendQuote(b, v)
		}
	}
	num := func(k string, v int64, always bool) {
		if v != 0 || always {
			name(k)
			b = strconv.AppendInt(b, v, 10)
		}
	}
	flag := func(k string, v bool) {
		if v {
			name(k)
			b = append(b, "true"...)
		}
	}
	str("id", s.ID, true)
	name("received_at")
	b = append(s.ReceivedAt.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
	str("remote_addr", s.RemoteAddr, false)
	str("path", s.Path, false)
	str("verdict", s.Verdict, true)
	num("http_status", int64(s.HTTPStatus), true)
	flag("rejected", s.Rejected)
	flag("duplicate", s.Duplicate)
	str("dedupe_key", s.DedupeKey, false)
	str("response_id", s.ResponseID, false)
	str("response_status", s.ResponseStatus, false)
	str("object", s.Object, false)
	str("model", s.Model, false)
	num("bytes", s.Bytes, true)
	num("attempt", int64(s.Attempt), false)
	str("excerpt", s.Excerpt, false)
	str("error", s.Error, false)
	flag("truncated", s.Truncated)
	if len(rec.Headers) > 0 {
		name("headers")
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(rec.Headers)) {
			if i > 0 {
				b = append(b, ',')
			}
			b, _ = jsontext.AppendQuote(b, k) // a sender's name: quoted, not trusted
			b, _ = jsontext.AppendQuote(append(b, ':'), rec.Headers[k])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}
