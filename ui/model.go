// Package ui is sail's interactive terminal front end: a Bubble Tea v2
// program that consumes the event stream of internal/event and shows the
// tunnel, the response's status, every webhook delivery and its payload.
//
// The CLI starts it with [Start] when stderr is a terminal and hands it every
// event through [Program.Emit]; scripts and CI get the NDJSON renderer
// instead. The model never writes anywhere but the Bubble Tea renderer, so it
// is safe to run while HTTP servers and tunnels work in the background.
package ui

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/sailresearch/sail/internal/event"
)

// Mode selects the screen layout.
type Mode int

const (
	// ModeRun shows one response's life: a timeline from create to the
	// final result, with the deliveries of its webhook.
	ModeRun Mode = iota
	// ModeListen shows a list of deliveries, newest first, for
	// `sail listen`, which has no response of its own.
	ModeListen
)

// Options configure the TUI. The zero value is usable: run mode, default
// input and output, no replay, files saved to ".".
type Options struct {
	Mode Mode
	// Output is the terminal the TUI draws on (stderr: stdout stays data).
	// nil means os.Stdout, Bubble Tea's default; the CLI always sets it.
	Output io.Writer
	// Input is where keys are read from; nil means the program's default
	// input, which is stdin when it is a terminal and the controlling TTY
	// otherwise.
	Input io.Reader
	// Replay re-posts a delivery to the user's app (`r`). nil when no
	// --forward-to was given; `r` then says so instead of doing anything.
	// It runs outside the update loop and must honour ctx.
	Replay func(ctx context.Context, d event.Delivery) event.Forwarded
	// SaveDir is where `s` writes payload files; "" means ".".
	SaveDir string
	// ExitOnComplete quits right after a Completed or Error event instead
	// of waiting for `q`.
	ExitOnComplete bool
	// NoColor drops every colour and text attribute (NO_COLOR, TERM=dumb):
	// the view is then plain text apart from the renderer's cursor control.
	NoColor bool
	// Now is the clock for elapsed times and timeline stamps; nil means
	// time.Now. Tests pass a fixed clock.
	Now func() time.Time
	// MaxRows bounds the deliveries (and run's timeline entries) the view
	// holds, newest kept; 0 means DefaultMaxRows. Rows hold no bodies.
	MaxRows int
	// Load reads a delivery's body and headers from the history by its
	// record id, when it is selected and no longer in memory. nil with
	// --no-history: only the newest bodies (a ring of 256, 32 MiB at most)
	// can then be shown.
	Load func(recordID string) (Stored, error)
	// Older lists up to n deliveries stored before the one with this
	// record id, newest first, without bodies: moving past the oldest row
	// in listen mode pages through the history with it. nil: no paging.
	Older func(beforeRecordID string, n int) ([]event.Delivery, error)
	// NewToken is the token sail made for this listener (--token auto).
	// It is printed on stderr before the view starts, where the view then
	// hides it, so the listener's Try-it lines show it too. Never set it to
	// a token the user supplied.
	NewToken string
}

// EventMsg carries one event into the model; [Program.Emit] sends these.
type EventMsg struct{ Event event.Event }

// tab is one of the detail views of the selected delivery.
type tab int

const (
	tabOutput tab = iota
	tabPayload
	tabHeaders
	tabForward
	tabDiff
)

func (t tab) String() string {
	switch t {
	case tabOutput:
		return "Output"
	case tabPayload:
		return "Payload"
	case tabHeaders:
		return "Headers"
	case tabForward:
		return "Forward"
	case tabDiff:
		return "Diff"
	}
	return "?"
}

// delivery is one row: a received webhook POST without its body or
// headers (those are loaded when the row is selected), its forwards, or a
// gap standing for deliveries the view could not keep up with.
type delivery struct {
	seq      uint64         // identity within this view, from 1
	ver      int            // bumped when forwards or replaying change
	ev       event.Delivery // Body and Headers are always nil here
	forwards []event.Forwarded
	// replaying is true while a replay started with `r` is running.
	replaying bool
	// gap > 0 marks a row standing for that many deliveries folded away by
	// the queue ("+1,204 more since …").
	gap int
}

// maxForwards bounds the forwards kept per row (the newest).
const maxForwards = 8

// entry is one timeline row of run mode. Delivery rows leave ev nil and
// point at their row, so a flood of them allocates nothing here.
type entry struct {
	at       time.Time
	ev       event.Event
	delivery int  // absolute row index (see Model.row) for delivery and gap rows, else noSel
	replay   bool // a Forwarded row that came from `r`, not from --forward-to
}

// searchState is the `/` search over the selected payload.
type searchState struct {
	typing  bool   // the query is being edited on the footer line
	query   string // the active (or edited) query; "" means no search
	matches []match
	cur     int    // index into matches of the current match
	forSel  uint64 // the selection the matches were found in
}

// match is a case-insensitive hit in the pretty payload: line index and
// byte range within that line.
type match struct{ line, start, end int }

// flash is the one-line message shown after an action (save, copy, replay).
type flash struct {
	text string
	bad  bool
}

// detailKey identifies what the viewport currently shows, so the (possibly
// large) payload is only re-rendered when something it depends on changed.
type detailKey struct {
	rev, width  int
	sel         uint64 // the selected row's seq; 0 for none
	tab         tab
	query       string
	cur, nmatch int
	dark        bool
}

// Model is the Bubble Tea model of the TUI. Build it with [NewModel]; it is
// a value type like every Bubble Tea model and is driven by its Update.
// Copies share their delivery list, so use the latest copy only, as Bubble
// Tea does.
type Model struct {
	opts Options
	ctx  context.Context
	now  func() time.Time

	start      time.Time // when the TUI started; elapsed counts from here
	finishedAt time.Time // when Completed or Error arrived

	width, height int
	dark          bool
	styles        styles
	keys          keyMap
	help          help.Model
	spin          spinner.Model
	c             *shared

	ready     *event.Ready
	created   *event.Created
	status    string // latest status of the response
	completed *event.Completed
	failure   *event.Error
	verified  *event.Verified
	notice    *event.Notice // latest notice, shown on the footer in listen mode
	done      bool          // a Completed or Error event arrived

	timeline   []entry // = tl.items()
	tl         deque[entry]
	deliveries []delivery // = rows.items(): arrival order, the newest maxRows() (+ paged)
	rows       deque[delivery]
	base       int // absolute index of deliveries[0]; rows before it were dropped
	nextSeq    uint64
	paged      int      // rows loaded from the history, allowed on top of maxRows
	sel        int      // selected delivery, absolute index; noSel when none
	follow     bool     // keep the newest delivery selected as new ones arrive
	counts     counts   // every delivery seen, listed or not
	overflow   Overflow // what the queue folded away, in total
	noOlder    bool     // the history has nothing older than the oldest row

	tab    tab
	search searchState
	flash  flash

	rev int // bumped by every change the detail views may show

	quitting       bool
	quitBeforeDone bool
}

// NewModel returns the initial model for o.
func NewModel(o Options) Model {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	m := Model{
		opts:   o,
		ctx:    context.Background(),
		now:    now,
		start:  now(),
		width:  80,
		height: 24,
		dark:   true,
		keys:   newKeyMap(),
		help:   help.New(),
		spin:   spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		c:      &shared{vp: viewport.New(), shown: detailKey{width: -1}},
		sel:    noSel,
		follow: true,
	}
	m.applyStyles()
	m.sync()
	return m
}

func (m *Model) maxRows() int {
	if m.opts.MaxRows > 0 {
		return m.opts.MaxRows
	}
	return DefaultMaxRows
}

// row returns the row at absolute index i, or nil when it was dropped.
func (m *Model) row(i int) *delivery {
	if i < m.base || i >= m.base+len(m.deliveries) {
		return nil
	}
	return &m.deliveries[i-m.base]
}

// noSel is Model.sel without a selection. Absolute row indices can be
// negative: rows paged in from the history come before the first one.
const noSel = math.MinInt

// selSeq is the selected row's identity, 0 without one.
func (m *Model) selSeq() uint64 {
	if d := m.selected(); d != nil {
		return d.seq
	}
	return 0
}

// last is the absolute index of the newest row, -1 without rows.
func (m *Model) last() int { return m.base + len(m.deliveries) - 1 }

// appendRow adds a row, dropping the oldest beyond the bound.
func (m *Model) appendRow(d delivery) int {
	m.nextSeq++
	d.seq = m.nextSeq
	dropped := m.rows.push(d, m.maxRows()+m.paged)
	m.deliveries = m.rows.items()
	m.base += dropped
	m.paged = max(m.paged-dropped, 0)
	if m.sel != noSel && m.sel < m.base {
		m.sel = m.base
		m.follow = false
	}
	return m.last()
}

// clockMsg redraws listen mode's elapsed time once a second.
type clockMsg struct{}

func clockTick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return clockMsg{} })
}

// Init starts the spinner (run) or the clock (listen, which has nothing to
// wait for and shows a steady "listening") and, with colour, asks the
// terminal for its background so the palette can adapt to light or dark
// themes.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.spin.Tick}
	if m.opts.Mode == ModeListen {
		cmds = []tea.Cmd{clockTick()}
	}
	if !m.opts.NoColor {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

// selected returns the selected delivery, or nil.
func (m *Model) selected() *delivery {
	if m.sel == noSel {
		return nil
	}
	return m.row(m.sel)
}

// hasDiff reports whether the webhook payload was found to differ from GET,
// which is when the Diff tab exists.
func (m *Model) hasDiff() bool {
	if m.verified != nil && !m.verified.Matches {
		return true
	}
	if c := m.completed; c != nil && c.WebhookMatchesGet != nil && !*c.WebhookMatchesGet {
		return true
	}
	return false
}

// differences lists where the webhook payload and GET differ: with both
// values when the run compared them (Verified.Diffs), else the paths alone.
func (m *Model) differences() []event.Difference {
	if m.verified != nil && len(m.verified.Diffs) > 0 {
		return m.verified.Diffs
	}
	var paths []string
	switch {
	case m.verified != nil && len(m.verified.Differences) > 0:
		paths = m.verified.Differences
	case m.completed != nil:
		paths = m.completed.Differences
	}
	out := make([]event.Difference, len(paths))
	for i, p := range paths {
		out[i] = event.Difference{Path: p}
	}
	return out
}

// tabs returns the detail tabs that currently exist, in order.
func (m *Model) tabs() []tab {
	t := []tab{tabOutput, tabPayload, tabHeaders}
	if d := m.selected(); d != nil && len(d.forwards) > 0 {
		t = append(t, tabForward)
	}
	if m.hasDiff() {
		t = append(t, tabDiff)
	}
	return t
}

// detail returns what the detail tabs show for the selection (or, with
// none, the Completed payload), preparing it once per selection: the only
// place a body is loaded, pretty-printed or searched for its output text.
func (m *Model) detail() *detail {
	c := m.c
	var seq uint64
	d := m.selected()
	if d != nil {
		seq = d.seq
	}
	if c.det.valid && c.det.seq == seq {
		return &c.det
	}
	det := detail{valid: true, seq: seq}
	switch {
	case d != nil && d.gap > 0:
		det.err = "these deliveries arrived faster than the view could list them; they are counted above"
		if m.opts.Load != nil {
			det.err += " and stored in the history (sail history)"
		}
	case d != nil:
		st, ok := c.ring.get(seq)
		switch {
		case ok:
		case d.ev.RecordID != "" && m.opts.Load != nil:
			c.work.Loads++
			var err error
			if st, err = m.opts.Load(d.ev.RecordID); err != nil {
				det.err = "could not load this delivery from the history: " + err.Error()
			}
		case d.ev.RecordID == "":
			det.err = fmt.Sprintf("the payload is no longer in memory: without a history only the newest %d are kept (drop --no-history to keep them all)", ringBodies)
		default:
			det.err = "the payload is no longer in memory (sail history show " + d.ev.RecordID + ")"
		}
		det.Stored = st
	case m.completed != nil:
		det.Body = m.completed.Payload
	}
	if len(det.Body) > 0 {
		c.work.Details++
		det.pretty, det.isJSON = prettyPayload(det.Body)
		det.output = outputText(det.Body)
	}
	if d != nil && det.output == "" {
		det.output = clean(d.ev.Excerpt)
	}
	c.det = det
	return &c.det
}

// invalidateDetail drops the prepared detail, e.g. when a new Completed
// payload replaces the one shown.
func (m *Model) invalidateDetail() { m.c.det = detail{} }

// payloadData is the payload the detail tabs, `s` and `y` work on.
type payloadData struct {
	raw    []byte
	lines  []string // pretty-printed for display
	isJSON bool
	n      int // numbers the saved file: the delivery attempt
}

// file is what `s` writes and `y` copies: indented JSON, or the body as it
// came when it is not JSON.
func (p payloadData) file() []byte {
	if p.isJSON {
		return []byte(strings.Join(p.lines, "\n") + "\n")
	}
	return p.raw
}

// payload returns the selected delivery's payload or, when no webhook came
// (fallback poll), the final payload of the Completed event.
func (m *Model) payload() (payloadData, bool) {
	det := m.detail()
	n := 0
	if d := m.selected(); d != nil {
		n = d.ev.Attempt
		if n <= 0 {
			n = int(d.seq)
		}
	}
	return payloadData{raw: det.Body, lines: det.pretty, isJSON: det.isJSON, n: n}, len(det.Body) > 0
}

// responseID is the id used in saved file names.
func (m *Model) responseID() string {
	if d := m.selected(); d != nil && d.ev.ResponseID != "" {
		return d.ev.ResponseID
	}
	if m.created != nil && m.created.ID != "" {
		return m.created.ID
	}
	if m.completed != nil && m.completed.ID != "" {
		return m.completed.ID
	}
	return ""
}
