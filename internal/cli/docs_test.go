package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sailresearch/sail/internal/cli/docgen"
)

// TestDocsUpToDate fails when docs/cli or docs/man differ from what the
// current command tree generates, so a changed flag or help text cannot be
// merged without its reference.
func TestDocsUpToDate(t *testing.T) {
	t.Parallel()
	stale, err := docgen.Check(filepath.Join("..", "..", "docs", "cli"), filepath.Join("..", "..", "docs", "man"))
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Fatalf("the command reference is stale:\n  %s\nregenerate it with:\n  %s\nand commit docs/cli and docs/man",
			strings.Join(stale, "\n  "), docgen.RegenerateHint)
	}
}
