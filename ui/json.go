package ui

import (
	"bytes"
	"encoding/json"
	"strings"

	"charm.land/lipgloss/v2"
)

// maxPayloadLines bounds what the Payload tab renders: a multi-megabyte
// payload would make every redraw slow. `s` still saves all of it.
const maxPayloadLines = 5000

// prettyPayload indents a JSON payload for display and splits it in lines.
// A body that is not JSON is shown as cleaned text.
func prettyPayload(body []byte) (lines []string, isJSON bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, false
	}
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err == nil {
		// Indented JSON escapes every control character inside strings, so
		// the lines are safe to print as they are.
		return strings.Split(b.String(), "\n"), true
	}
	return strings.Split(clean(string(body)), "\n"), false
}

// outputText finds the answer text in a payload of any of the shapes Sail
// delivers: a Responses object, a chat completion or an Anthropic message.
// It returns "" when there is none (a failed response, an unknown shape).
func outputText(body []byte) string {
	var p struct {
		Object     string `json:"object"`
		Type       string `json:"type"`
		OutputText string `json:"output_text"`
		Output     []struct {
			Type    string `json:"type"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"output"`
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return ""
	}
	var parts []string
	for _, o := range p.Output {
		for _, c := range o.Content {
			if c.Type == "output_text" && c.Text != "" {
				parts = append(parts, c.Text)
			}
		}
	}
	for _, c := range p.Choices {
		if c.Message.Content != "" {
			parts = append(parts, c.Message.Content)
		}
	}
	for _, c := range p.Content {
		if c.Type == "text" && c.Text != "" {
			parts = append(parts, c.Text)
		}
	}
	if len(parts) == 0 && p.OutputText != "" {
		parts = append(parts, p.OutputText)
	}
	if len(parts) == 0 && p.Error != nil && p.Error.Message != "" {
		parts = append(parts, "error: "+p.Error.Message)
	}
	return clean(strings.Join(parts, "\n"))
}

// class is the syntax class of a span of a JSON line.
type class uint8

const (
	clsPlain class = iota
	clsKey
	clsString
	clsNumber
	clsLit
	clsPunct
)

// span is a run of bytes of one class within a line.
type span struct {
	start, end int
	cls        class
}

// tokenize classifies one line of indented JSON. json.Indent puts every
// member on its own line and strings never span lines, so a line can be
// tokenized on its own; anything unexpected is left plain.
func tokenize(line string) []span {
	var out []span
	add := func(s, e int, c class) {
		if e > s {
			out = append(out, span{s, e, c})
		}
	}
	i := 0
	for i < len(line) {
		ch := line[i]
		switch {
		case ch == '"':
			j := i + 1
			for j < len(line) {
				if line[j] == '\\' {
					j += 2
					continue
				}
				if line[j] == '"' {
					j++
					break
				}
				j++
			}
			j = min(j, len(line))
			k := j
			for k < len(line) && line[k] == ' ' {
				k++
			}
			if k < len(line) && line[k] == ':' {
				add(i, j, clsKey)
			} else {
				add(i, j, clsString)
			}
			i = j
		case ch == '-' || (ch >= '0' && ch <= '9'):
			j := i + 1
			for j < len(line) && strings.IndexByte("0123456789.eE+-", line[j]) >= 0 {
				j++
			}
			add(i, j, clsNumber)
			i = j
		case strings.HasPrefix(line[i:], "true"), strings.HasPrefix(line[i:], "null"):
			add(i, i+4, clsLit)
			i += 4
		case strings.HasPrefix(line[i:], "false"):
			add(i, i+5, clsLit)
			i += 5
		case strings.IndexByte("{}[],:", ch) >= 0:
			add(i, i+1, clsPunct)
			i++
		default:
			j := i + 1
			for j < len(line) && line[j] == ' ' {
				j++
			}
			add(i, j, clsPlain)
			i = j
		}
	}
	return out
}

func (s styles) forClass(c class) lipgloss.Style {
	switch c {
	case clsKey:
		return s.jsonKey
	case clsString:
		return s.jsonString
	case clsNumber:
		return s.jsonNumber
	case clsLit:
		return s.jsonLit
	case clsPunct:
		return s.jsonPunct
	}
	return lipgloss.NewStyle()
}

// highlightLine splits a payload line into styled segments: syntax classes
// (when isJSON) overlaid with the search matches of that line. cur is the
// index within ms of the current match, or -1.
func highlightLine(st styles, line string, isJSON bool, ms []match, cur int) []seg {
	spans := []span{{0, len(line), clsPlain}}
	if isJSON {
		spans = tokenize(line)
	}
	if len(ms) == 0 {
		segs := make([]seg, 0, len(spans))
		for _, sp := range spans {
			segs = append(segs, seg{text: line[sp.start:sp.end], paint: st.paints[sp.cls]})
		}
		return segs
	}
	// Cut the spans at every match boundary; a piece inside a match takes
	// the match style instead of its syntax style.
	var segs []seg
	for _, sp := range spans {
		pos := sp.start
		for pos < sp.end {
			// Matches are sorted and disjoint: the first one not yet
			// behind pos either covers pos or starts after it.
			end, mi := sp.end, -1
			for i, m := range ms {
				if m.end <= pos {
					continue
				}
				if m.start <= pos {
					end, mi = min(end, m.end), i
				} else {
					end = min(end, m.start)
				}
				break
			}
			sg := seg{text: line[pos:end], paint: st.paints[sp.cls]}
			if mi >= 0 {
				sg.match = true
				sg.cur = mi == cur
				sg.first = pos == ms[mi].start
				sg.last = end == ms[mi].end
				sg.paint = st.pMatch
				open, shut := "«", "»"
				if sg.cur {
					sg.paint = st.pCur
					open, shut = ">>", "<<"
				}
				// Without colour the matches are marked in the text.
				if st.marks && sg.first {
					sg.text = open + sg.text
				}
				if st.marks && sg.last {
					sg.text += shut
				}
			}
			segs = append(segs, sg)
			pos = end
		}
	}
	return segs
}
