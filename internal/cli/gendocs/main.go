// Command gendocs regenerates sail's command reference: Markdown pages in
// docs/cli and man pages in docs/man. Run it from the repository root:
//
//	go run ./internal/cli/gendocs
//
// TestDocsUpToDate in internal/cli fails when the committed pages differ
// from what this writes.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sailresearch/sail/internal/cli"
)

func main() {
	md := flag.String("md", "docs/cli", "directory for the Markdown reference")
	man := flag.String("man", "docs/man", "directory for the man pages")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/cli/gendocs [-md DIR] [-man DIR]")
		os.Exit(2)
	}
	if err := cli.WriteDocs(*md, *man); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s and %s\n", *md, *man)
}
