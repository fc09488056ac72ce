package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rejected(i int) *Record {
	return &Record{
		Summary: Summary{Verdict: "missing", HTTPStatus: 401, Rejected: true, Error: "no bearer token"},
		Body:    []byte(fmt.Sprintf(`{"id":"junk_%d"}`, i)),
	}
}

// Strangers cannot push accepted deliveries out: rejected records have
// their own limit and their own files.
func TestRejectedFloodKeepsAccepted(t *testing.T) {
	dir := tempDir(t)
	s, _ := open(t, dir, Options{Keep: 1000})
	var want []string
	for i := range 5 {
		r := rec(i)
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r.ID)
	}
	for i := range 2100 {
		if err := s.Save(rejected(i)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store) {
		t.Helper()
		list, _ := s.List(0)
		var acc, rej int
		for _, l := range list {
			if l.Rejected {
				rej++
			} else {
				acc++
			}
		}
		if acc != 5 || rej != DefaultKeepRejected {
			t.Fatalf("%d accepted and %d rejected visible, want 5 and %d", acc, rej, DefaultKeepRejected)
		}
		if !list[0].Rejected || list[0].Error == "" {
			t.Fatalf("newest is not the last rejected record: %+v", list[0])
		}
		last, err := s.Last()
		if err != nil || last.ID != want[4] || last.Rejected {
			t.Fatalf("Last = %+v, %v; want the newest accepted %s", last, err, want[4])
		}
		for _, id := range want {
			if _, err := s.Get(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	check(s)
	rej, _ := filepath.Glob(filepath.Join(dir, "rej-*.log"))
	if len(rej) > 3 || len(segFiles(t, dir)) != 1 {
		t.Fatalf("%d rejected segments (want ≤ 3) and %d accepted ones (want 1)", len(rej), len(segFiles(t, dir)))
	}
	s.Close()
	s2, _ := open(t, dir, Options{})
	check(s2)
}

// Records written before the Rejected field existed are classified by
// their verdict.
func TestOldRejectedRecordsClassified(t *testing.T) {
	dir := tempDir(t)
	s, _ := open(t, dir, Options{})
	old := rec(1)
	old.Verdict, old.HTTPStatus = "mismatch", 401
	if err := s.Save(old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Last(); err == nil {
		t.Fatal("Last returned a record with a wrong token")
	}
	list, _ := s.List(0)
	if len(list) != 1 || !list[0].Rejected {
		t.Fatalf("list %+v", list)
	}
}

// A symlink named like a segment is neither followed nor touched, and
// its target keeps its content and mode.
func TestSymlinkSegmentNotFollowed(t *testing.T) {
	dir := tempDir(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(target, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"seg-zzzzzzzzzzzzzzzzz.log", "rej-zzzzzzzzzzzzzzzzz.log", "seg-0.log"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	s, w := open(t, dir, Options{})
	for i := range 3 {
		if err := s.Save(rec(i)); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(rejected(i)); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := s.List(0); len(list) != 6 {
		t.Fatalf("%d records", len(list))
	}
	s.Close()
	s2, _ := open(t, dir, Options{Keep: 1, KeepRejected: 1})
	if err := s2.Save(rec(9)); err != nil { // prunes
		t.Fatal(err)
	}
	got, _ := os.ReadFile(target)
	fi, _ := os.Stat(target)
	if string(got) != "precious\n" || fi.Mode().Perm() != 0o644 {
		t.Fatalf("symlink target changed: %q, mode %v", got, fi.Mode())
	}
	if msgs := strings.Join(w.all(), "\n"); !strings.Contains(msgs, "skipped and left untouched") {
		t.Fatalf("no warning about the symlink: %q", msgs)
	}
	for _, name := range []string{"seg-zzzzzzzzzzzzzzzzz.log", "rej-zzzzzzzzzzzzzzzzz.log", "seg-0.log"} {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s: %v %v", name, fi, err)
		}
	}
}

// A record is only reported saved once it is in the directory as it is
// now: after the directory is deleted, moved or replaced, Save reopens it
// or fails.
func TestDirectoryChangedUnderneath(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(dir string) error
		wantErr bool
	}{
		{"deleted", os.RemoveAll, false},
		{"moved", func(dir string) error { return os.Rename(dir, dir+".old") }, false},
		{"replaced by another directory", func(dir string) error {
			if err := os.Rename(dir, dir+".old"); err != nil {
				return err
			}
			return os.Mkdir(dir, 0o700)
		}, false},
		{"replaced by a file", func(dir string) error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.WriteFile(dir, []byte("not a dir"), 0o600)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tempDir(t)
			s, w := open(t, dir, Options{})
			for i := range 2 { // both kinds have an open segment
				if err := s.Save(rec(i)); err != nil {
					t.Fatal(err)
				}
				if err := s.Save(rejected(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.change(dir); err != nil {
				t.Fatal(err)
			}
			r := rec(5)
			err := s.Save(r)
			if tc.wantErr {
				if err == nil {
					t.Fatal("Save succeeded with the history directory replaced by a file")
				}
				if b, _ := os.ReadFile(dir); !bytes.Equal(b, []byte("not a dir")) {
					t.Fatalf("the file in the directory's place changed: %q", b)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(w.all(), "\n"), "changed while in use") {
				t.Fatalf("no warning: %q", w.all())
			}
			if _, err := s.Get(r.ID); err != nil {
				t.Fatal(err)
			}
			fresh, _ := open(t, dir, Options{})
			got, err := fresh.Get(r.ID)
			if err != nil || !bytes.Equal(got.Body, r.Body) {
				t.Fatalf("the record is not in %s: %v", dir, err)
			}
			if err := s.Save(rejected(7)); err != nil { // the other kind reopens too
				t.Fatal(err)
			}
			fresh2, _ := open(t, dir, Options{})
			if list, _ := fresh2.List(0); len(list) != 2 {
				t.Fatalf("%d records in the new directory, want 2", len(list))
			}
		})
	}
}
