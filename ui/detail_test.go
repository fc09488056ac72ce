package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/sailresearch/sail/internal/event"
)

// rowWith returns the first line of v containing s.
func rowWith(v, s string) string {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// mismatchScenario is a run whose webhook payload differs from GET, with
// both values recorded per path.
func mismatchScenario() []event.Event {
	evs := runScenario(false)
	for i, e := range evs {
		if v, ok := e.(event.Verified); ok {
			v.Diffs = []event.Difference{
				{Path: "output[0].content[0].text", Webhook: `"The answer is 5."`, Get: `"The answer is 4."`},
				{Path: "usage.output_tokens", Webhook: "", Get: "1"},
			}
			evs[i] = v
		}
	}
	return evs
}

// Payload ≠ GET: neither the result row nor the status chip is a success,
// in colour (no green) or without.
func TestMismatchResultNotGreen(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 120, 30)
	hs.send(mismatchScenario()...)
	v := view(hs.final(t, true))
	row := rowWith(v, "result ")
	if !strings.Contains(row, "✗ completed, webhook payload ≠ GET") || strings.Contains(row, "✓") {
		t.Errorf("result row = %q, want ✗ … ≠ GET and no ✓", row)
	}
	if first := strings.Split(v, "\n")[0]; strings.Contains(first, "✓") || !strings.Contains(first, "≠ GET") {
		t.Errorf("status chip = %q, want a failure", first)
	}

	// With colour, the row carries the palette's red, never its green.
	m := NewModel(Options{}).withEvents(mismatchScenario()...)
	cv := view(m)
	green, red := paintOf(m.styles.ok).pre, paintOf(m.styles.bad).pre
	crow := rowWith(cv, "result ")
	if green == "" || red == "" || strings.Contains(crow, green) || !strings.Contains(crow, red) {
		t.Errorf("coloured result row %q: want red (%q), no green (%q)", crow, red, green)
	}
}

// The Diff tab shows, per differing path, the webhook's value and GET's.
func TestDiffTabShowsBothValues(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 120, 30)
	hs.send(mismatchScenario()...)
	hs.keys(press("shift+tab")) // Output → Diff, backwards
	m := hs.final(t, true)
	if m.tab != tabDiff {
		t.Fatalf("tab = %v, want Diff", m.tab)
	}
	v := view(m)
	lines := strings.Split(v, "\n")
	at := -1
	for i, l := range lines {
		if strings.Contains(l, "• output[0].content[0].text") {
			at = i
		}
	}
	if at < 0 || at+2 >= len(lines) {
		t.Fatalf("path not listed:\n%s", v)
	}
	if !strings.Contains(lines[at+1], `webhook "The answer is 5."`) || !strings.Contains(lines[at+2], `GET     "The answer is 4."`) {
		t.Errorf("values under the path = %q / %q", lines[at+1], lines[at+2])
	}
	if !strings.Contains(v, "webhook (absent)") {
		t.Errorf("a side missing from the webhook is not shown as absent:\n%s", v)
	}
}

// An error's hint must be readable in the view, not only after quitting:
// the timeline row wraps.
func TestErrorRowWrapsHint(t *testing.T) {
	const hint = "set NGROK_AUTHTOKEN=… (dashboard.ngrok.com) or pass --public-url https://your.domain/hook to use your own tunnel"
	hs := newHarness(t, Options{NoColor: true}, 80, 24)
	hs.send(readyEv(), event.Created{ID: testID, Status: "queued"},
		event.Error{ExitCode: 5, Message: "the ngrok tunnel could not start: authentication failed (ERR_NGROK_105)", Hint: hint})
	v := view(hs.final(t, true))
	checkFits(t, v, 80, 24)
	var joined []string
	in := false
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "error ") && strings.Contains(l, "✗ exit 5") {
			in = true
		}
		if in {
			if strings.HasPrefix(l, "[") { // the tab bar ends the timeline
				break
			}
			joined = append(joined, strings.TrimSpace(l))
		}
	}
	// Wrapping may break at a hyphen: compare without the spaces.
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	if got := strings.Join(joined, " "); !strings.Contains(got, "ERR_NGROK_105") || !strings.Contains(squash(got), squash("→ "+hint)) {
		t.Errorf("error entry does not carry the whole message and hint:\n%s\n(view:\n%s)", got, v)
	}
}

// The Forward tab shows the app's side of a forward: status, latency,
// headers and body excerpt.
func TestForwardTab(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true, Mode: ModeListen}, 120, 30)
	d := deliveryEv("resp_aaa", 1, event.VerdictOK, 200, t0.Add(time.Second), "first answer")
	d.RecordID = "rec_1"
	hs.send(readyEv(), d, event.Forwarded{
		RecordID: "rec_1", ResponseID: "resp_aaa", URL: "http://127.0.0.1:3000/hook", StatusCode: 503, LatencyMS: 12,
		Excerpt: "upstream down\x1b[31m", Headers: map[string]string{"Content-Type": "text/plain", "X-App": "one"},
	})
	hs.keys(press("tab"), press("tab"), press("tab")) // Output → Payload → Headers → Forward
	m := hs.final(t, true)
	if m.tab != tabForward {
		t.Fatalf("tab = %v, want Forward", m.tab)
	}
	v := view(m)
	for _, want := range []string{"[Forward]", "http://127.0.0.1:3000/hook", "503", "12ms", "Content-Type: text/plain", "X-App: one", "upstream down"} {
		if !strings.Contains(v, want) {
			t.Errorf("Forward tab lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "\x1b") {
		t.Error("the app's body excerpt reached the terminal unsanitised")
	}
}

// On a row without forwards the Forward tab does not exist: the view falls
// back to Output rather than showing an empty tab.
func TestForwardTabFallsBackWithoutForwards(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true, Mode: ModeListen}, 120, 30)
	a := deliveryEv("resp_aaa", 1, event.VerdictOK, 200, t0.Add(time.Second), "first answer")
	b := deliveryEv("resp_bbb", 1, event.VerdictOK, 200, t0.Add(2*time.Second), "second answer")
	hs.send(readyEv(), a, event.Forwarded{ResponseID: "resp_aaa", URL: "http://127.0.0.1:3000/hook", StatusCode: 200}, b)
	hs.keys(press("j"), press("shift+tab")) // resp_aaa; Output → Forward, backwards
	hs.keys(press("k"))                     // resp_bbb: no forwards
	m := hs.final(t, true)
	v := view(m)
	if !strings.Contains(v, "[Output]") || strings.Contains(v, "Forward") || !strings.Contains(v, "second answer") {
		t.Errorf("want Output of resp_bbb and no Forward tab:\n%s", v)
	}
}
