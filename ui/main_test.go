package ui

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if its tests leave a goroutine running.
// Two belong to the libraries, not to this package: teatest waits for a
// SIGINT for as long as the process lives, and a tea.Tick command keeps
// its timer until it fires, even after the program has ended.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/charmbracelet/x/exp/teatest/v2.NewTestModel.func2"),
		goleak.IgnoreTopFunction("charm.land/bubbletea/v2.Tick.func1"),
	)
}
