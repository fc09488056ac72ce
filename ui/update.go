package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/render"
)

// maxMatches bounds a search so a one-letter query on a huge payload stays
// responsive.
const maxMatches = 10000

// savedMsg reports the outcome of `s`.
type savedMsg struct {
	path string
	err  error
}

// replayedMsg reports the outcome of `r` for the delivery at index.
type replayedMsg struct {
	index int
	fwd   event.Forwarded
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 1), max(msg.Height, 1)
	case tea.BackgroundColorMsg:
		m.dark = msg.IsDark()
		m.applyStyles()
	case spinner.TickMsg:
		if m.done {
			// Stop ticking: nothing moves once the run is over.
			return m, nil
		}
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case clockMsg:
		if m.done {
			return m, nil
		}
		return m, clockTick()
	case EventMsg:
		cmd = m.handleEvent(msg.Event)
	case batchMsg:
		m.c.work.Batches++
		var cmds []tea.Cmd
		for _, e := range msg.evs {
			if c := m.handleEvent(e); c != nil {
				cmds = append(cmds, c)
			}
		}
		m.fold(msg.over)
		cmd = tea.Batch(cmds...)
	case tea.KeyPressMsg:
		cmd = m.handleKey(msg)
	case savedMsg:
		if msg.err != nil {
			m.flash = flash{text: msg.err.Error(), bad: true}
		} else {
			m.flash = flash{text: "saved payload to " + msg.path}
		}
	case replayedMsg:
		m.handleReplayed(msg)
	}
	m.sync()
	return m, cmd
}

// handleEvent folds one event into the state. It does constant work: the
// payload of a delivery is only kept (in a bounded ring), never parsed
// here; the view prepares what it shows when it shows it.
func (m *Model) handleEvent(e event.Event) tea.Cmd {
	e = deref(e)
	if e == nil {
		return nil
	}
	now := m.now()
	add := func() {
		if m.opts.Mode == ModeRun {
			m.addEntry(entry{at: now, ev: e, delivery: noSel})
		}
	}
	switch e := e.(type) {
	case event.Ready:
		m.rev++ // a listener's empty Output tab shows its paste lines
		m.ready = &e
	case event.Created:
		m.rev++
		m.created = &e
		if !m.done && e.Status != "" {
			m.status = e.Status
		}
		add()
	case event.Status:
		if m.done || e.Status == "" || e.Status == m.status {
			return nil
		}
		m.status = e.Status
		add()
	case event.Delivery:
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = now
		}
		m.counts.add(e)
		st := Stored{Body: e.Body, Headers: e.Headers}
		e.Body, e.Headers = nil, nil
		idx := m.appendRow(delivery{ev: e})
		m.c.ring.put(m.row(idx).seq, st)
		if m.follow || m.sel == noSel {
			m.selectDelivery(idx)
		}
		if m.opts.Mode == ModeRun {
			m.addEntry(entry{at: e.ReceivedAt, delivery: idx})
		}
	case event.Forwarded:
		if i := m.findDelivery(e.RecordID, e.ResponseID); i != noSel {
			d := m.row(i)
			d.forwards = appendForward(d.forwards, e)
			d.ver++
			if i == m.sel {
				m.rev++
			}
		}
		add()
	case event.Verified:
		m.rev++
		m.verified = &e
		add()
	case event.Completed:
		m.rev++
		m.completed = &e
		if m.selected() == nil {
			m.invalidateDetail()
		}
		if e.Status != "" {
			m.status = e.Status
		}
		m.finish(now)
		add()
	case event.Notice:
		m.notice = &e
		add()
	case event.Error:
		m.rev++
		m.failure = &e
		m.finish(now)
		add()
	}
	if m.done && m.opts.ExitOnComplete && !m.quitting {
		m.quitting = true
		return tea.Quit
	}
	return nil
}

// appendForward keeps the newest maxForwards forwards of a row.
func appendForward(fs []event.Forwarded, f event.Forwarded) []event.Forwarded {
	fs = append(fs, f)
	if len(fs) > maxForwards {
		fs = append(fs[:0:0], fs[len(fs)-maxForwards:]...)
	}
	return fs
}

// addEntry appends to run's timeline, bounded like the rows.
func (m *Model) addEntry(en entry) {
	m.tl.push(en, m.maxRows())
	m.timeline = m.tl.items()
}

// fold adds what the queue could not deliver: the deliveries count in the
// totals and show as one gap row, so nothing is silently missing.
func (m *Model) fold(o Overflow) {
	if o.empty() {
		return
	}
	m.counts.total += o.Deliveries
	m.counts.accepted += o.Accepted
	m.counts.rejected += o.Rejected
	m.counts.dups += o.Duplicates
	m.overflow.Deliveries += o.Deliveries
	m.overflow.Other += o.Other
	if o.Deliveries == 0 {
		return
	}
	now := m.now()
	since := o.Since
	if since.IsZero() {
		since = now
	}
	idx := m.appendRow(delivery{gap: o.Deliveries, ev: event.Delivery{ReceivedAt: since}})
	if m.sel == noSel {
		m.selectDelivery(idx)
	}
	if m.opts.Mode == ModeRun {
		m.addEntry(entry{at: now, delivery: idx})
	}
}

// finish marks the run over; the clock and the spinner stop.
func (m *Model) finish(now time.Time) {
	if !m.done {
		m.done = true
		m.finishedAt = now
	}
}

// findDelivery returns the delivery a forward belongs to: by history record
// id, else the newest one of the same response; noSel if none.
//
// Forwards follow their delivery closely, so only the newest rows are
// searched: the work per event stays constant however many rows there are.
func (m *Model) findDelivery(recordID, responseID string) int {
	const scan = 512
	for i := len(m.deliveries) - 1; i >= max(len(m.deliveries)-scan, 0); i-- {
		d := m.deliveries[i].ev
		if recordID != "" && d.RecordID == recordID {
			return m.base + i
		}
		if recordID == "" && responseID != "" && d.ResponseID == responseID {
			return m.base + i
		}
	}
	return noSel
}

func (m *Model) handleKey(k tea.KeyPressMsg) tea.Cmd {
	if m.search.typing {
		return m.searchKey(k)
	}
	// A message answers the last key; the next key makes room for the
	// footer's other uses.
	m.flash = flash{}
	switch {
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	case key.Matches(k, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(k, m.keys.Down):
		m.move(1)
	case key.Matches(k, m.keys.Up):
		m.move(-1)
	case key.Matches(k, m.keys.Top):
		m.jump(true)
	case key.Matches(k, m.keys.Bottom):
		m.jump(false)
	case key.Matches(k, m.keys.NextTab):
		m.cycleTab(1)
	case key.Matches(k, m.keys.PrevTab):
		m.cycleTab(-1)
	case key.Matches(k, m.keys.PageDown):
		m.c.vp.PageDown()
	case key.Matches(k, m.keys.PageUp):
		m.c.vp.PageUp()
	case key.Matches(k, m.keys.Search):
		m.tab = tabPayload
		m.search = searchState{typing: true}
	case key.Matches(k, m.keys.NextMatch):
		m.stepMatch(1)
	case key.Matches(k, m.keys.PrevMatch):
		m.stepMatch(-1)
	case key.Matches(k, m.keys.Esc):
		m.search = searchState{}
	case key.Matches(k, m.keys.Replay):
		return m.replay()
	case key.Matches(k, m.keys.Save):
		return m.save()
	case key.Matches(k, m.keys.Copy):
		return m.copyPayload()
	}
	return nil
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	m.quitBeforeDone = !m.done
	return tea.Quit
}

// searchKey edits the query on the footer line. The view follows every
// keystroke, so matches show while typing.
func (m *Model) searchKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "ctrl+c":
		return m.quit()
	case "esc":
		m.search = searchState{}
		return nil
	case "enter":
		m.search.typing = false
		if m.search.query != "" && len(m.search.matches) == 0 {
			m.flash = flash{text: fmt.Sprintf("no match for %q", m.search.query), bad: true}
		}
		return nil
	case "backspace":
		q := []rune(m.search.query)
		if len(q) > 0 {
			m.search.query = string(q[:len(q)-1])
		}
	default:
		if k.Text == "" {
			return nil
		}
		m.search.query += k.Text
	}
	m.findMatches()
	return nil
}

// findMatches searches the selected payload for the query, ignoring case.
func (m *Model) findMatches() {
	m.search.matches = nil
	m.search.cur = 0
	m.search.forSel = m.selSeq()
	if m.search.query == "" {
		return
	}
	p, ok := m.payload()
	if !ok {
		return
	}
	re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(m.search.query))
	for i, line := range p.lines[:min(len(p.lines), maxPayloadLines)] {
		for _, loc := range re.FindAllStringIndex(line, -1) {
			if loc[1] == loc[0] {
				continue
			}
			m.search.matches = append(m.search.matches, match{line: i, start: loc[0], end: loc[1]})
			if len(m.search.matches) >= maxMatches {
				return
			}
		}
	}
}

func (m *Model) stepMatch(d int) {
	n := len(m.search.matches)
	if n == 0 {
		return
	}
	m.search.cur = ((m.search.cur+d)%n + n) % n
}

// move changes the selected delivery; d > 0 is down the screen. In listen
// mode the list is newest first, so down means older.
func (m *Model) move(d int) {
	if len(m.deliveries) == 0 {
		return
	}
	if m.opts.Mode == ModeListen {
		d = -d
	}
	want := m.sel + d
	if want < m.base && m.opts.Mode == ModeListen {
		m.pageOlder()
	}
	m.selectDelivery(min(max(want, m.base), m.last()))
	m.follow = m.sel == m.last()
}

// jump selects the first (top) or last row on screen. In listen mode the
// last row is the oldest; jumping there again pages older deliveries in
// from the history.
func (m *Model) jump(top bool) {
	if len(m.deliveries) == 0 {
		return
	}
	newest := top == (m.opts.Mode == ModeListen)
	if newest {
		m.selectDelivery(m.last())
		m.follow = true
		return
	}
	if m.opts.Mode == ModeListen && m.sel == m.base {
		m.pageOlder()
	}
	m.selectDelivery(m.base)
	m.follow = m.sel == m.last()
}

// pageOlder loads the deliveries stored before the oldest row from the
// history, when the user scrolls past it.
func (m *Model) pageOlder() {
	if m.opts.Older == nil || m.noOlder {
		return
	}
	oldest := m.row(m.base)
	if oldest == nil || oldest.ev.RecordID == "" {
		return
	}
	n := min(pageRows, max(m.maxRows()-m.paged, 0))
	if n == 0 {
		return
	}
	evs, err := m.opts.Older(oldest.ev.RecordID, n)
	if err != nil {
		m.flash = flash{text: "could not read older deliveries from the history: " + err.Error(), bad: true}
		return
	}
	if len(evs) == 0 {
		m.noOlder = true
		return
	}
	page := make([]delivery, 0, len(evs)+len(m.deliveries))
	for i := len(evs) - 1; i >= 0; i-- { // newest first in, oldest first here
		e := evs[i]
		e.Body, e.Headers = nil, nil
		m.nextSeq++
		page = append(page, delivery{seq: m.nextSeq, ev: e})
	}
	m.rows.prepend(page)
	m.deliveries = m.rows.items()
	m.base -= len(page)
	m.paged += len(page)
}

func (m *Model) selectDelivery(i int) {
	m.sel = i
}

func (m *Model) cycleTab(d int) {
	ts := m.tabs()
	cur := 0
	for i, t := range ts {
		if t == m.tab {
			cur = i
		}
	}
	m.tab = ts[((cur+d)%len(ts)+len(ts))%len(ts)]
}

// replay re-posts the selected delivery through Options.Replay, off the
// update loop; the result comes back as a replayedMsg.
func (m *Model) replay() tea.Cmd {
	d := m.selected()
	switch {
	case m.opts.Replay == nil:
		m.flash = flash{text: "no --forward-to set: start with --forward-to URL to replay deliveries", bad: true}
		return nil
	case d == nil:
		m.flash = flash{text: "no delivery to replay yet", bad: true}
		return nil
	case d.replaying:
		m.flash = flash{text: "a replay of this delivery is already running"}
		return nil
	}
	det := m.detail()
	if len(det.Body) == 0 {
		m.flash = flash{text: "cannot replay: " + det.err, bad: true}
		return nil
	}
	d.replaying = true
	d.ver++
	m.rev++
	m.flash = flash{text: fmt.Sprintf("replaying delivery #%d…", d.ev.Attempt)}
	ev := d.ev
	ev.Body, ev.Headers = det.Body, det.Headers
	ctx, replay, idx := m.ctx, m.opts.Replay, m.sel
	return func() tea.Msg {
		return replayedMsg{index: idx, fwd: replay(ctx, ev)}
	}
}

func (m *Model) handleReplayed(r replayedMsg) {
	d := m.row(r.index)
	if d == nil {
		return
	}
	d.replaying = false
	d.forwards = appendForward(d.forwards, r.fwd)
	d.ver++
	m.rev++
	if m.opts.Mode == ModeRun {
		m.addEntry(entry{at: m.now(), ev: r.fwd, delivery: noSel, replay: true})
	}
	f := r.fwd
	switch {
	case f.Error != "":
		m.flash = flash{text: fmt.Sprintf("replay of #%d to %s failed: %s", d.ev.Attempt, oneLine(f.URL), oneLine(f.Error)), bad: true}
	case f.StatusCode < 200 || f.StatusCode > 299:
		m.flash = flash{text: fmt.Sprintf("replayed #%d to %s: HTTP %d in %s", d.ev.Attempt, oneLine(f.URL), f.StatusCode, fmtMS(f.LatencyMS)), bad: true}
	default:
		m.flash = flash{text: fmt.Sprintf("replayed #%d to %s: HTTP %d in %s", d.ev.Attempt, oneLine(f.URL), f.StatusCode, fmtMS(f.LatencyMS))}
	}
}

// save writes the selected payload to SaveDir as sail-<id>-<n>.json, off
// the update loop.
func (m *Model) save() tea.Cmd {
	p, ok := m.payload()
	if !ok {
		m.flash = flash{text: "no payload to save yet", bad: true}
		return nil
	}
	dir := m.opts.SaveDir
	if dir == "" {
		dir = "."
	}
	name := fmt.Sprintf("sail-%s-%d.json", safeName(m.responseID()), p.n)
	data := p.file()
	return func() tea.Msg {
		path, err := writePayload(dir, name, data)
		return savedMsg{path: path, err: err}
	}
}

// writePayload writes data to dir/name readable by the owner only: payloads
// can hold private prompts and answers.
func writePayload(dir, name string, data []byte) (string, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return path, fmt.Errorf("save payload: %w (check that the directory exists and is writable)", err)
	}
	// An existing file keeps its old mode when opened; tighten it.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return path, fmt.Errorf("save payload: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return path, fmt.Errorf("save payload: %w (is the disk full?)", err)
	}
	if err := f.Close(); err != nil {
		return path, fmt.Errorf("save payload: %w", err)
	}
	return path, nil
}

// safeName keeps a response id usable as part of a file name.
func safeName(id string) string {
	if id == "" {
		return "delivery"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, id)
}

// copyPayload puts the selected payload on the clipboard with OSC 52, which
// also works over SSH when the terminal supports it.
func (m *Model) copyPayload() tea.Cmd {
	p, ok := m.payload()
	if !ok {
		m.flash = flash{text: "no payload to copy yet", bad: true}
		return nil
	}
	data := p.file()
	m.flash = flash{text: fmt.Sprintf("copied %s to the clipboard (OSC 52, if the terminal allows it)", render.HumanBytes(int64(len(data))))}
	return tea.SetClipboard(string(data))
}

// deref accepts events by value or by pointer (event.Decode returns
// pointers) and returns them by value; nil pointers become nil.
func deref(e event.Event) event.Event {
	switch v := e.(type) {
	case *event.Ready:
		if v != nil {
			return *v
		}
	case *event.Created:
		if v != nil {
			return *v
		}
	case *event.Status:
		if v != nil {
			return *v
		}
	case *event.Delivery:
		if v != nil {
			return *v
		}
	case *event.Forwarded:
		if v != nil {
			return *v
		}
	case *event.Verified:
		if v != nil {
			return *v
		}
	case *event.Completed:
		if v != nil {
			return *v
		}
	case *event.Notice:
		if v != nil {
			return *v
		}
	case *event.Error:
		if v != nil {
			return *v
		}
	default:
		return e
	}
	return nil
}

// withContext is used by Start so that replays stop with the program.
func (m Model) withContext(ctx context.Context) Model {
	m.ctx = ctx
	return m
}
