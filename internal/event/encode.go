package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Marshal encodes e as one NDJSON line (without the newline):
// {"type":…,"v":1,"time":…, …fields}. now stamps the event.
func Marshal(e Event, now time.Time) ([]byte, error) {
	fields, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", e.Kind(), err)
	}
	if len(fields) < 2 || fields[0] != '{' {
		return nil, fmt.Errorf("encode %s event: not an object", e.Kind())
	}
	var b bytes.Buffer
	b.Grow(len(fields) + 64)
	b.WriteString(`{"type":`)
	kind, _ := json.Marshal(string(e.Kind()))
	b.Write(kind)
	fmt.Fprintf(&b, `,"v":%d,"time":`, Version)
	ts, _ := json.Marshal(now.UTC().Format(time.RFC3339Nano))
	b.Write(ts)
	if len(fields) > 2 {
		b.WriteByte(',')
		b.Write(fields[1:])
	} else {
		b.WriteByte('}')
	}
	return b.Bytes(), nil
}

// Decode parses one NDJSON line back into its typed event. Unknown types are
// an error so that consumers notice a contract change.
func Decode(line []byte) (Event, error) {
	var head struct {
		Type Kind `json:"type"`
		V    int  `json:"v"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	var e Event
	switch head.Type {
	case KindReady:
		e = &Ready{}
	case KindCreated:
		e = &Created{}
	case KindStatus:
		e = &Status{}
	case KindDelivery:
		e = &Delivery{}
	case KindForwarded:
		e = &Forwarded{}
	case KindVerified:
		e = &Verified{}
	case KindCompleted:
		e = &Completed{}
	case KindNotice:
		e = &Notice{}
	case KindError:
		e = &Error{}
	default:
		return nil, fmt.Errorf("decode event: unknown type %q", head.Type)
	}
	if err := json.Unmarshal(line, e); err != nil {
		return nil, fmt.Errorf("decode %s event: %w", head.Type, err)
	}
	return e, nil
}
