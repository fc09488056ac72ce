package batch

import (
	"errors"
	"io"
)

// maxPlanErrors bounds the line errors a Plan keeps: a file of junk must
// not fill memory or the terminal; the count stays exact.
const maxPlanErrors = 20

// Plan is what a first pass over a regular file learns before anything is
// created: how many items will run (so progress has a true total) and
// which lines are not items (so --strict can refuse the file up front).
type Plan struct {
	Items      int          // lines that are items, skipped ones included
	Skipped    int          // items --resume will skip
	LineErrors int          // lines that are not items
	Errors     []*LineError // the first maxPlanErrors of them
}

// ToRun is the number of items that will be created.
func (p Plan) ToRun() int { return p.Items - p.Skipped }

// Scan reads every line of r as Run will, without running anything.
func Scan(r io.Reader, skip func(key string) bool) (Plan, error) {
	var p Plan
	rd := NewReader(r)
	for {
		it, err := rd.Next()
		if err == io.EOF {
			return p, nil
		}
		var le *LineError
		switch {
		case errors.As(err, &le):
			p.LineErrors++
			if len(p.Errors) < maxPlanErrors {
				p.Errors = append(p.Errors, le)
			}
		case err != nil:
			return p, err
		default:
			p.Items++
			if skip != nil && skip(it.Key()) {
				p.Skipped++
			}
		}
	}
}
