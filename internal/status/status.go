// Package status is the one place that decides what a response status
// means. Sail's API reference (OpenAPI 2026-02-18) says pending, running,
// failed, completed, cancelled; its docs pages and OpenAI's SDKs say
// queued, in_progress; batch request statuses are upper case (COMPLETED,
// RUNNING). The client, the receiver, run, batch and the TUI all go
// through Normalize so they cannot disagree.
package status

import "strings"

// Canonical statuses. Logic compares against these; what is shown to the
// user is the value the server sent.
const (
	Queued     = "queued"      // also "pending"
	InProgress = "in_progress" // also "running"
	Completed  = "completed"
	Failed     = "failed"
	Cancelled  = "cancelled" // also "canceled"
	Incomplete = "incomplete"
)

// Normalize maps any spelling of a known status onto its canonical name,
// ignoring case and surrounding space: pending ≡ queued, running ≡
// in_progress, canceled ≡ cancelled. An unknown status is returned exactly
// as received, so it can still be shown as Sail sent it.
func Normalize(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "queued", "pending":
		return Queued
	case "in_progress", "running":
		return InProgress
	case "completed":
		return Completed
	case "failed":
		return Failed
	case "cancelled", "canceled":
		return Cancelled
	case "incomplete":
		return Incomplete
	}
	return s
}

// IsTerminal reports whether s, in any spelling, is final: completed,
// failed, cancelled or incomplete. Unknown statuses are not.
func IsTerminal(s string) bool {
	switch Normalize(s) {
	case Completed, Failed, Cancelled, Incomplete:
		return true
	}
	return false
}

// IsKnown reports whether s is one of the statuses above in any spelling.
func IsKnown(s string) bool {
	switch Normalize(s) {
	case Queued, InProgress, Completed, Failed, Cancelled, Incomplete:
		return true
	}
	return false
}
