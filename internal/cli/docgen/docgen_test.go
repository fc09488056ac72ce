package docgen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteReproducible: two generations give the same bytes (no date, no
// map order, no environment in the pages); pages of commands that are gone
// are removed and files the generator does not own are kept.
func TestWriteReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for name, body := range map[string]string{"sail_gone.md": "old", "README.md": "mine"} {
		if err := os.WriteFile(filepath.Join(b, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SAIL_MODEL", "zai-org/GLM-5")
	t.Setenv("HOME", t.TempDir())
	if err := Write(a, filepath.Join(a, "man")); err != nil {
		t.Fatal(err)
	}
	if err := Write(b, filepath.Join(b, "man")); err != nil {
		t.Fatal(err)
	}
	for _, d := range [][2]string{{b, a}, {filepath.Join(b, "man"), filepath.Join(a, "man")}} {
		diff, err := diffDir(d[0], d[1])
		if err != nil || len(diff) > 0 {
			t.Fatalf("two generations differ: %v %v", diff, err)
		}
	}
	if got, err := os.ReadFile(filepath.Join(b, "README.md")); err != nil || string(got) != "mine" {
		t.Fatalf("README.md touched: %q %v", got, err)
	}
	md, err := readPages(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sail.md", "sail_run.md", "sail_history_show.md", "sail_exit-codes.md", "sail_completion_bash.md"} {
		page, ok := md[name]
		if !ok {
			t.Errorf("%s not generated", name)
			continue
		}
		if !bytes.HasPrefix(page, []byte(Header)) || bytes.Contains(page, []byte("Auto generated")) {
			t.Errorf("%s: header is not the stable one:\n%.200s", name, page)
		}
	}
	if !bytes.Contains(md["sail_run.md"], []byte("--webhook")) || !bytes.Contains(md["sail_run.md"], []byte("### Examples")) {
		t.Errorf("sail_run.md lacks --webhook or its examples")
	}
	man, err := readPages(filepath.Join(a, "man"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(man["sail-run.1"], []byte(`.TH "SAIL" "1" "Feb 2026" "sail" "Sail Manual"`)) {
		t.Errorf("sail-run.1 header:\n%.200s", man["sail-run.1"])
	}
	if _, ok := man["sail-exit-codes.1"]; !ok {
		t.Errorf("help topic exit-codes has no man page")
	}
}

// TestCheckFindsStalePages: Check names every kind of drift.
func TestCheckFindsStalePages(t *testing.T) {
	md, man := t.TempDir(), t.TempDir()
	if err := Write(md, man); err != nil {
		t.Fatal(err)
	}
	if stale, err := Check(md, man); err != nil || len(stale) != 0 {
		t.Fatalf("fresh pages reported stale: %v %v", stale, err)
	}
	if err := os.WriteFile(filepath.Join(md, "sail_run.md"), []byte("edited by hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(man, "sail-version.1")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(man, "sail-removed.1"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	stale, err := Check(md, man)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(md, "sail_run.md") + ": differs",
		filepath.Join(man, "sail-removed.1") + ": no such command any more",
		filepath.Join(man, "sail-version.1") + ": missing",
	}
	for _, w := range want {
		found := false
		for _, s := range stale {
			found = found || s == w
		}
		if !found {
			t.Errorf("Check did not report %q; got %q", w, stale)
		}
	}
	if len(stale) != len(want) {
		t.Errorf("Check reported %d problems, want %d: %q", len(stale), len(want), stale)
	}
}

func TestMarkdownText(t *testing.T) {
	in := "Intro line.\n\n  GET  /a   first\n  POST /b   second\n\n  GET  /c   third\nAfter the table.\n\nLast."
	want := "Intro line.\n\n```\nGET  /a   first\nPOST /b   second\n\nGET  /c   third\n```\n\nAfter the table.\n\nLast."
	if got := markdownText(in); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	// Prose right before an indented block gets a blank line, or the
	// fence would not start a block.
	if got := markdownText("Example:\n\tsail run\n"); got != "Example:\n\n```\nsail run\n```\n" {
		t.Fatalf("got %q", got)
	}
	if got := markdownText("plain\ntext"); got != "plain\ntext" {
		t.Fatalf("prose changed: %q", got)
	}
	if !strings.Contains(markdownText("a\n  <token> *x*"), "```\n<token> *x*\n```") {
		t.Fatalf("markup-looking text not fenced")
	}
}
