package batch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sailresearch/sail/internal/exitcode"
)

// loadResume reads the keys of items that already verified in a results
// file. Only keys are kept: memory stays flat however long the file is.
func loadResume(path string) (map[string]bool, error) {
	done := map[string]bool{}
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		var r Result
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue // a torn last line from an interrupted run
		}
		if r.ExitCode == exitcode.OK && (r.CustomID != "" || r.Line > 0) {
			done[r.Key()] = true
		}
	}
	return done, sc.Err()
}

// sameFile reports whether two paths name one file (or would, once made).
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// compactResults rewrites a results file to hold one line per item: the
// last one written for each key, so a resumed run's new result replaces
// the stale one (e.g. "interrupted") instead of sitting beside it. Lines
// that are not results (a torn last line) are dropped. The rewrite goes
// through a temporary file and a rename, so the file is never half written.
func compactResults(path string) error {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	defer fh.Close()
	// Pass one: the line number of each key's last result. Only keys are
	// kept, so memory does not grow with the results' size.
	last := map[string]int{}
	lines := 0
	err = eachResultLine(fh, func(n int, r *Result, _ []byte) {
		lines = n
		if r != nil {
			last[r.Key()] = n
		}
	})
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	if len(last) == lines {
		return nil // already one valid line per item
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	w := bufio.NewWriter(tmp)
	err = eachResultLine(fh, func(n int, r *Result, line []byte) {
		if r != nil && last[r.Key()] == n {
			w.Write(line)
			w.WriteByte('\n')
		}
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("-o: rewrite %s: %w", path, err)
	}
	return nil
}

// eachResultLine calls fn for each line of r, with its 1-based number and
// the result it holds (nil when it holds none).
func eachResultLine(r io.Reader, fn func(n int, res *Result, line []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		var res Result
		if json.Unmarshal(sc.Bytes(), &res) != nil || (res.CustomID == "" && res.Line == 0) {
			fn(n, nil, sc.Bytes())
			continue
		}
		fn(n, &res, sc.Bytes())
	}
	return sc.Err()
}
