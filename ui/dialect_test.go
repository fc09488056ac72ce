package ui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sailresearch/sail/internal/event"
)

// TestStatusDialects feeds the run view the status events of each dialect
// Sail may speak (its reference's pending/running, its docs pages'
// queued/in_progress): both read the same to a person, mid-run and at the
// end, while the model keeps the value as sent.
func TestStatusDialects(t *testing.T) {
	views := map[string]string{}
	for _, d := range []struct{ name, pending, running string }{
		{"sail", "pending", "running"},
		{"openai", "queued", "in_progress"},
	} {
		t.Run(d.name, func(t *testing.T) {
			hs := newHarness(t, Options{NoColor: true}, 100, 30)
			all := runScenario(true)
			all[1] = event.Created{ID: testID, Endpoint: "responses", Model: "moonshotai/Kimi-K2.5", Status: d.pending}
			all[2] = event.Status{ID: testID, Status: d.running}
			hs.send(all[:3]...)
			// Mid-run, the header and the timeline say "in progress" and the
			// created row says "queued", whichever names were sent.
			teatest.WaitFor(t, hs.tm.Output(), func(out []byte) bool {
				return bytes.Contains(out, []byte("in progress")) && bytes.Contains(out, []byte("(queued)"))
			}, teatest.WithDuration(finalWait))
			hs.send(all[3:]...)
			m := hs.final(t, true)
			if !m.done || m.status != "completed" {
				t.Errorf("done=%v status=%q, want done and completed", m.done, m.status)
			}
			if m.created == nil || m.created.Status != d.pending {
				t.Errorf("created status kept as %v, want %q as sent", m.created, d.pending)
			}
			v := view(m)
			for _, want := range []string{"✓ completed", "(queued)", "in progress", "✓ webhook payload matches GET"} {
				if !strings.Contains(v, want) {
					t.Errorf("view lacks %q:\n%s", want, v)
				}
			}
			for _, raw := range []string{"pending", "running", "in_progress"} {
				if strings.Contains(v, raw) {
					t.Errorf("view shows the wire name %q instead of its label:\n%s", raw, v)
				}
			}
			views[d.name] = v
		})
	}
	if views["sail"] != views["openai"] {
		t.Errorf("the two dialects render differently:\n%s\n---\n%s", views["sail"], views["openai"])
	}
}
