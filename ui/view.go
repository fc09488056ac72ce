package ui

import (
	"fmt"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sailresearch/sail/internal/event"
	"github.com/sailresearch/sail/internal/render"
)

// frame is the vertical split of the screen, in rows.
type frame struct {
	header int // 3 rows, or 1 on very short terminals
	rule   int // a rule under the header when there is room
	list   int // timeline (run) or delivery list (listen)
	body   int // the detail viewport
	help   string
}

func (m *Model) frame() frame {
	f := frame{header: 3}
	if m.height < 12 {
		f.header = 1
	}
	if m.height >= 24 {
		f.rule = 1
	}
	m.help.SetWidth(max(m.width-1, 1))
	f.help = m.help.View(m.keys)
	helpRows := strings.Count(f.help, "\n") + 1
	if m.height < 8 {
		f.help, helpRows = "", 0
	}
	// tab bar + footer line
	avail := max(m.height-f.header-f.rule-2-helpRows, 0)
	n := max(m.listLen(), 1)
	f.list = min(n, max(2, avail/3))
	if avail-f.list < 1 {
		f.list = max(avail-1, 0)
	}
	f.body = avail - f.list
	return f
}

func (m *Model) listLen() int {
	if m.opts.Mode == ModeListen {
		return len(m.deliveries)
	}
	n := len(m.timeline)
	if m.failure != nil {
		// The error entry wraps over several lines; make room for them.
		n += len(m.timelineLines(entry{ev: *m.failure, delivery: noSel}, false)) - 1
	}
	return n
}

// sync brings the viewport in line with the state after an update.
//
// It does no rendering: View prepares the detail when it draws a frame.
// Only an active search follows a new selection here, once per update.
func (m *Model) sync() {
	m.keys.setSearching(m.search.query != "" && !m.search.typing)
	if m.search.query != "" && m.search.forSel != m.selSeq() {
		m.findMatches()
	}
}

// layout sizes the viewport for this frame and refreshes its content if
// what it shows changed.
func (m *Model) layout(f frame) {
	m.c.vp.SetWidth(m.width)
	m.c.vp.SetHeight(f.body)
	m.refreshDetail()
}

// View implements tea.Model. The TUI takes the alternate screen so that it
// leaves the terminal as it found it.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

// render draws the whole screen: every line fits the width and there are
// never more lines than the terminal has rows.
func (m Model) render() string {
	m.c.work.Frames++
	f := m.frame()
	m.layout(f)
	var lines []string
	lines = append(lines, m.header(f.header)...)
	if f.rule > 0 {
		lines = append(lines, m.styles.rule.Render(strings.Repeat("─", m.width)))
	}
	for i, l := range lines {
		lines[i] = fit(l, m.width)
	}
	if m.opts.Mode == ModeListen {
		lines = append(lines, m.listRows(f.list)...) // fitted and cached per row
	} else {
		for _, l := range m.timelineRows(f.list) {
			lines = append(lines, fit(l, m.width))
		}
	}
	rest := len(lines)
	lines = append(lines, m.tabBar())
	if f.body > 0 {
		body := strings.Split(m.c.vp.View(), "\n")
		lines = append(lines, body[:min(len(body), f.body)]...)
	}
	lines = append(lines, m.statusLine())
	if f.help != "" {
		lines = append(lines, strings.Split(f.help, "\n")...)
	}
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for i := rest; i < len(lines); i++ {
		lines[i] = fit(lines[i], m.width)
	}
	return strings.Join(lines, "\n")
}

// header draws the title, status chip and elapsed time, the webhook URL, and
// the response (run) or the counts (listen).
func (m Model) header(rows int) []string {
	title := "sail run"
	if m.opts.Mode == ModeListen {
		title = "sail listen"
	}
	right := m.chip() + "  " + m.styles.dim.Render(m.elapsed())
	left := m.styles.title.Render(title)
	if rows == 1 {
		return []string{left + "  " + right + "  " + m.url()}
	}
	first := left + "  " + right
	if gap := m.width - ansi.StringWidth(left) - ansi.StringWidth(right); gap >= 2 {
		first = left + strings.Repeat(" ", gap) + right
	}
	third := m.responseLine()
	if m.opts.Mode == ModeListen {
		third = m.countsLine()
	}
	return []string{first, m.url(), third}
}

func (m Model) elapsed() string {
	end := m.now()
	if m.done {
		end = m.finishedAt
	}
	return fmtElapsed(end.Sub(m.start))
}

// chip is the live status: a spinner while the run is going, ✓ or ✗ after.
func (m Model) chip() string {
	st := m.styles
	switch {
	case m.failure != nil:
		return st.bad.Render(fmt.Sprintf("✗ error (exit %d)", m.failure.ExitCode))
	case m.done && m.status == "completed" && m.hasDiff():
		return st.bad.Render("✗ webhook payload ≠ GET")
	case m.done && m.status == "completed":
		return st.ok.Render("✓ completed")
	case m.done:
		return st.bad.Render("✗ " + statusLabel(m.status))
	}
	if m.opts.Mode == ModeListen {
		return st.ok.Render("● listening")
	}
	label := statusLabel(m.status)
	switch {
	case m.status != "":
	case m.ready == nil:
		label = "opening tunnel"
	default:
		label = "creating response"
	}
	return m.spin.View() + " " + st.running.Render(label)
}

// statusLabel shows a response status the way people say it.
func statusLabel(s string) string {
	switch s {
	case "":
		return "unknown"
	case "pending":
		return "queued"
	case "running":
		return "in progress"
	}
	return strings.ReplaceAll(oneLine(s), "_", " ")
}

func (m Model) url() string {
	st := m.styles
	r := m.ready
	if r == nil {
		return st.label.Render("webhook ") + st.dim.Render("opening the tunnel…")
	}
	s := st.label.Render("webhook ") + st.value.Render(oneLine(r.WebhookURL))
	if r.Tunnel != "" {
		s += st.dim.Render(" (" + oneLine(r.Tunnel) + ")")
	}
	if r.Note != "" {
		s += st.dim.Render(" · " + oneLine(r.Note))
	}
	return s
}

func (m Model) responseLine() string {
	st := m.styles
	var parts []string
	endpoint, model := "", ""
	if m.ready != nil {
		endpoint, model = m.ready.Endpoint, m.ready.Model
	}
	if c := m.created; c != nil {
		if c.Endpoint != "" {
			endpoint = c.Endpoint
		}
		if c.Model != "" {
			model = c.Model
		}
	}
	// Most telling first: narrow terminals cut the end of the line.
	if id := m.responseID(); id != "" {
		parts = append(parts, st.value.Render(oneLine(id)))
	}
	parts = append(parts, m.tokenMode())
	if model != "" {
		parts = append(parts, st.value.Render(oneLine(model)))
	}
	if endpoint != "" {
		parts = append(parts, st.dim.Render(oneLine(endpoint)))
	}
	return strings.Join(parts, st.dim.Render(" · "))
}

func (m Model) tokenMode() string {
	mode := "?"
	if m.ready != nil && m.ready.TokenMode != "" {
		mode = oneLine(m.ready.TokenMode)
	}
	return m.styles.label.Render("token ") + m.styles.value.Render(mode)
}

func (m Model) countsLine() string {
	st := m.styles
	ok, rejected, dups := m.counts.accepted, m.counts.rejected, m.counts.dups
	noun := "deliveries"
	if m.counts.total == 1 {
		noun = "delivery"
	}
	parts := []string{
		st.value.Render(fmt.Sprintf("%d %s", m.counts.total, noun)),
		st.ok.Render(fmt.Sprintf("%d accepted", ok)),
	}
	if rejected > 0 {
		parts = append(parts, st.bad.Render(fmt.Sprintf("%d rejected", rejected)))
	} else {
		parts = append(parts, st.dim.Render("0 rejected"))
	}
	parts = append(parts, st.dim.Render(fmt.Sprintf("%d duplicate", dups)), m.tokenMode())
	return strings.Join(parts, st.dim.Render(" · "))
}

// window returns the first index of a list of n rows shown in h rows, so
// that sel (or, without one, the end) is visible.
func window(n, h, sel int) int {
	if n <= h {
		return 0
	}
	off := n - h
	if sel >= 0 && sel < off {
		off = sel
	}
	return off
}

// timelineRows draws run mode's timeline, oldest first, keeping the
// selected delivery in sight and otherwise the latest events. An error
// entry takes several lines, so its hint can be read in the view.
func (m Model) timelineRows(h int) []string {
	if h <= 0 {
		return nil
	}
	if len(m.timeline) == 0 {
		return []string{"  " + m.styles.dim.Render("waiting for events…")}
	}
	selRow := -1
	for i := len(m.timeline) - 1; i >= 0 && m.sel != noSel; i-- {
		if m.timeline[i].delivery == m.sel {
			selRow = i
			break
		}
	}
	off := window(len(m.timeline), h, selRow)
	var entries [][]string
	total := 0
	for i := off; i < min(off+h, len(m.timeline)); i++ {
		ls := m.timelineLines(m.timeline[i], i == selRow)
		entries = append(entries, ls)
		total += len(ls)
	}
	// Multi-line entries push the oldest ones out, unless that would hide
	// the selection.
	for total > h && len(entries) > 1 && off != selRow {
		total -= len(entries[0])
		entries = entries[1:]
		off++
	}
	var rows []string
	for _, ls := range entries {
		rows = append(rows, ls...)
	}
	return rows[:min(len(rows), h)]
}

// timelineLines is one timeline entry: one line, or for an error the
// message and its hint wrapped under the text column.
func (m Model) timelineLines(e entry, selected bool) []string {
	ev, ok := e.ev.(event.Error)
	if !ok || m.width < 50 {
		return []string{m.timelineRow(e, selected)}
	}
	st := m.styles
	const indent = 22 // marker, time, label: where the text column starts
	w := m.width - indent
	msg := wrapText(st.bad.Render(fmt.Sprintf("✗ exit %d: %s", ev.ExitCode, oneLine(ev.Message))), w)
	if ev.Hint != "" {
		msg = append(msg, wrapText(st.dim.Render("→ "+oneLine(ev.Hint)), w)...)
	}
	if len(msg) > 6 {
		msg = append(msg[:5], st.dim.Render("… (the full message is printed when the view closes)"))
	}
	first := m.marker(selected) + st.dim.Render(e.at.Format("15:04:05")) + "  " + st.label.Render(fmt.Sprintf("%-9s", "error")) + " "
	lines := []string{first + msg[0]}
	for _, l := range msg[1:] {
		lines = append(lines, strings.Repeat(" ", indent)+l)
	}
	return lines
}

// gapText stands for deliveries the view could not list.
func (m Model) gapText(d delivery) string {
	where := "counted above, stored in the history"
	if m.opts.Load == nil {
		where = "counted above"
	}
	return m.styles.warn.Render(fmt.Sprintf("+%s more since %s", humanInt(d.gap), d.ev.ReceivedAt.Format("15:04:05"))) +
		m.styles.dim.Render(" (arrived faster than the view could list them; "+where+")")
}

// humanInt writes n with thousands separators: 1,204.
func humanInt(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (m Model) marker(selected bool) string {
	if selected {
		return m.styles.title.Render("›") + " "
	}
	return "  "
}

func (m Model) timelineRow(e entry, selected bool) string {
	st := m.styles
	at := e.at
	label, text := "", ""
	if e.delivery != noSel {
		e.ev = nil // a delivery or gap row: drawn from its row
	}
	switch ev := e.ev.(type) {
	case event.Created:
		label = "created"
		text = st.value.Render(oneLine(ev.ID))
		if ev.Status != "" {
			text += st.dim.Render(" (" + statusLabel(ev.Status) + ")")
		}
	case event.Status:
		label, text = "status", m.statusText(ev.Status)
	case nil:
		// A row outlives its timeline entry: there are at least as many
		// entries as rows, under the same bound.
		switch d := m.row(e.delivery); {
		case d == nil:
			label = "webhook"
		case d.gap > 0:
			label, text = "webhooks", m.gapText(*d)
		default:
			label, text = "webhook", m.deliveryText(*d, false)
		}
	case event.Forwarded:
		label = "forwarded"
		if e.replay {
			label = "replayed"
		}
		text = st.dim.Render("→ "+oneLine(ev.URL)+" ") + m.forwardText(ev)
	case event.Verified:
		label = "verified"
		if ev.Matches {
			text = st.ok.Render("✓ webhook payload matches GET")
		} else {
			text = st.bad.Render("✗ webhook payload differs from GET") +
				st.dim.Render(fmt.Sprintf(" (%d paths, see Diff)", max(len(ev.Differences), len(ev.Diffs))))
		}
	case event.Completed:
		label, text = "result", m.completedText(ev)
	case event.Notice:
		label = "notice"
		text = st.dim.Render(oneLine(ev.Message))
		if ev.Level == "warn" {
			text = st.warn.Render(oneLine(ev.Message))
		}
	case event.Error:
		label = "error"
		text = st.bad.Render(fmt.Sprintf("✗ exit %d: %s", ev.ExitCode, oneLine(ev.Message)))
		if ev.Hint != "" {
			text += st.dim.Render(" · " + oneLine(ev.Hint))
		}
	}
	lab := st.label
	if selected {
		lab = st.title
	}
	return m.marker(selected) + st.dim.Render(at.Format("15:04:05")) + "  " +
		lab.Render(fmt.Sprintf("%-9s", label)) + " " + text
}

func (m Model) statusText(s string) string {
	switch s {
	case "completed":
		return m.styles.ok.Render(statusLabel(s))
	case "failed", "cancelled", "incomplete":
		return m.styles.bad.Render(statusLabel(s))
	}
	return m.styles.running.Render(statusLabel(s))
}

func (m Model) completedText(c event.Completed) string {
	st := m.styles
	var s string
	switch {
	case c.WebhookMatchesGet != nil && !*c.WebhookMatchesGet:
		// The webhook said one thing and GET another: GET is the truth,
		// the run fails verification, and nothing here is green.
		s = st.bad.Render("✗ " + statusLabel(c.Status) + ", webhook payload ≠ GET (see Diff)")
	case c.Status == "completed" && m.ready != nil && !c.WebhookDelivered:
		// The answer is there, but the webhook under test never verified:
		// not a success for this run.
		s = st.warn.Render("● completed")
	case c.Status == "completed":
		s = st.ok.Render("✓ completed")
	default:
		s = st.bad.Render("✗ " + statusLabel(c.Status))
	}
	if c.Source != "" {
		s += st.dim.Render(" via " + oneLine(c.Source))
	}
	if c.Usage != nil {
		s += st.dim.Render(fmt.Sprintf(" · %d tokens", c.Usage.TotalTokens))
	}
	if c.CreateToWebhookMS != nil {
		s += st.dim.Render(" · webhook after " + fmtMS(float64(*c.CreateToWebhookMS)))
	} else if !c.WebhookDelivered {
		s += st.warn.Render(" · no webhook")
	}
	return s
}

// verdictText shows the token check of a delivery.
func (m Model) verdictText(v string) string {
	st := m.styles
	switch v {
	case event.VerdictOK:
		return st.ok.Render("✓ ok")
	case event.VerdictMismatch:
		return st.bad.Render("✗ mismatch")
	case event.VerdictMissing:
		return st.bad.Render("✗ missing")
	case event.VerdictNone, "":
		return st.dim.Render("— none")
	}
	return st.warn.Render(oneLine(v))
}

// deliveryText is the one-line summary of a delivery: attempt, the HTTP
// status we answered, the token verdict, size, duplicate badge, and the last
// forward or replay.
func (m Model) deliveryText(d delivery, withID bool) string {
	st := m.styles
	e := d.ev
	code := st.dim.Render("—")
	if e.HTTPStatus != 0 {
		code = st.bad.Render(fmt.Sprint(e.HTTPStatus))
		if e.Accepted() {
			code = st.ok.Render(fmt.Sprint(e.HTTPStatus))
		}
	}
	s := padTo(st.value.Render(fmt.Sprintf("#%d", e.Attempt)), 3) + "  " + padTo(code, 3) + "  " +
		st.label.Render("token ") + padTo(m.verdictText(e.Verdict), len("✗ mismatch")) + "  " + padTo(st.dim.Render(render.HumanBytes(e.Bytes)), len("100.0 kB"))
	switch {
	case e.Duplicate:
		s += " " + st.badge.Render("[dup]")
	case withID:
		s += "      " // keeps the id column aligned under [dup] rows
	}
	if withID && e.ResponseID != "" {
		s += "  " + st.value.Render(oneLine(e.ResponseID))
	}
	if e.Error != "" {
		s += "  " + st.bad.Render(oneLine(e.Error))
	}
	switch {
	case d.replaying:
		s += "  " + st.running.Render("↻ replaying…")
	case len(d.forwards) > 0:
		s += "  " + st.dim.Render("→ ") + m.forwardText(d.forwards[len(d.forwards)-1])
	}
	if withID && e.Excerpt != "" && e.Error == "" {
		s += "  " + st.dim.Render(oneLine(e.Excerpt))
	}
	return s
}

func (m Model) forwardText(f event.Forwarded) string {
	st := m.styles
	if f.Error != "" {
		return st.bad.Render("✗ " + oneLine(f.Error))
	}
	code := st.bad.Render(fmt.Sprint(f.StatusCode))
	if f.StatusCode >= 200 && f.StatusCode < 300 {
		code = st.ok.Render(fmt.Sprint(f.StatusCode))
	}
	return code + st.dim.Render(" · "+fmtMS(f.LatencyMS))
}

// listRows draws listen mode's deliveries, newest first. Only the rows on
// screen are rendered.
func (m Model) listRows(h int) []string {
	if h <= 0 {
		return nil
	}
	n := len(m.deliveries)
	if n == 0 {
		return []string{"  " + m.styles.dim.Render("waiting for deliveries to the webhook URL…")}
	}
	last := m.last()
	selRow := -1
	if m.sel != noSel {
		selRow = last - m.sel
	}
	off := 0
	if selRow >= h {
		off = selRow - h + 1
	}
	// Under a flood most rows on screen are the ones of the previous
	// frame, one or more lines down: reuse their rendering.
	c := m.c
	if c.rowsWidth != m.width || c.rowsDark != m.dark {
		c.rowsPrev, c.rowsWidth, c.rowsDark = nil, m.width, m.dark
	}
	next := make(map[rowKey]string, h)
	var rows []string
	for r := off; r < min(off+h, n); r++ {
		d := m.row(last - r)
		k := rowKey{seq: d.seq, ver: d.ver, sel: r == selRow}
		line, ok := c.rowsPrev[k]
		if !ok {
			stamp := m.styles.dim.Render(d.ev.ReceivedAt.Format("15:04:05")) + "  "
			if d.gap > 0 {
				line = m.marker(k.sel) + stamp + m.gapText(*d)
			} else {
				line = m.marker(k.sel) + stamp + m.deliveryText(*d, true)
			}
			line = fit(line, m.width)
		}
		next[k] = line
		rows = append(rows, line)
	}
	c.rowsPrev = next
	return rows
}

// tabBar names the detail tabs, the active one in brackets, and shows how
// far the viewport is scrolled.
func (m Model) tabBar() string {
	st := m.styles
	var parts []string
	for _, t := range m.tabs() {
		if t == m.shownTab() {
			parts = append(parts, st.tabOn.Render("["+t.String()+"]"))
		} else {
			parts = append(parts, st.tabOff.Render(" "+t.String()+" "))
		}
	}
	left := strings.Join(parts, " ")
	right := ""
	if vp := &m.c.vp; vp.TotalLineCount() > vp.Height() && vp.Height() > 0 {
		right = st.dim.Render(fmt.Sprintf("%3.0f%%", vp.ScrollPercent()*100))
	}
	gap := m.width - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return left
	}
	return left + st.rule.Render(" "+strings.Repeat("─", max(gap-2, 0))+" ") + right
}

// statusLine is the footer: the search being typed, the result of the last
// action, the search position, or a hint.
func (m Model) statusLine() string {
	st := m.styles
	switch {
	case m.search.typing:
		return st.title.Render("/") + oneLine(m.search.query) + st.dim.Render("▏ enter to keep · esc to cancel")
	case m.flash.text != "":
		if m.flash.bad {
			return st.bad.Render(oneLine(m.flash.text))
		}
		return st.ok.Render(oneLine(m.flash.text))
	case m.search.query != "":
		if len(m.search.matches) == 0 {
			return st.bad.Render(fmt.Sprintf("no match for %q", m.search.query)) + st.dim.Render(" · esc to clear")
		}
		return st.value.Render(fmt.Sprintf("%q: match %d/%d", m.search.query, m.search.cur+1, len(m.search.matches))) +
			st.dim.Render(" · n/N to move · esc to clear")
	case m.opts.Mode == ModeListen && m.notice != nil:
		return st.warn.Render(oneLine(m.notice.Message))
	case m.done:
		return st.dim.Render("finished · q to quit")
	}
	return ""
}

// shownTab is the active tab, or Output when the active one does not exist
// for this selection (a Forward tab on a row without forwards).
func (m *Model) shownTab() tab {
	for _, t := range m.tabs() {
		if t == m.tab {
			return t
		}
	}
	return tabOutput
}

// refreshDetail re-renders the viewport content when what it shows changed.
func (m *Model) refreshDetail() {
	c := m.c
	k := detailKey{
		rev: m.rev, sel: m.selSeq(), width: c.vp.Width(), tab: m.shownTab(),
		query: m.search.query, cur: m.search.cur, nmatch: len(m.search.matches), dark: m.dark,
	}
	if k == c.shown {
		return
	}
	c.work.DetailRenders++
	prev := c.shown
	c.shown = k
	lines, cur := m.detailLines(max(k.width-2, 8))
	for i, l := range lines {
		lines[i] = " " + l
	}
	c.vp.SetContentLines(lines)
	if prev.sel != k.sel || prev.tab != k.tab {
		c.vp.GotoTop()
	}
	moved := prev.cur != k.cur || prev.query != k.query || prev.sel != k.sel || prev.tab != k.tab
	if cur >= 0 && moved {
		if y := c.vp.YOffset(); cur < y || cur >= y+c.vp.Height() {
			c.vp.SetYOffset(max(cur-c.vp.Height()/3, 0))
		}
	}
}

// detailLines renders the active tab at width w. cur is the row of the
// current search match, or -1.
func (m *Model) detailLines(w int) (lines []string, cur int) {
	st := m.styles
	d := m.selected()
	switch m.shownTab() {
	case tabPayload:
		return m.payloadLines(w)
	case tabHeaders:
		if d == nil {
			return []string{st.dim.Render("no delivery yet")}, -1
		}
		return m.headerLines(d, w), -1
	case tabForward:
		if d == nil {
			return []string{st.dim.Render("no delivery yet")}, -1
		}
		return m.forwardLines(d, w), -1
	case tabDiff:
		return m.diffLines(w), -1
	}
	// Output
	switch {
	case d != nil:
		det := m.detail()
		if d.ev.Error != "" {
			lines = append(lines, wrapText(st.bad.Render("✗ "+oneLine(d.ev.Error)), w)...)
			lines = append(lines, "")
		}
		if det.err != "" {
			lines = append(lines, wrapText(st.warn.Render(oneLine(det.err)), w)...)
			lines = append(lines, "")
		}
		if det.output == "" {
			return append(lines, st.dim.Render("(no output text in this payload)")), -1
		}
		return append(lines, wrapText(det.output, w)...), -1
	case m.completed != nil && m.completed.OutputText != "":
		return wrapText(clean(m.completed.OutputText), w), -1
	case m.created != nil && m.created.OutputText != "":
		return wrapText(clean(m.created.OutputText), w), -1
	case m.failure != nil:
		lines = wrapText(st.bad.Render(oneLine(m.failure.Message)), w)
		if m.failure.Hint != "" {
			lines = append(lines, wrapText(st.dim.Render("→ "+oneLine(m.failure.Hint)), w)...)
		}
		return lines, -1
	case m.opts.Mode == ModeListen:
		return m.listenTryLines(w), -1
	}
	return []string{st.dim.Render("waiting for the webhook…")}, -1
}

// payloadLines renders the payload, highlighted and wrapped, with the
// search matches marked.
func (m *Model) payloadLines(w int) (rows []string, cur int) {
	cur = -1
	m.c.work.PayloadRenders++
	p, ok := m.payload()
	if !ok {
		if det := m.detail(); det.err != "" {
			return wrapText(m.styles.warn.Render(oneLine(det.err)), w), -1
		}
		return []string{m.styles.dim.Render("no payload yet")}, -1
	}
	src := p.lines
	if len(src) > maxPayloadLines {
		src = src[:maxPayloadLines]
	}
	ms := m.search.matches
	mi := 0
	for i, line := range src {
		start := mi
		for mi < len(ms) && ms[mi].line == i {
			mi++
		}
		curIn := -1
		if m.search.cur >= start && m.search.cur < mi {
			curIn = m.search.cur - start
		}
		segs := highlightLine(m.styles, line, p.isJSON, ms[start:mi], curIn)
		r, c := wrapSegs(segs, w)
		if c >= 0 && cur < 0 {
			cur = len(rows) + c
		}
		rows = append(rows, r...)
	}
	if len(p.lines) > maxPayloadLines {
		rows = append(rows, m.styles.warn.Render(fmt.Sprintf("… %d more lines: press s to save the whole payload", len(p.lines)-maxPayloadLines)))
	}
	return rows, cur
}

func (m *Model) headerLines(d *delivery, w int) []string {
	st := m.styles
	e := d.ev
	det := m.detail()
	kv := func(k, v string) []string {
		return wrapText(st.label.Render(fmt.Sprintf("%-10s", k))+" "+st.value.Render(oneLine(v)), w)
	}
	var lines []string
	lines = append(lines, kv("received", e.ReceivedAt.Format("2006-01-02 15:04:05.000 MST"))...)
	if e.RemoteAddr != "" {
		lines = append(lines, kv("from", e.RemoteAddr)...)
	}
	lines = append(lines, kv("answered", fmt.Sprint(e.HTTPStatus))...)
	if e.RecordID != "" {
		lines = append(lines, kv("record", e.RecordID)...)
	}
	lines = append(lines, "")
	lines = append(lines, m.headerMap(det.Headers, w)...)
	if len(det.Headers) == 0 && det.err != "" {
		lines = append(lines, wrapText(st.warn.Render(oneLine(det.err)), w)...)
	}
	return lines
}

// headerMap lists headers sorted by name.
func (m *Model) headerMap(h map[string]string, w int) []string {
	st := m.styles
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var lines []string
	for _, k := range names {
		lines = append(lines, wrapText(st.jsonKey.Render(oneLine(k)+":")+" "+oneLine(h[k]), w)...)
	}
	if len(names) == 0 {
		lines = append(lines, st.dim.Render("(no headers recorded)"))
	}
	return lines
}

// forwardLines is the Forward tab: the app's side of each forward or
// replay of the selected delivery, newest first.
func (m *Model) forwardLines(d *delivery, w int) []string {
	st := m.styles
	var lines []string
	kv := func(k, v string) []string {
		return wrapText(st.label.Render(fmt.Sprintf("%-10s", k))+" "+v, w)
	}
	for i := len(d.forwards) - 1; i >= 0; i-- {
		f := d.forwards[i]
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, kv("to", st.value.Render(oneLine(f.URL)))...)
		switch {
		case f.Error != "":
			lines = append(lines, kv("result", st.bad.Render("✗ "+oneLine(f.Error)))...)
		default:
			lines = append(lines, kv("status", m.forwardText(f))...)
		}
		lines = append(lines, kv("latency", st.value.Render(fmtMS(f.LatencyMS)))...)
		if len(f.Headers) > 0 {
			lines = append(lines, st.label.Render("headers"))
			for _, l := range m.headerMap(f.Headers, max(w-2, 8)) {
				lines = append(lines, "  "+l)
			}
		}
		if f.Excerpt != "" {
			lines = append(lines, st.label.Render("body"))
			for _, l := range wrapText(clean(f.Excerpt), max(w-2, 8)) {
				lines = append(lines, "  "+l)
			}
		}
	}
	return lines
}

// diffLines is the Diff tab: per differing path, what the webhook said and
// what GET (the source of truth) said, when the run recorded both.
func (m *Model) diffLines(w int) []string {
	st := m.styles
	lines := []string{st.bad.Render("The webhook payload differs from GET (GET is the source of truth) at:")}
	side := func(v string) string {
		if v == "" {
			return st.dim.Render("(absent)")
		}
		return oneLine(v)
	}
	for _, d := range m.differences() {
		lines = append(lines, wrapText("  • "+st.value.Render(oneLine(d.Path)), w)...)
		if d.Webhook == "" && d.Get == "" {
			continue
		}
		lines = append(lines, wrapText("      "+st.label.Render("webhook ")+st.bad.Render(side(d.Webhook)), w)...)
		lines = append(lines, wrapText("      "+st.label.Render("GET     ")+st.ok.Render(side(d.Get)), w)...)
	}
	return lines
}

// wrapText wraps (possibly styled) text at w cells, on words when it can.
func wrapText(s string, w int) []string {
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}

// listenTryLines fill a listener's Output tab until the first delivery:
// the warning about a listener without a token, and the commands that
// post to it (they never hold the token itself).
func (m *Model) listenTryLines(w int) []string {
	st := m.styles
	lines := []string{st.dim.Render("no delivery yet")}
	r := m.ready
	if r == nil {
		return lines
	}
	if r.Warning != "" {
		lines = append(append(lines, ""), wrapText(st.warn.Render("! "+oneLine(r.Warning)), w)...)
	}
	if len(r.Try) > 0 {
		lines = append(lines, "", st.label.Render("Try it:"))
		if t := m.opts.NewToken; t != "" {
			lines = append(lines, wrapText("  token made by --token auto: "+oneLine(t), w)...)
		}
		for _, c := range r.Try {
			lines = append(lines, wrapText("  "+oneLine(c), w)...)
		}
	}
	return lines
}
