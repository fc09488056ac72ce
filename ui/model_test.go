package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sailresearch/sail/internal/event"
)

// finalWait bounds every wait on a program in these tests.
const finalWait = 5 * time.Second

// harness runs a Model under teatest on a fixed size, the Ascii colour
// profile and a fixed clock (12:00:07, seven seconds after the start).
type harness struct {
	tm *teatest.TestModel
	// seen receives the internal result messages (save, replay) as the
	// update loop takes them, so a test can wait for a command to finish
	// without sleeping or scraping the output stream.
	seen chan tea.Msg
}

func newHarness(t *testing.T, o Options, w, h int) *harness {
	t.Helper()
	if o.Now == nil {
		o.Now = clockAt(t0.Add(7 * time.Second))
	}
	m := NewModel(o)
	m.start = t0
	hs := &harness{seen: make(chan tea.Msg, 16)}
	filter := func(_ tea.Model, msg tea.Msg) tea.Msg {
		switch msg.(type) {
		case savedMsg, replayedMsg:
			hs.seen <- msg
		}
		return msg
	}
	hs.tm = teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(
			tea.WithColorProfile(colorprofile.Ascii),
			tea.WithFilter(filter),
		),
	)
	return hs
}

func (h *harness) send(evs ...event.Event) {
	for _, e := range evs {
		h.tm.Send(EventMsg{Event: e})
	}
}

func (h *harness) keys(ks ...tea.KeyPressMsg) {
	for _, k := range ks {
		h.tm.Send(k)
	}
}

// waitFor blocks until the update loop took a message of type T.
func waitFor[T tea.Msg](t *testing.T, h *harness) T {
	t.Helper()
	deadline := time.After(finalWait)
	for {
		select {
		case msg := <-h.seen:
			if v, ok := msg.(T); ok {
				return v
			}
		case <-deadline:
			var zero T
			t.Fatalf("no %T within %s", zero, finalWait)
			return zero
		}
	}
}

// final quits (unless the program already ended) and returns the model.
func (h *harness) final(t *testing.T, quit bool) Model {
	t.Helper()
	if quit {
		if err := h.tm.Quit(); err != nil {
			t.Fatal(err)
		}
	}
	fm := h.tm.FinalModel(t, teatest.WithFinalTimeout(finalWait))
	m, ok := fm.(Model)
	if !ok {
		t.Fatalf("final model is %T", fm)
	}
	return m
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func typed(s string) []tea.KeyPressMsg {
	var ks []tea.KeyPressMsg
	for _, r := range s {
		ks = append(ks, press(string(r)))
	}
	return ks
}

func view(m Model) string { return m.View().Content }

// checkFits fails when any line of the view is wider than w or there are
// more than h lines.
func checkFits(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) > h {
		t.Errorf("view has %d lines, terminal has %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide (max %d): %q", i, lw, w, ansi.Strip(l))
		}
	}
}

func TestRunScenario(t *testing.T) {
	for _, size := range [][2]int{{100, 30}, {60, 15}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			hs := newHarness(t, Options{NoColor: true}, w, h)
			hs.send(runScenario(true)...)
			m := hs.final(t, true)

			if !m.done || m.status != "completed" {
				t.Errorf("done=%v status=%q, want done and completed", m.done, m.status)
			}
			if m.sel != 0 || len(m.deliveries) != 1 {
				t.Errorf("selected %d of %d deliveries, want 0 of 1", m.sel, len(m.deliveries))
			}
			if m.quitBeforeDone {
				t.Error("quit after Completed counted as quit before done")
			}
			v := view(m)
			for _, want := range []string{"✓ completed", "✓ ok", "7s", "https://3f2a.ngrok-free.app/h/7fK2", "token auto", "The answer is 4."} {
				if !strings.Contains(v, want) {
					t.Errorf("view lacks %q:\n%s", want, v)
				}
			}
			if strings.Contains(v, "Diff") {
				t.Errorf("Diff tab shown although the webhook matched GET:\n%s", v)
			}
			checkFits(t, v, w, h)
			golden.RequireEqual(t, v)
		})
	}
}

func TestTokenMismatchAndDuplicate(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 100, 30)
	bad := deliveryEv(testID, 1, event.VerdictMismatch, 401, t0.Add(3*time.Second), "The answer is 4.")
	dup := deliveryEv(testID, 2, event.VerdictOK, 200, t0.Add(5*time.Second), "The answer is 4.")
	dup.Duplicate = true
	missing := deliveryEv(testID, 3, event.VerdictMissing, 401, t0.Add(6*time.Second), "The answer is 4.")
	hs.send(readyEv(), event.Created{ID: testID, Status: "queued"}, bad, dup, missing)
	hs.keys(press("q"))
	m := hs.final(t, false)
	v := view(m)
	rows := map[string]string{}
	for _, l := range strings.Split(v, "\n") {
		for _, n := range []string{"#1", "#2", "#3"} {
			if strings.Contains(l, "webhook   "+n+" ") {
				rows[n] = l
			}
		}
	}
	if r := rows["#1"]; !strings.Contains(r, "401") || !strings.Contains(r, "✗ mismatch") || strings.Contains(r, "[dup]") {
		t.Errorf("mismatch row = %q, want 401, ✗ mismatch, no dup badge", r)
	}
	if r := rows["#2"]; !strings.Contains(r, "✓ ok") || !strings.Contains(r, "[dup]") {
		t.Errorf("duplicate row = %q, want ✓ ok and [dup]", r)
	}
	if r := rows["#3"]; !strings.Contains(r, "✗ missing") {
		t.Errorf("missing-token row = %q, want ✗ missing", r)
	}
	if m.done {
		t.Error("run marked done without Completed or Error")
	}
	if !m.quitBeforeDone {
		t.Error("q before Completed not reported as quit before done")
	}
}

func TestDiffTabOnlyWhenNotMatching(t *testing.T) {
	for _, matches := range []bool{true, false} {
		hs := newHarness(t, Options{NoColor: true}, 100, 30)
		hs.send(runScenario(matches)...)
		// Cycle through every tab once: with a Diff tab the fourth tab is
		// Diff, without one the cycle is back at Output.
		hs.keys(press("tab"), press("tab"), press("tab"))
		m := hs.final(t, true)
		v := view(m)
		if matches {
			if m.tab != tabOutput || strings.Contains(v, "Diff") {
				t.Errorf("matching payload: tab=%v, view:\n%s", m.tab, v)
			}
			continue
		}
		if m.tab != tabDiff {
			t.Errorf("differing payload: tab=%v after three tabs, want Diff", m.tab)
		}
		for _, want := range []string{"[Diff]", "output[0].content[0].text", "usage.output_tokens", "✗ webhook payload differs from GET"} {
			if !strings.Contains(v, want) {
				t.Errorf("view lacks %q:\n%s", want, v)
			}
		}
	}
}

func TestTabSwitching(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 100, 30)
	hs.send(runScenario(true)...)
	hs.keys(press("tab"))
	hs.tm.Send(EventMsg{Event: event.Notice{Level: "info", Message: "marker"}}) // a no-op for tabs
	hs.keys(press("tab"), press("tab"), press("shift+tab"), press("shift+tab"))
	m := hs.final(t, true)
	// Output → Payload → Headers → Output → Headers → Payload.
	if m.tab != tabPayload {
		t.Fatalf("tab = %v, want Payload", m.tab)
	}
	v := view(m)
	if !strings.Contains(v, "[Payload]") || !strings.Contains(v, `"webhook_token": "•••"`) {
		t.Errorf("payload tab not shown:\n%s", v)
	}
}

func TestHeadersTab(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 100, 30)
	hs.send(runScenario(true)...)
	hs.keys(press("shift+tab")) // Output → Headers, backwards
	m := hs.final(t, true)
	v := view(m)
	for _, want := range []string{"[Headers]", "Authorization: Bearer •••", "Content-Type: application/json", "127.0.0.1:52011"} {
		if !strings.Contains(v, want) {
			t.Errorf("headers view lacks %q:\n%s", want, v)
		}
	}
}

func TestListenSelection(t *testing.T) {
	hs := newHarness(t, Options{Mode: ModeListen, NoColor: true}, 100, 30)
	hs.send(readyEv())
	for i, id := range []string{"resp_aaa", "resp_bbb", "resp_ccc"} {
		hs.send(deliveryEv(id, 1, event.VerdictOK, 200, t0.Add(time.Duration(i+1)*time.Second), "answer "+id))
	}
	// Newest first: ccc (selected), bbb, aaa. j twice reaches the oldest,
	// a third j stays there, k goes back up one.
	hs.keys(press("j"), press("j"), press("j"), press("k"))
	m := hs.final(t, true)
	if got := m.deliveries[m.sel].ev.ResponseID; got != "resp_bbb" {
		t.Errorf("selected %s, want resp_bbb", got)
	}
	if m.follow {
		t.Error("still following the newest delivery after moving away")
	}
	v := view(m)
	c, b, a := strings.Index(v, "resp_ccc"), strings.Index(v, "resp_bbb"), strings.Index(v, "resp_aaa")
	if c < 0 || b < 0 || a < 0 || c >= b || b >= a {
		t.Errorf("list not newest first (ccc=%d bbb=%d aaa=%d):\n%s", c, b, a, v)
	}
	var selRow string
	for _, l := range strings.Split(v, "\n") {
		if strings.HasPrefix(l, "›") {
			selRow = l
		}
	}
	if !strings.Contains(selRow, "resp_bbb") {
		t.Errorf("selection marker on %q, want the resp_bbb row", selRow)
	}
	if !strings.Contains(v, "answer resp_bbb") {
		t.Errorf("Output tab does not show the selected delivery:\n%s", v)
	}
	if !strings.Contains(v, "3 deliveries · 3 accepted") {
		t.Errorf("header lacks the counts:\n%s", v)
	}
}

func TestListenFollowsNewest(t *testing.T) {
	hs := newHarness(t, Options{Mode: ModeListen, NoColor: true}, 100, 30)
	hs.send(readyEv(), deliveryEv("resp_aaa", 1, event.VerdictOK, 200, t0, "a"))
	hs.send(deliveryEv("resp_bbb", 1, event.VerdictOK, 200, t0, "b"))
	m := hs.final(t, true)
	if m.sel != 1 {
		t.Errorf("selected %d, want the newest (1)", m.sel)
	}
}

func TestSearch(t *testing.T) {
	// Tall enough for the whole payload, so every match is on screen.
	hs := newHarness(t, Options{NoColor: true}, 100, 50)
	hs.send(runScenario(true)...)
	hs.keys(press("/"))
	hs.keys(typed("COMPLETED")...) // case-insensitive
	hs.keys(press("enter"), press("n"), press("n"), press("N"))
	m := hs.final(t, true)
	// "completed" occurs three times in the payload: completed_at, the
	// response status and the message status.
	if m.tab != tabPayload {
		t.Errorf("search did not switch to the Payload tab (tab=%v)", m.tab)
	}
	if m.search.typing || m.search.query != "COMPLETED" {
		t.Errorf("search state = %+v", m.search)
	}
	if n := len(m.search.matches); n != 3 {
		t.Fatalf("%d matches, want 3: %+v", n, m.search.matches)
	}
	if m.search.cur != 1 {
		t.Errorf("current match %d after n, n, N; want 1", m.search.cur)
	}
	v := view(m)
	if got := strings.Count(v, ">>completed<<"); got != 1 {
		t.Errorf("current match marked %d times, want once:\n%s", got, v)
	}
	if got := strings.Count(v, "«completed»"); got != 2 {
		t.Errorf("other matches marked %d times, want twice:\n%s", got, v)
	}
	if !strings.Contains(v, `"COMPLETED": match 2/3`) {
		t.Errorf("footer does not show the position:\n%s", v)
	}
}

func TestSearchWrapsAndEscClears(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 100, 40)
	hs.send(runScenario(true)...)
	hs.keys(press("/"))
	hs.keys(typed("completed")...)
	hs.keys(press("enter"), press("N")) // from the first match back to the last
	hs.keys(press("esc"))
	m := hs.final(t, true)
	if m.search.query != "" || len(m.search.matches) != 0 {
		t.Errorf("esc left the search active: %+v", m.search)
	}
	if v := view(m); strings.Contains(v, "«") || strings.Contains(v, ">>") {
		t.Errorf("highlights remain after esc:\n%s", v)
	}
}

func TestSearchLastAfterWrap(t *testing.T) {
	m := NewModel(Options{NoColor: true})
	var tm tea.Model = m
	for _, e := range runScenario(true) {
		tm, _ = tm.Update(EventMsg{Event: e})
	}
	for _, k := range append(append([]tea.KeyPressMsg{press("/")}, typed("completed")...), press("enter"), press("N")) {
		tm, _ = tm.Update(k)
	}
	got := tm.(Model)
	if got.search.cur != len(got.search.matches)-1 {
		t.Errorf("N from the first match went to %d, want the last (%d)", got.search.cur, len(got.search.matches)-1)
	}
}

func TestSearchScrollsToMatch(t *testing.T) {
	// A long payload: the only match is far below the first screen.
	lines := map[string]string{}
	for i := range 200 {
		lines[fmt.Sprintf("k%d", 1000+i)] = "filler"
	}
	lines["zz_needle"] = "here"
	body, _ := json.Marshal(lines)
	d := deliveryEv(testID, 1, event.VerdictOK, 200, t0, "x")
	d.Body = body
	hs := newHarness(t, Options{NoColor: true}, 80, 20)
	hs.send(readyEv(), d)
	hs.keys(press("/"))
	hs.keys(typed("needle")...)
	hs.keys(press("enter"))
	m := hs.final(t, true)
	v := view(m)
	if !strings.Contains(v, ">>needle<<") {
		t.Errorf("current match not scrolled into view:\n%s", v)
	}
	checkFits(t, v, 80, 20)
}

func TestSaveWritesRedactedPayload(t *testing.T) {
	dir := t.TempDir()
	hs := newHarness(t, Options{NoColor: true, SaveDir: dir}, 140, 30)
	evs := runScenario(true)
	hs.send(evs...)
	hs.keys(press("s"))
	saved := waitFor[savedMsg](t, hs)
	m := hs.final(t, true)

	want := filepath.Join(dir, "sail-"+testID+"-1.json")
	if saved.err != nil || saved.path != want {
		t.Fatalf("saved %q, %v; want %q", saved.path, saved.err, want)
	}
	fi, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("saved file is not JSON: %v", err)
	}
	_ = json.Unmarshal(evs[3].(event.Delivery).Body, &b)
	if ja, jb := mustJSON(a), mustJSON(b); ja != jb {
		t.Errorf("saved payload differs from the delivered one:\n%s\n%s", ja, jb)
	}
	if !bytes.Contains(got, []byte(`"webhook_token": "•••"`)) {
		t.Errorf("saved payload lacks the redacted token:\n%s", got)
	}
	if v := view(m); !strings.Contains(v, "saved payload to "+want) {
		t.Errorf("view does not show the path %s:\n%s", want, v)
	}
}

// withEvents feeds events straight to Update, for tests that need a model
// in a given state without a program.
func (m Model) withEvents(evs ...event.Event) Model {
	var tm tea.Model = m
	for _, e := range evs {
		tm, _ = tm.Update(EventMsg{Event: e})
	}
	return tm.(Model)
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestSaveReportsUnwritableDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	hs := newHarness(t, Options{NoColor: true, SaveDir: dir}, 140, 30)
	hs.send(runScenario(true)...)
	hs.keys(press("s"))
	saved := waitFor[savedMsg](t, hs)
	m := hs.final(t, true)
	if saved.err == nil {
		t.Fatal("saving into a missing directory succeeded")
	}
	if !m.flash.bad || !strings.Contains(m.flash.text, "writable") {
		t.Errorf("flash = %+v, want an error that says what to check", m.flash)
	}
}

func TestReplay(t *testing.T) {
	var mu sync.Mutex
	var got []event.Delivery
	replay := func(ctx context.Context, d event.Delivery) event.Forwarded {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
		return event.Forwarded{ResponseID: d.ResponseID, URL: "http://127.0.0.1:3000/hook", StatusCode: 202, LatencyMS: 12}
	}
	hs := newHarness(t, Options{NoColor: true, Replay: replay}, 120, 30)
	hs.send(runScenario(true)...)
	hs.keys(press("r"))
	r := waitFor[replayedMsg](t, hs)
	m := hs.final(t, true)

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].ResponseID != testID || r.index != 0 {
		t.Fatalf("Replay called with %+v (index %d), want the selected delivery once", got, r.index)
	}
	if d := m.deliveries[0]; d.replaying || len(d.forwards) != 1 || d.forwards[0].StatusCode != 202 {
		t.Errorf("delivery after replay: replaying=%v forwards=%+v", d.replaying, d.forwards)
	}
	v := view(m)
	if !strings.Contains(v, "replayed #1 to http://127.0.0.1:3000/hook: HTTP 202 in 12ms") {
		t.Errorf("replay result not shown:\n%s", v)
	}
	if !strings.Contains(v, "replayed  → http://127.0.0.1:3000/hook 202") {
		t.Errorf("replay not in the timeline:\n%s", v)
	}
}

func TestReplayWithoutForwardTo(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 120, 30)
	hs.send(runScenario(true)...)
	hs.keys(press("r"))
	m := hs.final(t, true)
	if v := view(m); !strings.Contains(v, "no --forward-to set") {
		t.Errorf("r without Replay does not say so:\n%s", v)
	}
	if len(m.deliveries[0].forwards) != 0 {
		t.Error("a forward was recorded without Replay")
	}
}

func TestHelpToggle(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 100, 30)
	hs.send(runScenario(true)...)
	hs.keys(press("?"))
	m := hs.final(t, true)
	if !m.help.ShowAll {
		t.Fatal("? did not open the full help")
	}
	v := view(m)
	for _, want := range []string{"scroll down", "prev tab", "save file", "copy"} {
		if !strings.Contains(v, want) {
			t.Errorf("full help lacks %q:\n%s", want, v)
		}
	}
	checkFits(t, v, 100, 30)

	hs2 := newHarness(t, Options{NoColor: true}, 100, 30)
	hs2.send(runScenario(true)...)
	hs2.keys(press("?"), press("?"))
	m2 := hs2.final(t, true)
	if m2.help.ShowAll {
		t.Error("second ? did not close the full help")
	}
	if strings.Contains(view(m2), "scroll down") {
		t.Error("full help still shown after the second ?")
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		hs := newHarness(t, Options{NoColor: true}, 80, 24)
		hs.send(readyEv(), event.Created{ID: testID, Status: "queued"})
		hs.keys(press(k))
		m := hs.final(t, false) // the key alone must end the program
		if !m.quitting || !m.quitBeforeDone {
			t.Errorf("%s: quitting=%v quitBeforeDone=%v, want both", k, m.quitting, m.quitBeforeDone)
		}
	}
}

func TestQuitInSearchOnlyWithCtrlC(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 80, 24)
	hs.send(runScenario(true)...)
	hs.keys(press("/"), press("q")) // q is part of the query here
	hs.keys(press("ctrl+c"))
	m := hs.final(t, false)
	if m.search.query != "q" || !m.quitting {
		t.Errorf("query=%q quitting=%v; want q typed, then ctrl+c to quit", m.search.query, m.quitting)
	}
}

func TestExitOnComplete(t *testing.T) {
	for _, last := range []event.Event{
		nil, // the run scenario's own Completed
		event.Error{ExitCode: 3, Message: "webhook token mismatch", Hint: "check --webhook-token"},
	} {
		hs := newHarness(t, Options{NoColor: true, ExitOnComplete: true}, 80, 24)
		evs := runScenario(true)
		if last != nil {
			evs = append(evs[:len(evs)-1], last)
		}
		hs.send(evs...)
		m := hs.final(t, false)
		if !m.done || m.quitBeforeDone || !m.quitting {
			t.Errorf("last=%T: done=%v quitBeforeDone=%v quitting=%v", last, m.done, m.quitBeforeDone, m.quitting)
		}
		if last != nil && !strings.Contains(view(m), "✗ error (exit 3)") {
			t.Errorf("error chip missing:\n%s", view(m))
		}
	}
}

func TestStaysAfterCompletedWithoutExitOnComplete(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 80, 24)
	hs.send(runScenario(true)...)
	hs.keys(press("j")) // still answering keys after Completed
	hs.send(event.Notice{Message: "still here"})
	m := hs.final(t, true)
	if !m.done || m.quitBeforeDone {
		t.Errorf("done=%v quitBeforeDone=%v", m.done, m.quitBeforeDone)
	}
	if !strings.Contains(view(m), "still here") {
		t.Error("an event after Completed was not shown: the program had quit")
	}
}

var sgrColour = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

func TestNoColor(t *testing.T) {
	build := func(noColor bool) string {
		hs := newHarness(t, Options{NoColor: noColor}, 100, 30)
		hs.send(runScenario(false)...)
		hs.keys(press("tab"), press("/"))
		hs.keys(typed("model")...)
		hs.keys(press("enter"))
		return view(hs.final(t, true))
	}
	plain := build(true)
	if strings.Contains(plain, "\x1b") {
		t.Errorf("NoColor view contains escape sequences: %q", plain)
	}
	// The same screen with colour does carry SGR sequences, so the check
	// above can fail.
	if coloured := build(false); !sgrColour.MatchString(coloured) {
		t.Errorf("coloured view has no SGR sequence: %q", coloured)
	}
}

func TestSmallTerminals(t *testing.T) {
	long := deliveryEv(testID, 1, event.VerdictMismatch, 401, t0, strings.Repeat("wide 漢字 text ", 40))
	long.Error = "token mismatch: the bearer token did not match the one sent with the request"
	for _, size := range [][2]int{{60, 15}, {40, 10}, {30, 6}, {20, 4}} {
		for _, full := range []bool{false, true} {
			m := NewModel(Options{NoColor: true})
			var tm tea.Model = m
			tm, _ = tm.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			for _, e := range append(runScenario(false), long) {
				tm, _ = tm.Update(EventMsg{Event: e})
			}
			if full {
				tm, _ = tm.Update(press("?"))
			}
			for _, k := range []string{"", "tab", "tab", "tab"} {
				if k != "" {
					tm, _ = tm.Update(press(k))
				}
				checkFits(t, tm.View().Content, size[0], size[1])
			}
		}
	}
}

func TestAdaptsToLightBackground(t *testing.T) {
	var tm tea.Model = NewModel(Options{})
	for _, e := range runScenario(true) {
		tm, _ = tm.Update(EventMsg{Event: e})
	}
	dark := tm.View().Content
	tm, _ = tm.Update(tea.BackgroundColorMsg{Color: colorWhite{}})
	if tm.(Model).dark {
		t.Fatal("a white background was taken as dark")
	}
	if light := tm.View().Content; light == dark {
		t.Error("the palette did not change for a light background")
	}
}

type colorWhite struct{}

func (colorWhite) RGBA() (r, g, b, a uint32) { return 0xffff, 0xffff, 0xffff, 0xffff }

func TestTerminalRestoredOnExit(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 80, 24)
	hs.send(runScenario(true)...)
	if err := hs.tm.Quit(); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(hs.tm.FinalOutput(t, teatest.WithFinalTimeout(finalWait)))
	if err != nil {
		t.Fatal(err)
	}
	enter, leave := bytes.LastIndex(out, []byte(ansi.SetModeAltScreenSaveCursor)), bytes.LastIndex(out, []byte(ansi.ResetModeAltScreenSaveCursor))
	if enter < 0 || leave < enter {
		t.Errorf("alternate screen not left at exit (enter at %d, leave at %d)", enter, leave)
	}
	if bytes.Contains(out, []byte("could not open")) {
		t.Error("the TUI printed a TTY error")
	}
}

func TestPointerEventsAccepted(t *testing.T) {
	// event.Decode returns pointers; the TUI takes them as well.
	var tm tea.Model = NewModel(Options{NoColor: true})
	for _, e := range runScenario(true) {
		line, err := event.Marshal(e, t0)
		if err != nil {
			t.Fatal(err)
		}
		d, err := event.Decode(line)
		if err != nil {
			t.Fatal(err)
		}
		tm, _ = tm.Update(EventMsg{Event: d})
	}
	var nilReady *event.Ready
	tm, _ = tm.Update(EventMsg{Event: nilReady})
	m := tm.(Model)
	if !m.done || m.created == nil || m.created.ID != testID || m.ready == nil {
		t.Errorf("decoded events not applied: done=%v created=%+v", m.done, m.created)
	}
}

func TestCopyUsesOSC52(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 120, 30)
	evs := runScenario(true)
	hs.send(evs...)
	hs.keys(press("y"))
	// The clipboard write is a command: wait for it to reach the terminal
	// before quitting, or the quit could overtake it.
	ref := NewModel(Options{}).withEvents(evs...)
	p, _ := ref.payload()
	want := []byte(ansi.SetSystemClipboard(string(p.file())))
	teatest.WaitFor(t, hs.tm.Output(), func(out []byte) bool { return bytes.Contains(out, want) },
		teatest.WithDuration(finalWait), teatest.WithCheckInterval(10*time.Millisecond))
	m := hs.final(t, true)
	if !strings.Contains(view(m), "copied") {
		t.Errorf("no confirmation shown:\n%s", view(m))
	}
}

func TestFlashClearedByNextKey(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true, Mode: ModeListen}, 120, 30)
	hs.send(readyEv())
	hs.keys(press("s")) // nothing to save yet: an error message
	hs.send(event.Notice{Level: "warn", Message: "forwarding to http://127.0.0.1:3000 failed"})
	hs.keys(press("j"))
	m := hs.final(t, true)
	if v := view(m); strings.Contains(v, "no payload to save") || !strings.Contains(v, "forwarding to http://127.0.0.1:3000 failed") {
		t.Errorf("footer should have moved on to the notice:\n%s", v)
	}
}

func TestListenGolden(t *testing.T) {
	hs := newHarness(t, Options{Mode: ModeListen, NoColor: true}, 100, 30)
	hs.send(readyEv())
	hs.send(deliveryEv("resp_aaa", 1, event.VerdictOK, 200, t0.Add(time.Second), "first answer"))
	bad := deliveryEv("resp_bbb", 1, event.VerdictMismatch, 401, t0.Add(2*time.Second), "second answer")
	hs.send(bad)
	dup := deliveryEv("resp_aaa", 2, event.VerdictOK, 200, t0.Add(3*time.Second), "first answer")
	dup.Duplicate = true
	hs.send(dup, event.Forwarded{ResponseID: "resp_aaa", URL: "http://127.0.0.1:3000/hook", StatusCode: 200, LatencyMS: 8})
	m := hs.final(t, true)
	v := view(m)
	if !strings.Contains(v, "3 deliveries · 2 accepted · 1 rejected · 1 duplicate") {
		t.Errorf("counts wrong:\n%s", v)
	}
	checkFits(t, v, 100, 30)
	golden.RequireEqual(t, v)
}

// A result fetched by polling after the webhook failed is not shown as a
// success in a webhook run.
func TestResultWithoutWebhookIsNotGreen(t *testing.T) {
	hs := newHarness(t, Options{NoColor: true}, 100, 30)
	hs.send(readyEv(), event.Created{ID: testID, Status: "queued"},
		event.Completed{ID: testID, Status: "completed", OutputText: "4", Source: "poll"},
		event.Error{ExitCode: 3, Message: "webhook not delivered"})
	hs.keys(press("q"))
	v := view(hs.final(t, true))
	var row string
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "result ") {
			row = l
		}
	}
	if !strings.Contains(row, "● completed") || strings.Contains(row, "✓") || !strings.Contains(row, "no webhook") {
		t.Fatalf("result row = %q, want ● completed … no webhook", row)
	}
}

func TestListenShowsWhatToPasteUntilTheFirstDelivery(t *testing.T) {
	hs := newHarness(t, Options{Mode: ModeListen, NoColor: true}, 160, 30)
	r := readyEv()
	r.TokenMode, r.Warning = "none", "No token: anyone who has this URL can post to it."
	r.Try = []string{"sail responses create --background --webhook-url https://3f2a.ngrok-free.app/h/7fK2 \"What is 2+2?\"", "sail trigger --to https://3f2a.ngrok-free.app/h/7fK2"}
	hs.send(r)
	v := view(hs.final(t, true))
	for _, want := range []string{"! No token: anyone who has this URL can post to it.", "Try it:", "sail trigger --to https://3f2a.ngrok-free.app/h/7fK2", "sail responses create --background"} {
		if !strings.Contains(v, want) {
			t.Errorf("listen view lacks %q:\n%s", want, v)
		}
	}

	if strings.Contains(v, "token made by") {
		t.Errorf("a view without --token auto shows a token line:\n%s", v)
	}

	// --token auto: the token was printed before the view covered it, so
	// the view shows it beside the lines that need it.
	hs = newHarness(t, Options{Mode: ModeListen, NoColor: true, NewToken: "Nthct3obYQV110tRUo3SvBx1Q5IT"}, 160, 30)
	r.TokenMode, r.Warning = "auto", ""
	hs.send(r)
	if v := view(hs.final(t, true)); !strings.Contains(v, "token made by --token auto: Nthct3obYQV110tRUo3SvBx1Q5IT") {
		t.Errorf("listen view with --token auto lacks its token:\n%s", v)
	}

	hs = newHarness(t, Options{Mode: ModeListen, NoColor: true}, 160, 30)
	hs.send(r, deliveryEv("resp_aaa", 1, event.VerdictOK, 200, t0, "a"))
	if v := view(hs.final(t, true)); strings.Contains(v, "Try it:") {
		t.Errorf("the paste lines stay after a delivery:\n%s", v)
	}
}
