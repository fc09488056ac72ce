package session

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/sailresearch/sail/internal/iostreams"
	"github.com/sailresearch/sail/internal/render"
)

// WriteData writes data meant for programs (JSON, a payload) to stdout:
// byte for byte into a pipe or file, but sanitised line by line when
// stdout is a terminal, which would otherwise act on escape sequences a
// sender put in the payload. Sanitize keeps JSON valid and equivalent.
func WriteData(io *iostreams.IOStreams, data []byte) error {
	_, err := DataWriter(io).Write(data)
	return err
}

// DataWriter is stdout for a stream of data (NDJSON events), sanitised line
// by line when it is a terminal: the data quotes what senders sent.
func DataWriter(io *iostreams.IOStreams) io.Writer {
	if !io.StdoutTTY {
		return io.Out
	}
	return sanitizingWriter{io.Out}
}

type sanitizingWriter struct{ w io.Writer }

func (s sanitizingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, SanitizeLines(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SanitizeLines sanitises each line of s for a terminal, keeping the
// line breaks.
func SanitizeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = render.Sanitize(l)
	}
	return strings.Join(lines, "\n")
}

// WritePayload writes a payload, indented and sanitised for people when
// pretty, as it is otherwise; it always ends with a newline.
func WritePayload(w io.Writer, p []byte, pretty bool) {
	if len(p) == 0 {
		return
	}
	if pretty {
		// A payload can hold any byte, as can an invalid body kept in the
		// history.
		var v json.RawMessage = p
		if b, err := json.MarshalIndent(v, "", "  "); err == nil {
			p = b
		}
		p = []byte(SanitizeLines(string(p)))
	}
	w.Write(p)
	if p[len(p)-1] != '\n' {
		io.WriteString(w, "\n")
	}
}
