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
	return len(m.timeline)
}

// sync brings the viewport in line with the state after an update.
func (m *Model) sync() {
	m.keys.setSearching(m.search.query != "" && !m.search.typing)
	f := m.frame()
	m.vp.SetWidth(m.width)
	m.vp.SetHeight(f.body)
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
	f := m.frame()
	var lines []string
	lines = append(lines, m.header(f.header)...)
	if f.rule > 0 {
		lines = append(lines, m.styles.rule.Render(strings.Repeat("─", m.width)))
	}
	if m.opts.Mode == ModeListen {
		lines = append(lines, m.listRows(f.list)...)
	} else {
		lines = append(lines, m.timelineRows(f.list)...)
	}
	lines = append(lines, m.tabBar())
	if f.body > 0 {
		body := strings.Split(m.vp.View(), "\n")
		lines = append(lines, body[:min(len(body), f.body)]...)
	}
	lines = append(lines, m.statusLine())
	if f.help != "" {
		lines = append(lines, strings.Split(f.help, "\n")...)
	}
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		lines[i] = fit(l, m.width)
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
	var ok, rejected, dups int
	for _, d := range m.deliveries {
		if d.ev.Accepted() {
			ok++
		} else {
			rejected++
		}
		if d.ev.Duplicate {
			dups++
		}
	}
	noun := "deliveries"
	if len(m.deliveries) == 1 {
		noun = "delivery"
	}
	parts := []string{
		st.value.Render(fmt.Sprintf("%d %s", len(m.deliveries), noun)),
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
// selected delivery in sight and otherwise the latest events.
func (m Model) timelineRows(h int) []string {
	if h <= 0 {
		return nil
	}
	if len(m.timeline) == 0 {
		return []string{"  " + m.styles.dim.Render("waiting for events…")}
	}
	selRow := -1
	for i, e := range m.timeline {
		if e.delivery >= 0 && e.delivery == m.sel {
			selRow = i
		}
	}
	off := window(len(m.timeline), h, selRow)
	var rows []string
	for i := off; i < min(off+h, len(m.timeline)); i++ {
		rows = append(rows, m.timelineRow(m.timeline[i], i == selRow))
	}
	return rows
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
	switch ev := e.ev.(type) {
	case event.Created:
		label = "created"
		text = st.value.Render(oneLine(ev.ID))
		if ev.Status != "" {
			text += st.dim.Render(" (" + statusLabel(ev.Status) + ")")
		}
	case event.Status:
		label, text = "status", m.statusText(ev.Status)
	case event.Delivery:
		label, text = "webhook", m.deliveryText(m.deliveries[e.delivery], false)
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
				st.dim.Render(fmt.Sprintf(" (%d paths, see Diff)", len(ev.Differences)))
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

// listRows draws listen mode's deliveries, newest first.
func (m Model) listRows(h int) []string {
	if h <= 0 {
		return nil
	}
	n := len(m.deliveries)
	if n == 0 {
		return []string{"  " + m.styles.dim.Render("waiting for deliveries to the webhook URL…")}
	}
	selRow := -1
	if m.sel >= 0 {
		selRow = n - 1 - m.sel
	}
	off := 0
	if selRow >= h {
		off = selRow - h + 1
	}
	var rows []string
	for r := off; r < min(off+h, n); r++ {
		d := m.deliveries[n-1-r]
		rows = append(rows, m.marker(r == selRow)+m.styles.dim.Render(d.ev.ReceivedAt.Format("15:04:05"))+"  "+m.deliveryText(d, true))
	}
	return rows
}

// tabBar names the detail tabs, the active one in brackets, and shows how
// far the viewport is scrolled.
func (m Model) tabBar() string {
	st := m.styles
	var parts []string
	for _, t := range m.tabs() {
		if t == m.tab {
			parts = append(parts, st.tabOn.Render("["+t.String()+"]"))
		} else {
			parts = append(parts, st.tabOff.Render(" "+t.String()+" "))
		}
	}
	left := strings.Join(parts, " ")
	right := ""
	if m.vp.TotalLineCount() > m.vp.Height() && m.vp.Height() > 0 {
		right = st.dim.Render(fmt.Sprintf("%3.0f%%", m.vp.ScrollPercent()*100))
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

// refreshDetail re-renders the viewport content when what it shows changed.
func (m *Model) refreshDetail() {
	k := detailKey{
		rev: m.rev, sel: m.sel, width: m.vp.Width(), tab: m.tab,
		query: m.search.query, cur: m.search.cur, nmatch: len(m.search.matches), dark: m.dark,
	}
	if k == m.shown {
		return
	}
	prev := m.shown
	m.shown = k
	lines, cur := m.detailLines(max(k.width-2, 8))
	for i, l := range lines {
		lines[i] = " " + l
	}
	m.vp.SetContentLines(lines)
	if prev.sel != k.sel || prev.tab != k.tab {
		m.vp.GotoTop()
	}
	moved := prev.cur != k.cur || prev.query != k.query || prev.sel != k.sel || prev.tab != k.tab
	if cur >= 0 && moved {
		if y := m.vp.YOffset(); cur < y || cur >= y+m.vp.Height() {
			m.vp.SetYOffset(max(cur-m.vp.Height()/3, 0))
		}
	}
}

// detailLines renders the active tab at width w. cur is the row of the
// current search match, or -1.
func (m *Model) detailLines(w int) (lines []string, cur int) {
	st := m.styles
	d := m.selected()
	switch m.tab {
	case tabPayload:
		return m.payloadLines(w)
	case tabHeaders:
		if d == nil {
			return []string{st.dim.Render("no delivery yet")}, -1
		}
		return m.headerLines(d, w), -1
	case tabDiff:
		lines = []string{st.bad.Render("The webhook payload differs from GET at:")}
		for _, p := range m.differences() {
			lines = append(lines, wrapText("  • "+oneLine(p), w)...)
		}
		return lines, -1
	}
	// Output
	switch {
	case d != nil:
		if d.ev.Error != "" {
			lines = append(lines, wrapText(st.bad.Render("✗ "+oneLine(d.ev.Error)), w)...)
			lines = append(lines, "")
		}
		if d.output == "" {
			return append(lines, st.dim.Render("(no output text in this payload)")), -1
		}
		return append(lines, wrapText(d.output, w)...), -1
	case m.completed != nil && m.completed.OutputText != "":
		return wrapText(clean(m.completed.OutputText), w), -1
	case m.created != nil && m.created.OutputText != "":
		return wrapText(clean(m.created.OutputText), w), -1
	case m.failure != nil:
		return wrapText(st.bad.Render(oneLine(m.failure.Message)), w), -1
	case m.opts.Mode == ModeListen:
		return []string{st.dim.Render("no delivery yet")}, -1
	}
	return []string{st.dim.Render("waiting for the webhook…")}, -1
}

// payloadLines renders the payload, highlighted and wrapped, with the
// search matches marked.
func (m *Model) payloadLines(w int) (rows []string, cur int) {
	cur = -1
	p, ok := m.payload()
	if !ok {
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
	names := make([]string, 0, len(e.Headers))
	for k := range e.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		lines = append(lines, wrapText(st.jsonKey.Render(oneLine(k)+":")+" "+oneLine(e.Headers[k]), w)...)
	}
	if len(names) == 0 {
		lines = append(lines, st.dim.Render("(no headers recorded)"))
	}
	return lines
}

// wrapText wraps (possibly styled) text at w cells, on words when it can.
func wrapText(s string, w int) []string {
	return strings.Split(ansi.Wrap(s, w, ""), "\n")
}
