package store

import (
	"sort"
	"strconv"
	"time"

	"github.com/sailresearch/sail/internal/payload"
)

// appendHeader encodes the header line of a frame: the record without its
// body, with the same field names and meaning as the JSON tags on Summary
// and Record (reading uses encoding/json). It exists because reflection-
// based json.Marshal was the largest CPU cost of a Save after write(2).
func appendHeader(b []byte, r *Record) []byte {
	b = append(b, `{"id":`...)
	b = payload.AppendQuote(b, r.ID)
	b = append(b, `,"received_at":"`...)
	b = r.ReceivedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, "remote_addr", r.RemoteAddr)
	b = appendField(b, "path", r.Path)
	b = append(b, `,"verdict":`...)
	b = payload.AppendQuote(b, r.Verdict)
	b = append(b, `,"http_status":`...)
	b = strconv.AppendInt(b, int64(r.HTTPStatus), 10)
	if r.Duplicate {
		b = append(b, `,"duplicate":true`...)
	}
	b = appendField(b, "dedupe_key", r.DedupeKey)
	b = appendField(b, "response_id", r.ResponseID)
	b = appendField(b, "response_status", r.ResponseStatus)
	b = appendField(b, "object", r.Object)
	b = appendField(b, "model", r.Model)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, r.Bytes, 10)
	if r.Attempt != 0 {
		b = append(b, `,"attempt":`...)
		b = strconv.AppendInt(b, int64(r.Attempt), 10)
	}
	b = appendField(b, "excerpt", r.Excerpt)
	b = appendField(b, "error", r.Error)
	if r.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if len(r.Headers) > 0 {
		var stack [16]string
		names := stack[:0]
		for k := range r.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		b = append(b, `,"headers":{`...)
		for i, k := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = payload.AppendQuote(b, k)
			b = append(b, ':')
			b = payload.AppendQuote(b, r.Headers[k])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendField appends ,"name":"value" unless value is empty (omitempty).
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return payload.AppendQuote(b, value)
}

const hexDigits = "0123456789abcdef"

// appendHex32 appends v as 8 lowercase hex digits.
func appendHex32(b []byte, v uint32) []byte {
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[v>>uint(shift)&0xf])
	}
	return b
}
