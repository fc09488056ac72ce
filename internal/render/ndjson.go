// Package render turns the event stream into text: NDJSON for programs and
// plain lines for people. The TUI (package ui) is the third front end.
package render

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sailresearch/sail/internal/event"
)

// NDJSON writes one JSON object per event and line. It is safe for
// concurrent use; a write error is kept and reported by Err.
type NDJSON struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
	err error
}

// NewNDJSON returns an NDJSON renderer writing to w.
func NewNDJSON(w io.Writer, now func() time.Time) *NDJSON {
	if now == nil {
		now = time.Now
	}
	return &NDJSON{w: w, now: now}
}

// Emit writes e as one line.
func (n *NDJSON) Emit(e event.Event) {
	line, err := event.Marshal(e, n.now())
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return
	}
	if err != nil {
		n.err = err
		return
	}
	line = append(line, '\n')
	if _, err := n.w.Write(line); err != nil {
		n.err = fmt.Errorf("write event: %w", err)
	}
}

// Err returns the first encoding or write error.
func (n *NDJSON) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}
