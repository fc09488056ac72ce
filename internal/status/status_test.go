package status

import "testing"

func TestNormalize(t *testing.T) {
	cases := []struct {
		in, want string
		terminal bool
	}{
		{"queued", Queued, false},
		{"pending", Queued, false},
		{"PENDING", Queued, false},
		{"in_progress", InProgress, false},
		{"running", InProgress, false},
		{"RUNNING", InProgress, false},
		{" Running ", InProgress, false},
		{"completed", Completed, true},
		{"COMPLETED", Completed, true},
		{"failed", Failed, true},
		{"FAILED", Failed, true},
		{"cancelled", Cancelled, true},
		{"canceled", Cancelled, true},
		{"CANCELED", Cancelled, true},
		{"incomplete", Incomplete, true},
		{"Incomplete", Incomplete, true},
		{"", "", false},
		{"Thinking", "Thinking", false}, // unknown: shown as received
		{"EXPIRED", "EXPIRED", false},
	}
	for _, c := range cases {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := IsTerminal(c.in); got != c.terminal {
			t.Errorf("IsTerminal(%q) = %v, want %v", c.in, got, c.terminal)
		}
		known := c.in != "" && c.in != "Thinking" && c.in != "EXPIRED"
		if got := IsKnown(c.in); got != known {
			t.Errorf("IsKnown(%q) = %v, want %v", c.in, got, known)
		}
	}
}
