package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestDocsUpToDate fails when docs/cli or docs/man differ from what the
// current command tree generates, so a changed flag or help text cannot be
// merged without its reference.
func TestDocsUpToDate(t *testing.T) {
	tmp := t.TempDir()
	gotMD, gotMan := filepath.Join(tmp, "cli"), filepath.Join(tmp, "man")
	if err := WriteDocs(gotMD, gotMan); err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, d := range []struct{ committed, generated string }{
		{filepath.Join("..", "..", "docs", "cli"), gotMD},
		{filepath.Join("..", "..", "docs", "man"), gotMan},
	} {
		stale = append(stale, diffDirs(t, d.committed, d.generated)...)
	}
	if len(stale) > 0 {
		t.Fatalf("the command reference is stale:\n  %s\nregenerate it with:\n  %s\nand commit docs/cli and docs/man",
			strings.Join(stale, "\n  "), RegenerateDocsHint)
	}
}

// diffDirs lists the generated pages that are missing from, differ from or
// are left over in the committed directory. Files the generator does not
// own (README.md) are ignored.
func diffDirs(t *testing.T, committed, generated string) []string {
	t.Helper()
	gen := pages(t, generated)
	have := pages(t, committed)
	var out []string
	for name, want := range gen {
		got, ok := have[name]
		switch {
		case !ok:
			out = append(out, filepath.Join(committed, name)+": missing")
		case !bytes.Equal(got, want):
			out = append(out, filepath.Join(committed, name)+": differs")
		}
	}
	for name := range have {
		if _, ok := gen[name]; !ok {
			out = append(out, filepath.Join(committed, name)+": no such command any more")
		}
	}
	sort.Strings(out)
	return out
}

func pages(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), "sail") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestDocsReproducible: two generations give the same bytes (no date, no
// map order, no environment in the pages), and stale pages are removed.
func TestDocsReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(b, "sail_gone.md"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "README.md"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SAIL_MODEL", "zai-org/GLM-5")
	t.Setenv("HOME", t.TempDir())
	if err := WriteDocs(a, filepath.Join(a, "man")); err != nil {
		t.Fatal(err)
	}
	if err := WriteDocs(b, filepath.Join(b, "man")); err != nil {
		t.Fatal(err)
	}
	if d := diffDirs(t, b, a); len(d) > 0 {
		t.Fatalf("two generations differ: %v", d)
	}
	if d := diffDirs(t, filepath.Join(b, "man"), filepath.Join(a, "man")); len(d) > 0 {
		t.Fatalf("two generations differ: %v", d)
	}
	if _, err := os.Stat(filepath.Join(b, "README.md")); err != nil {
		t.Fatalf("README.md removed: %v", err)
	}
	md := pages(t, a)
	for _, name := range []string{"sail.md", "sail_run.md", "sail_history_show.md", "sail_exit-codes.md", "sail_completion_bash.md"} {
		page, ok := md[name]
		if !ok {
			t.Errorf("%s not generated", name)
			continue
		}
		if !bytes.HasPrefix(page, []byte(DocsHeader)) || bytes.Contains(page, []byte("Auto generated")) {
			t.Errorf("%s: header is not the stable one:\n%.200s", name, page)
		}
	}
	if !bytes.Contains(md["sail_run.md"], []byte("--webhook")) {
		t.Errorf("sail_run.md does not document --webhook")
	}
	man := pages(t, filepath.Join(a, "man"))
	if !bytes.Contains(man["sail-run.1"], []byte(`.TH "SAIL" "1" "Feb 2026" "sail" "Sail Manual"`)) {
		t.Errorf("sail-run.1 header:\n%.200s", man["sail-run.1"])
	}
	if _, ok := man["sail-exit-codes.1"]; !ok {
		t.Errorf("help topic exit-codes has no man page")
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
}
