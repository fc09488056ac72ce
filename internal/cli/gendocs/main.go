// Command gendocs regenerates sail's command reference: Markdown pages in
// docs/cli and man pages in docs/man. Run it from the repository root:
//
//	go run ./internal/cli/gendocs          # rewrite the pages
//	go run ./internal/cli/gendocs -check   # exit 1 listing stale pages
//
// TestDocsUpToDate in internal/cli fails when the committed pages differ
// from what this writes.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sailresearch/sail/internal/cli/docgen"
)

func main() {
	md := flag.String("md", "docs/cli", "directory for the Markdown reference")
	man := flag.String("man", "docs/man", "directory for the man pages")
	check := flag.Bool("check", false, "write nothing; exit 1 and list the stale pages if any")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/cli/gendocs [-check] [-md DIR] [-man DIR]")
		os.Exit(2)
	}
	if *check {
		stale, err := docgen.Check(*md, *man)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
			os.Exit(1)
		}
		if len(stale) > 0 {
			for _, s := range stale {
				fmt.Fprintln(os.Stderr, s)
			}
			fmt.Fprintf(os.Stderr, "the command reference is stale; regenerate it with: %s\n", docgen.RegenerateHint)
			os.Exit(1)
		}
		fmt.Printf("%s and %s are up to date\n", *md, *man)
		return
	}
	if err := docgen.Write(*md, *man); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s and %s\n", *md, *man)
}
