package emulator

// Status dialects. Sail's API reference names the unfinished statuses
// pending and running; its docs pages (and OpenAI, whose SDKs Sail
// follows) say queued and in_progress. Clients must accept both, so the
// emulator speaks either: the reference's by default.
const (
	StatusNamesSail   = "sail"
	StatusNamesOpenAI = "openai"
)

// Unfinished statuses as each dialect writes them on the wire.
const (
	StatusPending = "pending"
	StatusRunning = "running"
)

// wireStatus is how status (held internally in OpenAI's names) is written
// in dialect names.
func wireStatus(names, status string) string {
	if names != StatusNamesOpenAI {
		switch status {
		case StatusQueued:
			return StatusPending
		case StatusInProgress:
			return StatusRunning
		}
	}
	return status
}
